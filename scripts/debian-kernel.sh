#!/bin/sh
# Print the path of Debian's vmlinuz matching the installed linux-headers-amd64
# (e.g. 6.1.0-56-amd64). The image package is downloaded once with
# `apt-get download` and unpacked with `dpkg-deb -x` into a cache outside the
# repository; later runs reuse it.
# Usage: scripts/debian-kernel.sh [--version]
#   --version  print only the kernel version (e.g. 6.1.0-56-amd64)
set -eu

cache=${FLOE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/floe}

# linux-headers-amd64 depends on "linux-headers-<ver> (= <debver>)".
dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null) || {
	echo "debian-kernel: linux-headers-amd64 not installed (scripts/deps.sh vm)" >&2
	exit 1
}
ver=$(printf '%s\n' "$dep" | tr ',' '\n' |
	sed -n 's/^ *linux-headers-\([0-9][^ ]*-amd64\).*/\1/p' | head -n1)
[ -n "$ver" ] || { echo "debian-kernel: cannot parse headers dependency: $dep" >&2; exit 1; }

if [ "${1:-}" = "--version" ]; then
	echo "$ver"
	exit 0
fi

dir="$cache/debian-kernel-$ver"
vmlinuz="$dir/boot/vmlinuz-$ver"
if [ -f "$dir/.floe-done" ] && [ -f "$vmlinuz" ]; then
	echo "$vmlinuz"
	exit 0
fi

echo "debian-kernel: fetching linux-image-$ver into $dir (first run only)" >&2
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/debian-kernel-$ver.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
(
	cd "$tmp"
	# apt-get download needs no root; bound it so a dead mirror cannot hang us.
	timeout 600 apt-get download -q "linux-image-$ver" >&2 || {
		echo "debian-kernel: apt-get download linux-image-$ver failed" >&2
		echo "debian-kernel: (try 'apt-get update' first)" >&2
		exit 1
	}
)
deb=$(find "$tmp" -maxdepth 1 -name "linux-image-${ver}_*.deb" | head -n1)
[ -n "$deb" ] || { echo "debian-kernel: no .deb downloaded" >&2; exit 1; }
mkdir -p "$tmp/x"
# Only boot/ is needed; the modules tree is large but harmless, keep it whole
# so the config and System.map are at hand for debugging.
dpkg-deb -x "$deb" "$tmp/x"
[ -f "$tmp/x/boot/vmlinuz-$ver" ] || { echo "debian-kernel: vmlinuz-$ver not in $deb" >&2; exit 1; }
touch "$tmp/x/.floe-done"
rm -rf "$dir"
mv "$tmp/x" "$dir"
echo "$vmlinuz"
