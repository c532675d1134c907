#!/usr/bin/env bash
# Removes each shop predicate or shop binding of one store adapter's SQL in
# turn (scripts/shop_mutants.py finds them: `shop_id = ?` conditions of
# WHERE/ON clauses, shop joins, the claims' (shop_id, id) keys, the shops
# table keyed by the unit of work's shop, and the uses of the unit of work's
# shop in methods whose argument carries a ShopID) and runs the store
# conformance suite (porttest.TestStore) on that adapter. Prints one line
# per mutant, KILLED or SURVIVED, and the totals; exits non-zero if any
# mutant survived. The adapter's files are restored afterwards, also on
# Ctrl-C (trap).
#
#   scripts/mutate-shop-predicates.sh [sqlite|postgres] [FIRST [LAST]]
#
# sqlite (default): TestStoreConformance on a database file, -failfast; about
# 88 mutants, 10-25 s each on two cores.
# postgres: TestStoreConformance as the app role (row-level security on:
# it measures the suite plus RLS, which hides most predicate mutants) and
# TestStoreConformanceWithoutRLS (the owner disables RLS on every tenant
# table first: it measures what the suite sees of the adapter's own
# predicates, like the SQLite run). A mutant is KILLED if either fails;
# the line says which run killed it. Needs the test PostgreSQL (testinfra).
set -uo pipefail
cd "$(dirname "$0")/.."
adapter=${1:-sqlite}
case "$adapter" in
sqlite) runs=('TestStoreConformance$') ;;
postgres) runs=('TestStoreConformance$' 'TestStoreConformanceWithoutRLS$') ;;
*) echo "usage: $0 [sqlite|postgres] [FIRST [LAST]]" >&2; exit 2 ;;
esac
pkg=./adapters/$adapter/
mapfile -t mutants < <(python3 scripts/shop_mutants.py "$adapter" list)
first=${2:-1} last=${3:-${#mutants[@]}}
logs=$(mktemp -d)
file=""
restore() { if [ -n "$file" ] && [ -f "$logs/orig.go" ]; then cp "$logs/orig.go" "$file"; fi; }
trap 'restore; exit 130' INT TERM
trap 'restore' EXIT

for run in "${runs[@]}"; do
  if ! go test -count=1 -run "$run" "$pkg" >"$logs/baseline.log" 2>&1; then
    echo "the unmutated adapter fails $run; see $logs/baseline.log" >&2; exit 2
  fi
done

killed=0 survived=0 invalid=0
for m in "${mutants[@]:$((first-1)):$((last-first+1))}"; do
  IFS=$'\t' read -r n site kind orig <<<"$m"
  file=${site%%:*}
  cp "$file" "$logs/orig.go"
  python3 scripts/shop_mutants.py "$adapter" apply "$n"
  if ! go build -o /dev/null "$pkg" >"$logs/$n.log" 2>&1; then
    echo "INVALID   #$n $site $kind: $orig (does not build; see $logs/$n.log)"; invalid=$((invalid+1))
  else
    by=""
    for run in "${runs[@]}"; do
      if ! go test -count=1 -failfast -run "$run" "$pkg" >>"$logs/$n.log" 2>&1; then by=${run%\$}; break; fi
    done
    if [ -n "$by" ]; then
      echo "KILLED    #$n $site $kind: $orig  (by $by: $(grep -o -- '--- FAIL: [^ ]*' "$logs/$n.log" | tail -1 | cut -c11-))"
      killed=$((killed+1))
    else
      echo "SURVIVED  #$n $site $kind: $orig"; survived=$((survived+1))
    fi
  fi
  cp "$logs/orig.go" "$file"; file=""
done
echo "$adapter shop mutants: $((killed+survived+invalid)), killed: $killed, survived: $survived, invalid: $invalid"
[ "$survived" -eq 0 ] && [ "$invalid" -eq 0 ]
