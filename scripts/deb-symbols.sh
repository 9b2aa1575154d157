#!/bin/sh
# debian/libfloe0.symbols from lib/floe.map, the version script: every name
# of a version node's global: list, versioned with that node, plus the node
# itself. A node FLOE_X.Y is first released in floe X.Y.0, the minimum
# version of its symbols (lib/floe.map: released nodes never change, new
# functions go in a new node).
# Usage: scripts/deb-symbols.sh           print the symbols file
#        scripts/deb-symbols.sh --check   fail, with the difference, when
#                                         debian/libfloe0.symbols is not it
#        scripts/deb-symbols.sh --write   rewrite debian/libfloe0.symbols
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
map=$repo/lib/floe.map
symbols=$repo/debian/libfloe0.symbols

generate() {
	echo "libfloe.so.0 libfloe0 #MINVER#"
	echo "* Build-Depends-Package: libfloe-dev"
	# strip comments, then walk the nodes: "NAME {" opens, "}" closes,
	# "global:"/"local:" switch sections, "name;" is a symbol
	sed -e 's|/\*.*\*/||g' -e '/\/\*/,/\*\//d' "$map" | awk '
		/^[[:space:]]*[A-Za-z_][A-Za-z0-9_.]*[[:space:]]*\{/ {
			node = $1; sub(/\{.*/, "", node); global = 1
			ver = node; sub(/^[A-Z_]*_/, "", ver)
			if (ver !~ /^[0-9]+\.[0-9]+$/) {
				print "deb-symbols: version node " node \
					" is not named PREFIX_X.Y" > "/dev/stderr"
				exit 1
			}
			ver = ver ".0"
			print " " node "@" node " " ver
			next
		}
		/^[[:space:]]*global:/ { global = 1; next }
		/^[[:space:]]*local:/ { global = 0; next }
		/^[[:space:]]*\}/ { node = ""; next }
		node != "" && global && /^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;/ {
			name = $1; sub(/;.*/, "", name)
			print " " name "@" node " " ver
		}' | LC_ALL=C sort
}

case "${1:-}" in
"") generate ;;
--write) generate >"$symbols" ;;
--check)
	tmp=$(mktemp "${TMPDIR:-/tmp}/floe-symbols.XXXXXX")
	trap 'rm -f "$tmp"' EXIT
	generate >"$tmp"
	if ! diff -u "$symbols" "$tmp" >&2; then
		echo "deb-symbols: debian/libfloe0.symbols is not lib/floe.map's: run scripts/deb-symbols.sh --write" >&2
		exit 1
	fi
	echo "deb-symbols: ok: $(grep -c '@' "$tmp") symbols; debian/libfloe0.symbols is lib/floe.map's" ;;
*) echo "usage: $0 [--check|--write]" >&2; exit 2 ;;
esac
