#!/usr/bin/env bash
# Removes each guard call in core/ one at a time (the call is replaced by
# one that returns the caller's scope unchecked, so the code still builds)
# and runs the tests that must notice: the no-scope test of core/tenancy,
# the permission matrix and the deny-all test of app/httpapi (SQLite).
# Prints one line per guard call, CAUGHT or SURVIVED, and the totals; exits
# non-zero if any mutation survived. Takes ~15 minutes on two cores.
set -uo pipefail
cd "$(dirname "$0")/.."
tests='TestPermissionMatrix|TestEveryRouteConsultsTheGuard|TestUseCasesFailClosedWithoutAScope|TestAttackMatrix/sqlite'
mapfile -t sites < <(grep -rn --include='*.go' -E '\.(Require|RequireAll)\(ctx|guardSelf\(ctx' core | grep -v '_test.go' | grep -v '^core/access/' | grep -v ':func ')
caught=0 survived=0
for site in "${sites[@]}"; do
  file=${site%%:*}; rest=${site#*:}; line=${rest%%:*}
  cp "$file" "$file.orig"
  python3 - "$file" "$line" <<'PY'
import re, sys
path, n = sys.argv[1], int(sys.argv[2])
lines = open(path).read().split('\n')
l = lines[n-1]
unchecked = 'func() (access.Scope, error) { sc, _ := access.From(ctx); return sc, nil }()'
l2 = re.sub(r's\.(policy|access)\.(Require|RequireAll)\(ctx(, [^)]*)?\)', unchecked, l)
l2 = re.sub(r's\.guardSelf\(ctx, \w+\)', 'error(nil)', l2)
assert l2 != l, l
lines[n-1] = l2
open(path, 'w').write('\n'.join(lines))
PY
  if go test -count=1 -run "$tests" ./core/tenancy/ ./app/httpapi/ >/dev/null 2>&1; then
    echo "SURVIVED  $file:$line  $(sed -n "${line}p" "$file.orig" | xargs)"; survived=$((survived+1))
  else
    echo "CAUGHT    $file:$line"; caught=$((caught+1))
  fi
  mv "$file.orig" "$file"
done
echo "guard calls: ${#sites[@]}, caught: $caught, survived: $survived"
[ "$survived" -eq 0 ]
