#!/bin/sh
# make install into a scratch DESTDIR (host only: needs make and a compiler):
# every file where it belongs; examples/pubsub_publisher.c built against the
# installed tree through `pkg-config --cflags --libs --static floe`, shared
# and static, and run; the module built from the installed DKMS source the
# way kmod/dkms.conf builds it (when kernel headers are installed).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^VERSION := //p' "$repo/Makefile")
prefix=/usr/local
tmp=$(mktemp -d "${TMPDIR:-/tmp}/floe-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
root=$dest$prefix
export FLOE_DOMAIN="${FLOE_DOMAIN:-i$$}" FLOE_BACKEND="${FLOE_BACKEND:-shm}"
export FLOE_CONFIG=/dev/null

n=0 failed=0
ok() {	# STATUS DESC; returns STATUS, so that `ok ... || show-why` works
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
	return "$1"
}

echo "1..10"
make -C "$repo" -s install DESTDIR="$dest" PREFIX="$prefix" >"$tmp/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=$prefix" || sed 's/^/# /' "$tmp/install.log"

missing=""
for f in "$root/lib/libfloe.a" "$root/lib/libfloe.so.$version" \
	"$root/lib/libfloe.so.0" "$root/lib/libfloe.so" \
	"$root/lib/pkgconfig/floe.pc" "$root/include/floe.h" \
	"$root/include/linux/floe.h" "$root/bin/floe" \
	"$root/share/man/man1/floe.1" "$root/bin/floe-gateway" \
	"$root/share/man/man1/floe-gateway.1" \
	"$root/share/bash-completion/completions/floe" \
	"$dest/lib/udev/rules.d/60-floe.rules" \
	"$dest/usr/src/floe-$version/dkms.conf" \
	"$dest/usr/src/floe-$version/Kbuild" \
	"$dest/usr/src/floe-$version/floe_main.c" \
	"$dest/usr/src/floe-$version/uapi/linux/floe.h"; do
	[ -e "$f" ] || missing="$missing ${f#"$dest"}"
done
[ -z "$missing" ]
ok $? "every file installed${missing:+ (missing:$missing)}"
[ "$(readlink "$root/lib/libfloe.so")" = libfloe.so.0 ] &&
	[ "$(readlink "$root/lib/libfloe.so.0")" = "libfloe.so.$version" ]
ok $? "shared library symlinks"
grep -qx "prefix=$prefix" "$root/lib/pkgconfig/floe.pc"
ok $? "floe.pc names the prefix"
grep -qx 'KERNEL=="floe", MODE="0666"' "$dest/lib/udev/rules.d/60-floe.rules"
ok $? "udev rule: /dev/floe mode 0666"
"$root/bin/floe" --version | grep -qx "floe $version"
ok $? "the installed floe runs"

# The .pc file says /usr/local; the sysroot points pkg-config into DESTDIR.
flags=$(PKG_CONFIG_PATH=$root/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest \
	pkg-config --cflags --libs --static floe)
echo "# pkg-config: $flags"
# shellcheck disable=SC2086 # flags are words
cc -o "$tmp/pub" "$repo/examples/pubsub_publisher.c" $flags &&
	cc -static -o "$tmp/pub-static" "$repo/examples/pubsub_publisher.c" $flags
ok $? "an example builds against the installed tree (shared and static)"
LD_LIBRARY_PATH=$root/lib "$tmp/pub" 2 >"$tmp/pub.log" 2>&1 &&
	grep -q '^send sample 1 ' "$tmp/pub.log" &&
	LD_LIBRARY_PATH=$root/lib ldd "$tmp/pub" | grep -q "$root/lib/libfloe.so.0"
ok $? "it runs with the installed shared library" || sed 's/^/# /' "$tmp/pub.log"
"$tmp/pub-static" 1 >"$tmp/pub.log" 2>&1 && grep -q '^send sample 0 ' "$tmp/pub.log"
ok $? "the static build runs" || sed 's/^/# /' "$tmp/pub.log"

kdir=""
for d in /lib/modules/*/build; do [ -d "$d" ] && kdir=$d && break; done
src=$dest/usr/src/floe-$version
if [ -n "$kdir" ]; then
	# what kmod/dkms.conf's MAKE does, with the source as the build tree
	make -s -C "$kdir" M="$src" FLOE_UAPI="$src/uapi" modules >"$tmp/dkms.log" 2>&1 &&
		[ -f "$src/floe.ko" ]
	ok $? "the module builds from the DKMS source" || sed 's/^/# /' "$tmp/dkms.log"
else
	n=$((n + 1))
	echo "ok $n - the module builds from the DKMS source # SKIP no kernel headers"
fi
[ "$failed" -eq 0 ]
