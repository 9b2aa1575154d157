#!/bin/sh
# Runs inside the clean bookworm chroot of scripts/check-deb.sh, as root,
# with the built packages in $FLOE_DEBS and examples/ in $FLOE_EXAMPLES:
# installs them with apt as a user would, then uses them as a user would:
# an example pair built with pkg-config (shared and static) and run, the
# floe tool, the manual, and the module's DKMS source, built by DKMS for the
# chroot's kernel headers; finally purges them and checks DKMS forgot it.
set -u
export DEBIAN_FRONTEND=noninteractive
export FLOE_BACKEND=shm FLOE_DOMAIN=deb$$ FLOE_CONFIG=/dev/null
debs=${FLOE_DEBS:?} examples=${FLOE_EXAMPLES:?} version=${FLOE_VERSION:?}
tmp=$(mktemp -d)
pkgs="libfloe0 libfloe-dev floe-tools floe-dkms python3-floe floe-gateway"

n=0 failed=0
ok() {	# STATUS DESC; returns STATUS, so that `ok ... || show-why` works
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
	return "$1"
}
show() { sed 's/^/# /' "$@"; }

echo "1..17"
# apt resolves the packages' dependencies from the archive (dbgsym left out)
# shellcheck disable=SC2046 # file names without spaces
apt-get install -y -q --no-install-recommends \
	$(for p in $pkgs; do ls "$debs/${p}_$version"_*.deb; done) >"$tmp/apt.log" 2>&1
ok $? "apt-get install ./libfloe0 ./libfloe-dev ./floe-tools ./floe-dkms ./python3-floe ./floe-gateway" || show "$tmp/apt.log"
notinst=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || notinst="$notinst $p"
done
[ -z "$notinst" ]
ok $? "all six installed${notinst:+ (not:$notinst)}"

# (pkg-config ends its output with a space)
flags=$(pkg-config --cflags --libs floe) && flags=${flags% } && [ "$flags" = "-lfloe" ]
ok $? "pkg-config --cflags --libs floe: '$flags' (headers and library in the system paths)"
# shellcheck disable=SC2046 # flags are words
{ cc -Wall -Werror -o "$tmp/pub" "$examples/pubsub_publisher.c" $(pkg-config --cflags --libs floe) &&
	cc -Wall -Werror -o "$tmp/sub" "$examples/pubsub_subscriber.c" $(pkg-config --cflags --libs floe); } \
	>"$tmp/cc.log" 2>&1
ok $? "the publisher and subscriber examples build against the packages" || show "$tmp/cc.log"
lib=$(ldd "$tmp/pub" | awk '$1 == "libfloe.so.0" { print $3 }')
[ "$(readlink -f "$lib")" = "/usr/lib/x86_64-linux-gnu/libfloe.so.$version" ]
ok $? "they link the packaged libfloe.so.0 ($lib)" || ldd "$tmp/pub" | show
# shellcheck disable=SC2046 # flags are words
cc -static -o "$tmp/pub-static" "$examples/pubsub_publisher.c" \
	$(pkg-config --cflags --libs --static floe) >"$tmp/cc.log" 2>&1 &&
	"$tmp/pub-static" 1 >"$tmp/static.log" 2>&1 && grep -q '^send sample 0 ' "$tmp/static.log"
ok $? "a static build (pkg-config --static, libfloe.a) runs" || show "$tmp/cc.log" "$tmp/static.log"

# the publisher runs long enough for the subscriber and the tool to see it
"$tmp/pub" 600 >"$tmp/pub.log" 2>&1 &
pub=$!
"$tmp/sub" 5 60 >"$tmp/sub.log" 2>&1
ok $? "the subscriber receives 5 samples from the publisher" || show "$tmp/pub.log" "$tmp/sub.log"
floe --version >"$tmp/version" 2>&1 && grep -qx "floe $version" "$tmp/version"
ok $? "floe --version: $(cat "$tmp/version")"
floe service list >"$tmp/list" 2>&1 && grep -q "My/Funk/ServiceName" "$tmp/list"
ok $? "floe service list shows the publisher's service" || show "$tmp/list"
# python3-floe: the packaged Python package, on the packaged library
(cd "$examples/python" && python3 subscriber.py 5) >"$tmp/py.log" 2>&1 &&
	[ "$(grep -c '^received: ' "$tmp/py.log")" -eq 5 ]
ok $? "python3-floe: a Python subscriber receives 5 samples from the C publisher" || show "$tmp/py.log"
[ -f /usr/include/floe.hpp ] && [ -f /usr/include/floe/pubsub.hpp ]
ok $? "libfloe-dev: the C++ headers"
floe-gateway --help >"$tmp/gw.log" 2>&1 && grep -q '^usage: floe-gateway' "$tmp/gw.log" &&
	[ -f /usr/share/man/man1/floe-gateway.1.gz ]
ok $? "floe-gateway runs (with Cyclone DDS from the archive), its manual page" || show "$tmp/gw.log"
kill "$pub" 2>/dev/null
wait "$pub" 2>/dev/null

[ -L /usr/share/man/man3/floe_publisher_loan.3.gz ] &&
	[ -f /usr/share/man/man3/floe_publisher.3.gz ] && [ -f /usr/share/man/man7/floe.7.gz ] &&
	[ -f /usr/share/man/man1/floe.1.gz ] && [ -f /usr/share/man/man5/floe.conf.5.gz ] &&
	[ -f /usr/share/bash-completion/completions/floe ] &&
	grep -qx 'KERNEL=="floe", MODE="0666"' /lib/udev/rules.d/60-floe.rules
ok $? "manual pages (1, 3 with a link per function, 5, 7), completion, udev rule"

# DKMS: the package's postinst registered the source and built it for the
# one kernel with headers here (the running kernel is the host's, without
# headers in the chroot); then it is built again, explicitly, for it
kver=$(ls /lib/modules)
[ "$(echo "$kver" | wc -l)" -eq 1 ] && [ -d "/lib/modules/$kver/build" ] || kver=""
dkms status floe >"$tmp/status" 2>&1 &&
	grep -q "^floe/$version, $kver, x86_64: installed" "$tmp/status"
ok $? "dkms status after install: floe/$version installed for $kver" || {
	show "$tmp/status"
	grep -i dkms "$tmp/apt.log" | show
}
{ [ -n "$kver" ] && dkms build --force -m floe -v "$version" -k "$kver" &&
	dkms install --force -m floe -v "$version" -k "$kver"; } >"$tmp/dkms.log" 2>&1
ok $? "dkms build and install floe/$version for $kver" || {
	show "$tmp/dkms.log"
	show "/var/lib/dkms/floe/$version/build/make.log" 2>/dev/null
}
ko=$(find "/lib/modules/$kver/updates/dkms" -name 'floe.ko*' 2>/dev/null | head -n1)
[ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$kver " &&
	dkms status floe | grep -q "^floe/$version, $kver, x86_64: installed"
ok $? "floe.ko is installed for $kver, vermagic $kver" || { dkms status; echo "$ko"; } | show

# shellcheck disable=SC2086 # a list of packages
apt-get purge -y -q $pkgs >"$tmp/purge.log" 2>&1 &&
	[ -z "$(dkms status floe 2>/dev/null)" ] && [ ! -e "/usr/src/floe-$version" ] &&
	[ -z "$(find /lib/modules -name 'floe.ko*')" ]
ok $? "apt-get purge: DKMS forgets floe, its source and module are gone" || show "$tmp/purge.log"

rm -rf "$tmp"
[ "$failed" -eq 0 ]
