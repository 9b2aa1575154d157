#!/bin/sh
# Print the path of a clean Debian 12 (bookworm) chroot for make check-deb:
# debootstrap --variant=minbase from the Debian archive, plus only what a
# user building against floe and DKMS building its module need (a compiler,
# make, pkg-config, the default kernel line's headers). Made once into a
# cache outside the repository (like scripts/debian-kernel.sh's kernels)
# and never modified afterwards: check-deb works on an overlay of it.
# Usage: scripts/deb-chroot.sh   (needs root)
set -eu

cache=${FLOE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/floe}
mirror=${FLOE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# what the test itself uses; the packages' own dependencies are left to
# apt when they are installed, so that missing ones show
extra="gcc libc6-dev make pkg-config linux-headers-amd64"
dir=$cache/deb-chroot-bookworm

# the package list is recorded: a different list makes a new chroot
if [ -f "$dir/.floe-done" ] && [ "$(cat "$dir/.floe-done")" = "$extra" ]; then
	echo "$dir"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "deb-chroot: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "deb-chroot: debootstrap missing (scripts/deps.sh deb)" >&2; exit 1; }

echo "deb-chroot: debootstrap bookworm into $dir (first run only)" >&2
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/deb-chroot-bookworm.XXXXXX")
trap 'umount "$tmp/proc" 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
# bound, so that a dead mirror cannot hang us
timeout 1800 debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1 || {
	tail -n 30 "$tmp.log" >&2
	echo "deb-chroot: debootstrap failed (log: $tmp.log)" >&2
	exit 1
}
rm -f "$tmp.log"
mount -t proc proc "$tmp/proc"
# shellcheck disable=SC2086 # a list of packages
DEBIAN_FRONTEND=noninteractive timeout 1800 chroot "$tmp" \
	apt-get install -y -q --no-install-recommends $extra >"$tmp/extra.log" 2>&1 || {
	tail -n 30 "$tmp/extra.log" >&2
	echo "deb-chroot: apt-get install $extra in the chroot failed" >&2
	exit 1
}
umount "$tmp/proc"
chroot "$tmp" apt-get clean
rm -f "$tmp/extra.log"
echo "$extra" >"$tmp/.floe-done"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT INT TERM
echo "$dir"
