#!/bin/sh
# make check-deb: the packages of make deb (in DEBS, default build/deb) as a
# user gets them. lintian: no error, no warning (debian/*.lintian-overrides
# say why for the few that do not apply). Then tests/deb/t_packages.sh in a
# clean Debian 12 chroot (scripts/deb-chroot.sh, cached): apt installs the
# packages, an example pair is built with pkg-config and run, the floe tool
# runs, DKMS builds and installs the module for the chroot's kernel headers,
# and purging leaves nothing behind. The cached chroot is never written to:
# the test runs on an overlay of it, in a private mount namespace, so every
# mount is gone when it ends; downloaded .debs are kept in the cache.
# Usage: scripts/check-deb.sh   (needs root)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
debs=${DEBS:-$repo/build/deb}
cache=${FLOE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/floe}
version=$(sed -n 's/^VERSION := //p' "$repo/Makefile")

if [ "${FLOE_CHECK_DEB_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "check-deb: needs root (chroot, mounts)" >&2; exit 1; }
	ls "$debs"/*.changes >/dev/null 2>&1 || { echo "check-deb: no packages in $debs (make deb)" >&2; exit 1; }
	echo "check-deb: lintian $debs/*.changes" >&2
	lintian --fail-on error,warning "$debs"/*.changes
	base=$(FLOE_CACHE=$cache "$repo/scripts/deb-chroot.sh")
	export FLOE_CHECK_DEB_NS=1 FLOE_DEB_BASE="$base"
	exec unshare --mount --propagation private "$0" "$@"
fi

# in the private mount namespace: an overlay of the cached chroot
work=$(mktemp -d "${TMPDIR:-/tmp}/floe-check-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root" "$work/upper" "$work/work" "$cache/deb-chroot-apt/partial"
mount -t overlay overlay \
	-o "lowerdir=$FLOE_DEB_BASE,upperdir=$work/upper,workdir=$work/work" "$root"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mount -t tmpfs tmpfs "$root/tmp"
mount --bind "$cache/deb-chroot-apt" "$root/var/cache/apt/archives"
mkdir -p "$root/tmp/debs" "$root/tmp/examples/python"
cp "$debs"/*.deb "$root/tmp/debs/"
cp "$repo"/examples/pubsub_publisher.c "$repo"/examples/pubsub_subscriber.c \
	"$repo"/examples/transmission_data.h "$root/tmp/examples/"
cp "$repo"/examples/python/subscriber.py \
	"$repo"/examples/python/transmission_data.py "$root/tmp/examples/python/"
cp "$repo/tests/deb/t_packages.sh" "$root/tmp/"

# the archive's package lists of the chroot's creation may be stale
chroot "$root" apt-get update -qq >"$work/update.log" 2>&1 || {
	cat "$work/update.log" >&2
	echo "check-deb: apt-get update in the chroot failed" >&2
	exit 1
}
status=0
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
	FLOE_DEBS=/tmp/debs FLOE_EXAMPLES=/tmp/examples FLOE_VERSION="$version" \
	sh /tmp/t_packages.sh || status=$?
# the overlay and every mount in the chroot go away with this namespace
umount -R "$root"
exit "$status"
