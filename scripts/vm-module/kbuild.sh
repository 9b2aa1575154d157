#!/bin/sh
# Module provider of the VM tier: floe.ko built straight from kmod/ with
# Kbuild (scripts/kmod-build.sh), the quick loop while developing
# (VM_MODULE=kbuild).
# Usage: scripts/vm-module/kbuild.sh KVER OUTDIR
# Prints the path of floe.ko.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: $0 KVER OUTDIR" >&2; exit 2; }
dir=$("$here/../kmod-build.sh" "/lib/modules/$1/build" "$2")
echo "$dir/floe.ko"
