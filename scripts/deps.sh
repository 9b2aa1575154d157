#!/bin/sh
# Install the Debian packages floe needs to build and test, when missing.
# Usage: scripts/deps.sh [host|vm|kunit|checkpatch|bench|all]   (default: all)
set -eu
tier=${1:-all}

# floe-gateway: Eclipse Cyclone DDS (libddsc, idlc; ddsperf)
host_pkgs="build-essential pkg-config liburing-dev libinih-dev libjson-c-dev
	cyclonedds-dev cyclonedds-tools"
# make check-fuzz: clang with the libFuzzer and sanitizer runtimes
fuzz_pkgs="clang libclang-rt-dev"
# make check-vm: Debian's 6.1 (linux-headers-amd64) and 6.12 kernel lines,
# whose modules DKMS builds; xz-utils unpacks a module DKMS compressed
vm_pkgs="qemu-system-x86 linux-headers-amd64 linux-headers-6.12-amd64 dkms
	busybox-static cpio gzip xz-utils"
kunit_pkgs="linux-source-6.1 bc flex bison libelf-dev libssl-dev dwarves xz-utils"
# make check-checkpatch: the kernel's checkpatch.pl, from linux-source-6.1
checkpatch_pkgs="linux-source-6.1 xz-utils perl"
# scripts/bench.sh: peers (iceoryx's RouDi, C binding; ZeroMQ), gnuplot, jq
bench_pkgs="iceoryx libiceoryx-binding-c-dev libzmq3-dev gnuplot-nox jq"

case "$tier" in
host) want="$host_pkgs" ;;
vm) want="$host_pkgs $vm_pkgs" ;;
kunit) want="$host_pkgs $vm_pkgs $kunit_pkgs" ;;
checkpatch) want="$checkpatch_pkgs" ;;
bench) want="$host_pkgs $bench_pkgs" ;;
all) want="$host_pkgs $fuzz_pkgs $vm_pkgs $kunit_pkgs $checkpatch_pkgs $bench_pkgs" ;;
*) echo "deps.sh: unknown tier '$tier' (host|vm|kunit|checkpatch|bench|all)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
