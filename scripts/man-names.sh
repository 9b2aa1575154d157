#!/bin/sh
# Print "page name" for every name a manual page's NAME section lists
# (".SH NAME" then "name, name, ... \- summary"), one per line.
# Used by scripts/check-man.sh and make install (a link page per name).
# Usage: scripts/man-names.sh PAGE...
set -eu
for page in "$@"; do
	awk -v page="$page" '
		/^\.SH / { in_name = ($2 == "NAME"); next }
		in_name { text = text " " $0 }
		END {
			sub(/\\-.*/, "", text)
			gsub(/\\/, "", text)
			n = split(text, names, /[ ,]+/)
			for (i = 1; i <= n; i++)
				if (names[i] != "")
					print page, names[i]
		}' "$page"
done
