#!/bin/sh
# make install into a scratch DESTDIR (host only: needs make and a compiler):
# every file where it belongs; a manual page for every public function (man
# finds it under the prefix); the installed shared library exports exactly
# the header's functions (scripts/check-abi.sh); examples/pubsub_publisher.c
# built against the installed tree through `pkg-config --cflags --libs
# --static floe`, shared and static, and run; a C++ example built against
# the installed floe.hpp the same way, and the installed Python package
# imported from the prefix's Python path (finding the installed library by
# itself) and used; the module built from the installed DKMS source the way
# kmod/dkms.conf builds it (when kernel headers are installed).
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

echo "1..15"
make -C "$repo" -s install DESTDIR="$dest" PREFIX="$prefix" >"$tmp/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=$prefix" || sed 's/^/# /' "$tmp/install.log"

missing=""
for f in "$root/lib/libfloe.a" "$root/lib/libfloe.so.$version" \
	"$root/lib/libfloe.so.0" "$root/lib/libfloe.so" \
	"$root/lib/pkgconfig/floe.pc" "$root/include/floe.h" \
	"$root/include/floe.hpp" "$root/include/floe/pubsub.hpp" \
	"$root/include/linux/floe.h" "$root/bin/floe" \
	"$root/share/man/man1/floe.1" "$root/share/man/man7/floe.7" \
	"$root/share/man/man5/floe.conf.5" "$root/share/man/man3/floe_node.3" \
	"$root/bin/floe-gateway" "$root/share/man/man1/floe-gateway.1" \
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

# Every public function has a manual page under the prefix: its family's
# page, or a link page that man resolves to it.
nopage=""
for fn in $("$repo/scripts/header-functions.sh" | cut -d' ' -f1); do
	MANPATH=$root/share/man man -w "$fn" >/dev/null 2>&1 || nopage="$nopage $fn"
done
[ -z "$nopage" ]
ok $? "man finds a page for every function of floe.h${nopage:+ (none for:$nopage)}"
MANPATH=$root/share/man MANWIDTH=80 man floe_publisher_loan 2>/dev/null |
	grep -q 'floe_publisher_loan(floe_publisher \*pub, uint64_t len,'
ok $? "a function's link page renders its family's page (man floe_publisher_loan)"
# The shared library exports exactly the header's functions, versioned.
"$repo/scripts/check-abi.sh" "$root/lib/libfloe.so.$version" >"$tmp/abi.log" 2>&1 &&
	nm -D --defined-only "$root/lib/libfloe.so.$version" | grep -q ' floe_node_create@@FLOE_0\.1$'
ok $? "the installed libfloe.so exports the header's functions as FLOE_0.1" ||
	sed 's/^/# /' "$tmp/abi.log"

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

# shellcheck disable=SC2086 # flags are words
c++ -std=c++17 -Wall -Wextra -Werror -o "$tmp/cxx-pub" \
	"$repo/examples/cxx/pubsub_publisher.cpp" $flags &&
	LD_LIBRARY_PATH=$root/lib "$tmp/cxx-pub" 1 >"$tmp/pub.log" 2>&1 &&
	grep -q '^sent sample 0 ' "$tmp/pub.log"
ok $? "a C++ example builds against the installed floe.hpp and runs" ||
	sed 's/^/# /' "$tmp/pub.log"
pydir=$(find "$root/lib" -path '*-packages/floe/__init__.py' | head -n 1)
pydir=${pydir%/floe/__init__.py}
(cd "$tmp" && PYTHONPATH=$pydir PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c '
import floe, sys
assert floe.__file__.startswith(sys.argv[1]), floe.__file__
with floe.Node("installed") as node, node.event("install/py") as svc, \
        svc.listener() as lis, svc.notifier() as noti:
    noti.notify(3)
    assert lis.wait(5.0) == [3]
' "$pydir") >"$tmp/py.log" 2>&1
ok $? "the installed Python package imports and works (${pydir#"$dest"})" ||
	sed 's/^/# /' "$tmp/py.log"

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
