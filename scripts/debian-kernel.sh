#!/bin/sh
# Print the path of the vmlinuz of one of Debian 12's kernel lines, the
# version whose headers are installed:
#   6.1   linux-headers-amd64 -> linux-image-<ver>            (the default line)
#   6.12  linux-headers-6.12-amd64 -> linux-image-<ver>-unsigned
# The headers meta-package depends on the newest linux-headers-<ver> of its
# line that apt knew when it was installed (scripts/deps.sh vm). The image
# package is downloaded once with `apt-get download` and unpacked with
# `dpkg-deb -x` into a cache outside the repository; later runs reuse it.
# Usage: scripts/debian-kernel.sh [--version] [LINE]   (LINE default: 6.1)
#   --version  print only the kernel version (e.g. 6.1.0-57-amd64)
set -eu

cache=${FLOE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/floe}

only_version=0
if [ "${1:-}" = "--version" ]; then
	only_version=1
	shift
fi
line=${1:-6.1}
case "$line" in
6.1) meta=linux-headers-amd64 suffix="" ;;
6.12) meta=linux-headers-6.12-amd64 suffix=-unsigned ;;
*) echo "debian-kernel: unknown kernel line '$line' (6.1 or 6.12)" >&2; exit 2 ;;
esac

# The meta-package depends on "linux-headers-<ver> (= <debver>)".
dep=$(dpkg-query -W -f='${Depends}' "$meta" 2>/dev/null) || {
	echo "debian-kernel: $meta not installed (scripts/deps.sh vm)" >&2
	exit 1
}
ver=$(printf '%s\n' "$dep" | tr ',' '\n' |
	sed -n 's/^ *linux-headers-\([0-9][^ ]*-amd64\).*/\1/p' | head -n1)
[ -n "$ver" ] || { echo "debian-kernel: cannot parse $meta's dependency: $dep" >&2; exit 1; }
[ -d "/lib/modules/$ver/build" ] || {
	echo "debian-kernel: /lib/modules/$ver/build missing (linux-headers-$ver)" >&2
	exit 1
}

if [ "$only_version" = 1 ]; then
	echo "$ver"
	exit 0
fi

pkg=linux-image-$ver$suffix
dir="$cache/debian-kernel-$ver"
vmlinuz="$dir/boot/vmlinuz-$ver"
if [ -f "$dir/.floe-done" ] && [ -f "$vmlinuz" ]; then
	echo "$vmlinuz"
	exit 0
fi

echo "debian-kernel: fetching $pkg into $dir (first run only)" >&2
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/debian-kernel-$ver.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
(
	cd "$tmp"
	# apt-get download needs no root; bound it so a dead mirror cannot hang us.
	timeout 600 apt-get download -q "$pkg" >&2 || {
		echo "debian-kernel: apt-get download $pkg failed" >&2
		echo "debian-kernel: (try 'apt-get update' first)" >&2
		exit 1
	}
)
deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
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
