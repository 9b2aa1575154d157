#!/bin/sh
# The shared library's ABI is exactly the public header: the functions
# include/floe.h declares, the names lib/floe.map exports and the dynamic
# symbols libfloe.so defines must be one and the same set. Each mismatch is
# reported with what to add or remove where.
# Usage: scripts/check-abi.sh [path/to/libfloe.so]   (default build/libfloe.so)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
so=${1:-$repo/build/libfloe.so}
map=$repo/lib/floe.map
tmp=$(mktemp -d "${TMPDIR:-/tmp}/floe-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

[ -e "$so" ] || { echo "check-abi: $so not found (make lib)" >&2; exit 2; }

"$repo/scripts/header-functions.sh" >"$tmp/header.lines"
cut -d' ' -f1 "$tmp/header.lines" | LC_ALL=C sort >"$tmp/header"
# the names in the map's global: lists ("name;" lines; not the local "*;")
sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);[[:space:]]*$/\1/p' "$map" |
	LC_ALL=C sort >"$tmp/map.all"
uniq "$tmp/map.all" >"$tmp/map"
# defined dynamic symbols without their version, leaving out the version
# nodes themselves (absolute symbols named like FLOE_0.1)
nm -D --defined-only --format=posix "$so" |
	awk '$2 != "A" { sub(/@.*/, "", $1); print $1 }' | LC_ALL=C sort -u \
	>"$tmp/exported"

bad=0
say() { echo "check-abi: $*" >&2; bad=1; }
line_of() { awk -v f="$1" '$1 == f { print $2 }' "$tmp/header.lines"; }

for f in $(uniq -d "$tmp/map.all"); do
	say "lib/floe.map lists $f more than once: remove the duplicate line"
done
for f in $(LC_ALL=C comm -23 "$tmp/header" "$tmp/map"); do
	say "include/floe.h:$(line_of "$f") declares $f, but lib/floe.map does not export it: add the line '	$f;' to the FLOE_0.1 node of lib/floe.map (alphabetical order)"
done
for f in $(LC_ALL=C comm -13 "$tmp/header" "$tmp/map"); do
	say "lib/floe.map exports $f, which include/floe.h does not declare: remove it from lib/floe.map, or declare and document it in include/floe.h"
done
for f in $(LC_ALL=C comm -23 "$tmp/header" "$tmp/exported"); do
	grep -qx "$f" "$tmp/map" || continue # reported above
	say "include/floe.h:$(line_of "$f") declares $f, but $(basename "$so") does not define it: define it in lib/ with FLOE_EXPORT (and rebuild)"
done
for f in $(LC_ALL=C comm -13 "$tmp/header" "$tmp/exported"); do
	say "$(basename "$so") exports $f, which include/floe.h does not declare: declare it in include/floe.h and list it in lib/floe.map, or make it internal (no FLOE_EXPORT; not in lib/floe.map)"
done

if [ "$bad" -ne 0 ]; then
	echo "check-abi: FAILED: include/floe.h, lib/floe.map and $so disagree" >&2
	exit 1
fi
echo "check-abi: ok: $(wc -l <"$tmp/header") functions; include/floe.h, lib/floe.map and $(basename "$so") agree"
