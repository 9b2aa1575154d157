#!/bin/sh
# Run in the VM before the module is loaded: mount debugfs and forget what
# the boot leaked, so that kmemleak-check.sh reports only later leaks.
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
k=/sys/kernel/debug/kmemleak
[ -w $k ] || { echo "kmemleak-arm: $k missing (CONFIG_DEBUG_KMEMLEAK?)"; exit 1; }
echo scan >$k && echo clear >$k
