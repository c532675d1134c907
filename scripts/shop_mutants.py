#!/usr/bin/env python3
"""Lists or applies the shop-predicate mutants of one store adapter.

Used by scripts/mutate-shop-predicates.sh; run from the module root.

  shop_mutants.py ADAPTER list      one line per mutant: N<TAB>file:line<TAB>kind<TAB>original text
  shop_mutants.py ADAPTER apply N   rewrites mutant N's file in place (the caller restores it)

A mutant removes ONE shop predicate or shop binding from the SQL the
adapter runs: the store written once (internal/sqlstore/*.go, shared by
both adapters) and the adapter's own non-test Go files
(adapters/ADAPTER/*.go: its fast paths), keeping the SQL valid and the
placeholders the same:

  predicate  `shop_id = ?` / `x.shop_id = $N` (or `shop_id IS NOT DISTINCT
             FROM ?`) in a WHERE or ON clause becomes
             `(shop_id = ? OR TRUE)`: the placeholder stays bound (and typed,
             on Postgres), the condition no longer filters.
  join       `a.shop_id = b.shop_id`, `s.id = b.shop_id`, or the row
             comparison `(a.shop_id, a.x) = (b.shop_id, b.x)` loses its shop
             part the same way.
  claimkey   a claim's `(shop_id, id) IN (SELECT shop_id, id ...)` key
             becomes `id IN (SELECT id ...)`.
  shopkey    a statement on the shops table keyed by the unit of work's shop
             (`... shops ... WHERE id = ?`, t.shop bound) loses its key.
  binding    in a method whose argument carries a ShopID field (ports
             structs documented "set by the store from the unit of work"),
             each use of the unit of work's shop (r.t.shop) is replaced by
             the caller-supplied ShopID when the caller set one: the store
             honours a shop from the caller. Uses after the method itself
             overwrote the argument's ShopID are left out (the caller's
             value is gone there: such a mutant would be equivalent).
"""
import glob
import re
import sys

PH = r'(?:\?\d*|\$\d+(?:::\w+)?)'
TRUE = {'sqlite': '1=1', 'postgres': 'TRUE'}

PATTERNS = [
    # Postgres' resolve inlines the (validated) shop as a literal.
    ('predicate', re.compile(r"(?<![\w.])(?:\w+\.)?shop_id = '` \+ \w+ \+ `'"), None),
    ('predicate', re.compile(r'(?<![\w.])(?:\w+\.)?shop_id = ' + PH + r'(?![\w])'), None),
    # The auth-mail outcomes fence on the mail's (nullable) shop.
    ('predicate', re.compile(r'(?<![\w.])shop_id IS NOT DISTINCT FROM (?:' + PH + r'|` \+ r\.cast\("\?", "uuid"\) \+ `)'), None),
    ('join', re.compile(r'\b\w+\.(?:shop_id|id) = \w+\.shop_id\b|\b\w+\.shop_id = \w+\.id\b'), None),
    ('join', re.compile(r'\((\w+)\.shop_id, (\w+\.\w+)\) = \((\w+)\.shop_id, (\w+\.\w+)\)'),
     lambda m, t: f'{m.group(2)} = {m.group(4)}'),
    ('claimkey', re.compile(r'\(shop_id, id\) IN \((\s*)SELECT shop_id, id FROM'),
     lambda m, t: f'id IN ({m.group(1)}SELECT id FROM'),
]

SHOPKEY = re.compile(r'\bshops\b.*?\bWHERE (id = ' + PH + r')')


def shop_types():
    """Names of the ports structs with a ShopID field."""
    names = set()
    for path in glob.glob('ports/*.go'):
        if path.endswith('_test.go'):
            continue
        src = open(path).read()
        for m in re.finditer(r'^type (\w+) struct \{\n(.*?)^\}', src, re.S | re.M):
            if re.search(r'^\s*ShopID\s+ShopID\b', m.group(2), re.M):
                names.add(m.group(1))
    return names


def in_comment(text, pos):
    start = text.rfind('\n', 0, pos) + 1
    return text[start:pos].lstrip().startswith('//')


def line_of(text, pos):
    return text.count('\n', 0, pos) + 1


def sites(adapter):
    types = shop_types()
    out = []
    paths = sorted(glob.glob('internal/sqlstore/*.go')) + sorted(glob.glob(f'adapters/{adapter}/*.go'))
    for path in paths:
        if path.endswith('_test.go'):
            continue
        # 1=1 is true on both databases; the adapters' own SQL keeps its own spelling.
        true = '1=1' if path.startswith('internal/') else TRUE[adapter]
        text = open(path).read()
        found = []
        for kind, rx, repl in PATTERNS:
            for m in rx.finditer(text):
                if in_comment(text, m.start()):
                    continue
                if kind == 'predicate' and re.search(r'\bSET\s+(?:\w+\s*=\s*[^,]+,\s*)*$', text[max(0, m.start() - 200):m.start()]):
                    continue  # an assignment (SET shop_id = ?), not a filter
                new = repl(m, true) if repl else f'({m.group(0)} OR {true})'
                found.append((m.start(), m.end(), kind, new))
        for line_m in re.finditer(r'^.*$', text, re.M):
            line = line_m.group(0)
            if 't.shop' not in line or line.lstrip().startswith('//'):
                continue
            for m in SHOPKEY.finditer(line):
                s = line_m.start() + m.start(1)
                found.append((s, s + len(m.group(1)), 'shopkey', f'({m.group(1)} OR {true})'))
        for fm in re.finditer(r'^func \(r \w+\) \w+\(ctx context\.Context, (\w+) ports\.(\w+)\)[^\n]*\{\n(.*?)^\}',
                              text, re.S | re.M):
            arg, typ = fm.group(1), fm.group(2)
            if typ not in types:
                continue
            body = fm.group(3)
            # Once the method sets arg.ShopID itself, the caller's value is
            # gone: later uses are not a binding a caller can steer.
            end = len(body)
            for lm in re.finditer(r'^(.*?)(?<![=!<>:])=(?!=)', body, re.M):
                if re.search(r'\b' + arg + r'\.ShopID\b', lm.group(1)):
                    end = body.find('\n', lm.end())
                    break
            for m in re.finditer(r'\br\.t\.shop\b', body[:end]):
                s = fm.start(3) + m.start()
                if in_comment(text, s):
                    continue
                new = (f'func() ports.ShopID {{ if !{arg}.ShopID.IsZero() {{ return {arg}.ShopID }}; '
                       f'return r.t.shop }}()')
                found.append((s, s + len('r.t.shop'), 'binding', new))
        # One mutant per site, even where two patterns overlap.
        found.sort()
        last_end = -1
        for start, end, kind, new in found:
            if start < last_end:
                continue
            last_end = end
            out.append((path, start, end, kind, new, text))
    return out


def main():
    adapter, cmd = sys.argv[1], sys.argv[2]
    all_sites = sites(adapter)
    if cmd == 'list':
        for i, (path, start, end, kind, new, text) in enumerate(all_sites, 1):
            snippet = ' '.join(text[start:end].split())
            print(f'{i}\t{path}:{line_of(text, start)}\t{kind}\t{snippet}')
    elif cmd == 'apply':
        path, start, end, kind, new, text = all_sites[int(sys.argv[3]) - 1]
        open(path, 'w').write(text[:start] + new + text[end:])
    else:
        sys.exit(f'unknown command {cmd}')


if __name__ == '__main__':
    main()
