#!/bin/sh
# Build (once) and print the path of the small debug kernel used by the KUnit
# tier. The tree is cached outside the repository, keyed by the config
# fragment and the kernel source version, so reruns cost nothing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
frag="$here/kunit/kunit.config"
src_tar=/usr/src/linux-source-6.1.tar.xz
cache=${FLOE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/floe}

[ -f "$src_tar" ] || { echo "kunit-kernel: $src_tar missing (scripts/deps.sh kunit)" >&2; exit 1; }
src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (cat "$frag"; echo "$src_ver") | sha256sum | cut -c1-16)
tree="$cache/kunit-$key"

if [ -f "$tree/.floe-built" ]; then
	echo "$tree"
	exit 0
fi

mkdir -p "$cache"
rm -rf "$tree.tmp"
mkdir -p "$tree.tmp"
echo "kunit-kernel: building debug kernel in $tree (first run only, ~10-20 min)" >&2
tar -xf "$src_tar" -C "$tree.tmp" --strip-components=1
cd "$tree.tmp"
make -s ARCH=x86_64 tinyconfig >/dev/null
./scripts/kconfig/merge_config.sh -m -O . .config "$frag" >/dev/null
make -s ARCH=x86_64 olddefconfig >/dev/null
# Every fragment option must have survived olddefconfig, or the tier would
# silently test a different kernel than it claims.
grep '^CONFIG_[A-Z0-9_]*=[ym]' "$frag" | while read -r line; do
	grep -qx "$line" .config || { echo "kunit-kernel: $line did not stick" >&2; exit 1; }
done
make -s ARCH=x86_64 -j"$(nproc)" bzImage modules_prepare >build.log 2>&1 ||
	{ tail -40 build.log >&2; exit 1; }
touch .floe-built
cd /
rm -rf "$tree"
mv "$tree.tmp" "$tree"
echo "$tree"
