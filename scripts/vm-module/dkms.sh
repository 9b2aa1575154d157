#!/bin/sh
# Module provider of the VM tier: floe.ko as DKMS builds it for users. The
# DKMS source is installed by `make install-dkms` (what `make install`
# puts in DKMSDIR) into OUTDIR/root, then `dkms add`, `dkms build` and
# `dkms install` run against KVER's headers with private trees in OUTDIR
# (--dkmstree, --sourcetree, --installtree), so the system's DKMS state is
# never touched. DKMS signs the module with a throw-away key made in OUTDIR
# (mok_signing_key/mok_certificate), as it would with a MOK.
#
# With VM_DKMS_DEB=path/to/floe-dkms_*.deb the source is that package's
# instead (scripts/vm-module/deb.sh).
#
# Usage: scripts/vm-module/dkms.sh KVER OUTDIR
# Prints the path of the module DKMS installed (decompressed if DKMS
# compressed it like the kernel's own modules). A failed build prints
# DKMS's make.log; any compiler warning in it fails too.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -eq 2 ] || { echo "usage: $0 KVER OUTDIR" >&2; exit 2; }
kver=$1 out=$2
command -v dkms >/dev/null || { echo "vm-module/dkms: dkms missing (scripts/deps.sh vm)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -n "${VM_DKMS_DEB:-}" ]; then
	dpkg-deb -x "$VM_DKMS_DEB" "$out/root" || {
		echo "vm-module/dkms: cannot unpack $VM_DKMS_DEB" >&2
		exit 1
	}
elif ! make -s -C "$repo" install-dkms DESTDIR="$out/root" >"$out/install.log" 2>&1; then
	cat "$out/install.log" >&2
	echo "vm-module/dkms: make install-dkms failed" >&2
	exit 1
fi
conf=$(find "$out/root" -name dkms.conf | head -n1)
[ -n "$conf" ] || { echo "vm-module/dkms: no dkms.conf installed" >&2; exit 1; }
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$conf")
srctree=$(dirname "$(dirname "$conf")")
[ "$(dirname "$conf")" = "$srctree/$name-$version" ] || {
	echo "vm-module/dkms: $conf is not in $srctree/$name-$version (DKMSDIR vs PACKAGE_VERSION)" >&2
	exit 1
}

export mok_signing_key="$out/mok.key" mok_certificate="$out/mok.pub"
trees="--dkmstree $out/dkms --sourcetree $srctree --installtree $out/modules"
# dkms install refuses a kernel without a directory in the install tree
mkdir -p "$out/dkms" "$out/modules/$kver"
log=$out/dkms.log
echo "vm-module/dkms: dkms add/build/install $name/$version -k $kver" >&2
# shellcheck disable=SC2086 # $trees are words
if ! { dkms add $trees -m "$name" -v "$version" &&
	dkms build $trees -m "$name" -v "$version" -k "$kver" &&
	dkms install $trees -m "$name" -v "$version" -k "$kver" --no-depmod; } \
	>"$log" 2>&1; then
	cat "$log" >&2
	makelog=$out/dkms/$name/$version/build/make.log
	if [ -f "$makelog" ]; then
		echo "vm-module/dkms: DKMS's $makelog:" >&2
		cat "$makelog" >&2
	fi
	echo "vm-module/dkms: DKMS failed for $kver" >&2
	exit 1
fi
makelog=$out/dkms/$name/$version/$kver/x86_64/log/make.log
if grep -E 'warning:|WARNING:' "$makelog" >&2; then
	echo "vm-module/dkms: warnings in DKMS's $makelog" >&2
	exit 1
fi

ko=$(find "$out/modules/$kver" -name "$name.ko*" | head -n1)
[ -n "$ko" ] || { echo "vm-module/dkms: dkms installed no $name.ko* under $out/modules/$kver" >&2; exit 1; }
case "$ko" in
*.ko) ;;
*.ko.xz) xz -dc "$ko" >"$out/$name.ko" && ko=$out/$name.ko ;;
*.ko.gz) gzip -dc "$ko" >"$out/$name.ko" && ko=$out/$name.ko ;;
*.ko.zst) zstd -qdc "$ko" >"$out/$name.ko" && ko=$out/$name.ko ;;
*) echo "vm-module/dkms: unknown module file $ko" >&2; exit 1 ;;
esac
echo "$ko"
