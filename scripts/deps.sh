#!/bin/sh
# Install the Debian packages floe needs to build and test, when missing.
# Usage: scripts/deps.sh [host|vm|kunit|checkpatch|bench|deb|all]   (default: all)
set -eu
tier=${1:-all}

# man-db: scripts/check-man.sh renders the manual pages (with groff-base);
# zstd and zlib: the tool's MCAP recordings
host_pkgs="build-essential pkg-config liburing-dev libinih-dev libjson-c-dev
	man-db libzstd-dev zlib1g-dev"
# the C++ tests build with clang++ too; the Python package runs on Debian's
# python3 with cffi (ABI mode), its tests need pytest and NumPy
host_pkgs="$host_pkgs clang python3 python3-cffi python3-pytest python3-numpy"
# floe-gateway: Eclipse Cyclone DDS (libddsc, idlc; ddsperf)
host_pkgs="$host_pkgs cyclonedds-dev cyclonedds-tools"
# make check-fuzz: clang with the libFuzzer and sanitizer runtimes
fuzz_pkgs="clang libclang-rt-dev"
# make check-vm: Debian's 6.1 (linux-headers-amd64) and 6.12 kernel lines,
# whose modules DKMS builds; xz-utils unpacks a module DKMS compressed
vm_pkgs="qemu-system-x86 linux-headers-amd64 linux-headers-6.12-amd64 dkms
	busybox-static cpio gzip xz-utils"
kunit_pkgs="linux-source-6.1 bc flex bison libelf-dev libssl-dev dwarves xz-utils"
# make check-checkpatch: the kernel's checkpatch.pl, from linux-source-6.1
checkpatch_pkgs="linux-source-6.1 xz-utils perl"
# scripts/bench.sh: peers (iceoryx's RouDi, C binding; ZeroMQ), gnuplot, jq,
# valgrind (scripts/path-length.sh)
bench_pkgs="iceoryx libiceoryx-binding-c-dev libzmq3-dev gnuplot-nox jq valgrind"
# make deb, make check-deb: the packaging tools, lintian, and debootstrap for
# the clean bookworm chroot the packages are installed into
deb_pkgs="debhelper dh-dkms dpkg-dev fakeroot lintian debootstrap dkms"

# The CLI tests check recordings (floe record) with the official MCAP
# reader, @mcap/core from the npm registry, installed into $npm_dir (outside
# the tree; tests/cli/t_cli_record.sh looks there too): Node.js, npm, the zstd
# tool where Node.js cannot decompress by itself. Commands, not packages,
# are looked for: Node.js may come from elsewhere, with its own npm.
npm_dir=${FLOE_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/floe/npm}
npm_pkgs="@mcap/core@2.2.2"
for c in node:nodejs npm:npm zstd:zstd; do
	command -v "${c%%:*}" >/dev/null 2>&1 || host_pkgs="$host_pkgs ${c#*:}"
done

case "$tier" in
host) want="$host_pkgs" ;;
vm) want="$host_pkgs $vm_pkgs" ;;
kunit) want="$host_pkgs $vm_pkgs $kunit_pkgs" ;;
checkpatch) want="$checkpatch_pkgs" ;;
bench) want="$host_pkgs $bench_pkgs" ;;
deb) want="$host_pkgs $deb_pkgs" ;;
all) want="$host_pkgs $fuzz_pkgs $vm_pkgs $kunit_pkgs $checkpatch_pkgs $bench_pkgs $deb_pkgs" ;;
*) echo "deps.sh: unknown tier '$tier' (host|vm|kunit|checkpatch|bench|deb|all)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "deps.sh: installing:$missing" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >/dev/null || true
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

case "$tier" in
host | all)
	if [ ! -f "$npm_dir/node_modules/@mcap/core/package.json" ]; then
		echo "deps.sh: installing $npm_pkgs into $npm_dir" >&2
		mkdir -p "$npm_dir"
		# shellcheck disable=SC2086
		npm install --prefix "$npm_dir" --no-audit --no-fund \
			--loglevel=error $npm_pkgs >/dev/null
	fi ;;
esac
