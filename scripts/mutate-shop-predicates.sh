#!/usr/bin/env bash
# Removes each shop predicate or shop binding of the SQL one store adapter
# runs — the store written once (internal/sqlstore) and the adapter's own
# fast paths — in turn (scripts/shop_mutants.py finds them: `shop_id = ?` conditions of
# WHERE/ON clauses, shop joins, the claims' (shop_id, id) keys, the shops
# table keyed by the unit of work's shop, and the uses of the unit of work's
# shop in methods whose argument carries a ShopID) and runs the store
# conformance suite (porttest.TestStore) on that adapter. Prints one line
# per mutant, KILLED or SURVIVED, and the totals; exits non-zero if any
# mutant survived. The mutated file is restored afterwards, also on Ctrl-C
# (trap). Run it once per adapter: a mutant of the shared SQL must be
# killed on both stores.
#
#   scripts/mutate-shop-predicates.sh [sqlite|postgres] [FIRST [LAST]]
#
# MUTATE_QUICK=1 tries the tenant-boundary attacks first and the whole
# suite only on a mutant they miss (same verdicts, much sooner).
#
# sqlite (default): TestStoreConformance on a database file, -failfast; 87
# mutants, 12-40 s each on two cores (20-50 minutes, by the machine's load).
# postgres: TestStoreConformanceWithoutRLS (adapters/postgres, built with
# -tags mutation): the suite as the app role after the owner switched
# row-level security off on every table, so it measures what the suite sees
# of the adapter's own predicates, as on SQLite. Under RLS (the shipped
# configuration) the policies hide most predicate mutants: with
# MUTATE_WITH_RLS=1 each mutant also runs TestStoreConformance as the app
# role with RLS on, and the line says whether RLS alone caught it. Needs the
# test PostgreSQL (testinfra); 1-2 minutes per mutant.
set -uo pipefail
cd "$(dirname "$0")/.."
adapter=${1:-sqlite}
tags="" rls=""
# quick: the tenant-boundary attacks alone, tried first on each mutant
# (MUTATE_QUICK=1); a mutant they miss then runs the whole suite, so the
# verdicts are those of the whole suite, reached sooner.
case "$adapter" in
sqlite) run='TestStoreConformance$|TestAuditUnhashedIsPerShop$' quick='TestStoreConformance$/TenantBoundary' ;;
postgres) run='TestStoreConformanceWithoutRLS$' quick='TestStoreConformanceWithoutRLS$/TenantBoundary' tags=mutation
  if [ "${MUTATE_WITH_RLS:-}" = 1 ]; then rls='TestStoreConformance$'; fi ;;
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

# The baseline runs the suite once with coverage of the store written once
# and the adapter: a mutant on a line this adapter's suite never runs (a
# path the other adapter replaces with its own, e.g. Postgres' definer
# functions) cannot be killed here; it is reported NOT RUN, not counted as
# a survivor, and must be killed by the other adapter's run.
if ! go test -tags "$tags" -count=1 -run "$run" -coverpkg=./internal/sqlstore,"$pkg" -coverprofile="$logs/cover.out" "$pkg" >"$logs/baseline.log" 2>&1; then
  echo "the unmutated adapter fails $run; see $logs/baseline.log" >&2; exit 2
fi
for r in $rls; do
  if ! go test -tags "$tags" -count=1 -run "$r" "$pkg" >>"$logs/baseline.log" 2>&1; then
    echo "the unmutated adapter fails $r; see $logs/baseline.log" >&2; exit 2
  fi
done
# reached FILE:LINE: false only when blocks of the baseline's coverage span
# the line and none of them ran. A line no block spans (a package-level
# const holding SQL, run wherever it is used) counts as reached.
reached() {
  awk -v f="${1%%:*}" -v l="${1##*:}" -F'[:, ]' '
    NR > 1 { split($2, a, "."); split($3, b, ".");
      if (substr($1, length($1) - length(f) + 1) == f && a[1] <= l && l <= b[1]) { spanned = 1; if ($5 > 0) ran = 1 } }
    END { exit (spanned && !ran) ? 1 : 0 }' "$logs/cover.out"
}

# rlsnote runs the suite with RLS on (postgres, MUTATE_WITH_RLS=1) on the
# current mutant and says whether RLS alone catches it.
rlsnote() {
  [ -n "$rls" ] || return 0
  if go test -count=1 -failfast -run "$rls" "$pkg" >>"$logs/$n.rls.log" 2>&1; then echo "  [with RLS: hidden]"
  else echo "  [with RLS: caught]"; fi
}

killed=0 survived=0 invalid=0 notrun=0
for m in "${mutants[@]:$((first-1)):$((last-first+1))}"; do
  IFS=$'\t' read -r n site kind orig <<<"$m"
  if ! reached "$site"; then
    echo "NOT RUN   #$n $site $kind: $orig  (no test of this adapter runs this line)"; notrun=$((notrun+1)); continue
  fi
  file=${site%%:*}
  cp "$file" "$logs/orig.go"
  python3 scripts/shop_mutants.py "$adapter" apply "$n"
  if ! go build -o /dev/null "$pkg" >"$logs/$n.log" 2>&1; then
    echo "INVALID   #$n $site $kind: $orig (does not build; see $logs/$n.log)"; invalid=$((invalid+1))
  elif [ "${MUTATE_QUICK:-}" = 1 ] && ! go test -tags "$tags" -count=1 -failfast -run "$quick" "$pkg" >>"$logs/$n.log" 2>&1; then
    echo "KILLED    #$n $site $kind: $orig  (by $(grep -o -- '--- FAIL: [^ ]*' "$logs/$n.log" | tail -1 | cut -c11-))$(rlsnote)"
    killed=$((killed+1))
  elif ! go test -tags "$tags" -count=1 -failfast -run "$run" "$pkg" >>"$logs/$n.log" 2>&1; then
    echo "KILLED    #$n $site $kind: $orig  (by $(grep -o -- '--- FAIL: [^ ]*' "$logs/$n.log" | tail -1 | cut -c11-))$(rlsnote)"
    killed=$((killed+1))
  else
    echo "SURVIVED  #$n $site $kind: $orig$(rlsnote)"; survived=$((survived+1))
  fi
  cp "$logs/orig.go" "$file"; file=""
done
echo "$adapter shop mutants: $((killed+survived+invalid+notrun)), killed: $killed, survived: $survived, invalid: $invalid, not run by $adapter: $notrun"
[ "$survived" -eq 0 ] && [ "$invalid" -eq 0 ]
