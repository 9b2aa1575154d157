#!/bin/sh
# Module provider of the VM tier: floe.ko from the floe-dkms package of
# make deb (build/deb, or VM_DEBS), built by DKMS exactly as dkms.sh builds
# make install's source, so the VM loads and tests what the package ships.
# Usage: scripts/vm-module/deb.sh KVER OUTDIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's/^VERSION := //p' "$repo/Makefile")
deb=${VM_DEBS:-$repo/build/deb}/floe-dkms_${version}_all.deb
[ -f "$deb" ] || { echo "vm-module/deb: $deb missing (make deb)" >&2; exit 1; }
VM_DKMS_DEB=$deb exec "$here/dkms.sh" "$@"
