#!/bin/sh
# make deb: the Debian packages (debian/) built with dpkg-buildpackage -us -uc
# -b from a copy of the source in OUT/src, so the tree itself is never
# written to; the .debs, .buildinfo and .changes land in OUT.
# Usage: scripts/deb-build.sh [OUT]   (default build/deb)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build/deb}

rm -rf "$out"
mkdir -p "$out/src"
out=$(cd "$out" && pwd)
# the source as committed plus uncommitted work, without build output;
# outside a git checkout, everything but build/
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$repo" ls-files -z --cached --others --exclude-standard |
		(cd "$repo" && xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$out/src"
else
	tar -C "$repo" -cf - --exclude=./build . | tar -xf - -C "$out/src"
fi
cd "$out/src"
echo "deb-build: dpkg-buildpackage -us -uc -b in $out/src (log: $out/build.log)" >&2
if ! dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1; then
	tail -n 60 "$out/build.log" >&2
	echo "deb-build: dpkg-buildpackage failed (whole log: $out/build.log)" >&2
	exit 1
fi
ls "$out"/*.deb
