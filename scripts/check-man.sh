#!/bin/sh
# The manual pages (docs/floe.1, docs/floe.7, docs/man3/*.3, docs/man5/*.5):
#  - each renders with man-db (man --warnings=w -l, at MANWIDTH=80) without
#    a single groff warning, and its .TH names the file;
#  - every function include/floe.h declares is listed in the NAME section of
#    a page in docs/man3 and has its prototype in that page's SYNOPSIS, and
#    no page lists a function the header does not declare;
#  - every error code of enum floe_error is described in floe_strerror(3).
# Each failure says what to add or fix where.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/floe-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
command -v man >/dev/null ||
	{ echo "check-man: man not found (scripts/deps.sh host installs man-db)" >&2; exit 2; }

bad=0
say() { echo "check-man: $*" >&2; bad=1; }

pages=""
for p in docs/floe.1 docs/floe.7 docs/man3/*.3 docs/man5/*.5; do
	[ -e "$p" ] && pages="$pages $p"
done
for p in $pages; do
	base=$(basename "$p")
	name=${base%.*} section=${base##*.}
	th=$(sed -n 's/^\.TH \([^ ]*\) \([^ ]*\).*/\1 \2/p' "$p" | head -n 1)
	[ "$(echo "$th" | tr '[:upper:]' '[:lower:]')" = "$name $section" ] ||
		say "$p: its .TH line must start '.TH $name $section' (has '.TH $th')"
	if ! MANWIDTH=80 man --warnings=w -l "$p" >"$tmp/out" 2>"$tmp/err"; then
		say "$p: man -l failed:"; sed 's/^/	/' "$tmp/err" >&2
	elif [ -s "$tmp/err" ]; then
		say "$p: groff warnings (fix the macros at these lines):"
		sed 's/^/	/' "$tmp/err" >&2
	elif [ ! -s "$tmp/out" ]; then
		say "$p: renders to nothing"
	fi
done

# the API: every declared function in some page's NAME and SYNOPSIS
"$repo/scripts/header-functions.sh" >"$tmp/header"
man3=""
for p in docs/man3/*.3; do [ -e "$p" ] && man3="$man3 $p"; done
# shellcheck disable=SC2086 # page names are words
"$repo/scripts/man-names.sh" $man3 >"$tmp/names"

synopsis() {	# page -> its SYNOPSIS section
	awk '/^\.SH / { in_syn = ($2 == "SYNOPSIS"); next } in_syn' "$1"
}

while read -r page fn; do
	grep -q "^$fn " "$tmp/header" ||
		say "$page lists $fn in NAME, which include/floe.h does not declare: remove it from the page (NAME and SYNOPSIS)"
done <"$tmp/names"

while read -r fn line; do
	page=$(awk -v f="$fn" '$2 == f { print $1; exit }' "$tmp/names")
	if [ -z "$page" ]; then
		# suggest the family page whose name is the longest prefix
		hint=$(for p in $man3; do
			b=$(basename "$p" .3)
			case "$fn" in "$b"_*) echo "${#b} $p" ;; esac
		done | sort -n | tail -n 1 | cut -d' ' -f2)
		[ -n "$hint" ] || hint="the page of its family in docs/man3"
		say "include/floe.h:$line declares $fn, but no page in docs/man3 documents it: add '$fn' to the NAME line of $hint and its prototype to that page's SYNOPSIS, and describe it (arguments, return value, errors)"
	elif ! synopsis "$page" | grep -q "$fn("; then
		say "$page lists $fn in NAME but its SYNOPSIS has no prototype '$fn(': add it (as declared at include/floe.h:$line)"
	fi
done <"$tmp/header"

# every error code is described where floe_strerror(3) lists them
grep -n '^[[:space:]]*FLOE_E_[A-Z_]* = ' include/floe.h |
	sed 's/^\([0-9]*\):[[:space:]]*\(FLOE_E_[A-Z_]*\) .*/\2 \1/' >"$tmp/errors"
while read -r code line; do
	grep -q "^\.BR* $code " docs/man3/floe_strerror.3 2>/dev/null ||
		say "include/floe.h:$line defines $code, but docs/man3/floe_strerror.3 does not describe it: add a '.TP' entry for it under ERRORS there"
done <"$tmp/errors"

if [ "$bad" -ne 0 ]; then
	echo "check-man: FAILED" >&2
	exit 1
fi
echo "check-man: ok: $(echo "$pages" | wc -w) pages render without warnings; all $(wc -l <"$tmp/header") functions of include/floe.h documented"
