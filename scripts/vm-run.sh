#!/bin/bash
# Boot a kernel under qemu with a throw-away busybox initramfs, insmod
# modules, run test programs, and judge the run from the serial console.
#
# Usage: scripts/vm-run.sh -k KERNEL [options] [--] TEST...
#   -k FILE     kernel image (bzImage/vmlinuz)                     (required)
#   -m FILE.ko  module to insmod, in order; a failed insmod fails  (repeatable)
#   -r          rmmod the modules (reverse order) after the tests; must succeed
#   -b TEST     test run before the modules are loaded             (repeatable)
#   -a TEST     test run after the modules are removed             (repeatable)
#   -f FILE     extra file, copied to /files/<basename>            (repeatable)
#   -e VAR=VAL  environment variable exported to every test        (repeatable)
#   -t SECS     per-test timeout (default 120)
#   -T SECS     whole-VM timeout (default 180 + per-test timeout x tests)
#   -s SECS     console silence that counts as a hung guest (default
#               per-test timeout + 120); a lockup or RCU stall the guest's
#               kernel reports counts too. A hung guest's CPUs are sampled
#               and its backtraces dumped (scripts/vm-hung.py), then the VM
#               is killed: the run fails saying so.
#   -c ARGS     extra kernel command-line arguments
#   -l FILE     console log (default build/vm/console.log)
#   -v          echo the whole console, not only from /init on
# FLOE_VM_KVM=0/1 forces TCG/KVM (default: KVM iff /dev/kvm is usable and
# the CPU has VMX/SVM).
# TESTs are static binaries or busybox-sh scripts, copied to /tests/<basename>
# and run as root from /tmp; modules are at /modules/<basename> in the VM.
# Users: root, floe (1000:1000), floe2 (1001:1001).
#
# Exit 0 only if the VM printed DONE, no test or module step failed, every
# test passed, and the console shows no kernel splat.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

kernel="" rmmod=0 verbose=0 per_test=120 total="" silence="" cmdline="" log=""
modules=() before=() tests=() after=() files=() envs=()
usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

while getopts k:m:rb:a:f:e:t:T:s:c:l:vh opt; do
	case "$opt" in
	k) kernel=$OPTARG ;;
	m) modules+=("$OPTARG") ;;
	r) rmmod=1 ;;
	b) before+=("$OPTARG") ;;
	a) after+=("$OPTARG") ;;
	f) files+=("$OPTARG") ;;
	e) envs+=("$OPTARG") ;;
	t) per_test=$OPTARG ;;
	T) total=$OPTARG ;;
	s) silence=$OPTARG ;;
	c) cmdline=$OPTARG ;;
	l) log=$OPTARG ;;
	v) verbose=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
tests+=("$@")

[ -n "$kernel" ] || usage
[ -f "$kernel" ] || { echo "vm-run: kernel $kernel not found" >&2; exit 2; }
case "$per_test" in '' | *[!0-9]*) echo "vm-run: bad -t $per_test" >&2; exit 2 ;; esac
all_tests=("${before[@]}" "${tests[@]}" "${after[@]}")
[ -n "$total" ] || total=$((180 + per_test * (${#all_tests[@]} + 1)))
[ -n "$silence" ] || silence=$((per_test + 120))
case "$silence" in '' | *[!0-9]*) echo "vm-run: bad -s $silence" >&2; exit 2 ;; esac
[ -n "$log" ] || log="$repo/build/vm/console.log"
mkdir -p "$(dirname "$log")"

# busybox-static installs /bin/busybox; it must not need shared libraries.
busybox=/bin/busybox
[ -x "$busybox" ] || busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "vm-run: busybox missing (scripts/deps.sh vm)" >&2; exit 2; }
if ldd "$busybox" >/dev/null 2>&1; then
	echo "vm-run: $busybox is dynamically linked (install busybox-static)" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/floe-vm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
root="$tmp/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,tests,modules,files}
cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
# An initial console for /init; harmless if mknod is not permitted (the
# init script re-opens /dev/console from devtmpfs anyway).
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
floe:x:1000:1000:floe test user:/tmp:/bin/sh
floe2:x:1001:1001:floe second test user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
floe:x:1000:
floe2:x:1001:
nogroup:x:65534:
EOF

# Copy a list of files into a directory, refusing duplicate basenames.
# Usage: stage DIR LIST FILE...; writes the basenames, one a line, to LIST.
stage() {
	local dir=$1 list=$2 f b
	shift 2
	: >"$list"
	for f in "$@"; do
		[ -f "$f" ] || { echo "vm-run: $f not found" >&2; exit 2; }
		b=$(basename "$f")
		[ ! -e "$dir/$b" ] || { echo "vm-run: duplicate name $b" >&2; exit 2; }
		cp "$f" "$dir/$b"
		echo "$b" >>"$list"
	done
}
mkdir -p "$root/etc/floe-vm"
stage "$root/tests" "$root/etc/floe-vm/before" "${before[@]}"
# Tests of the three phases share /tests, so names must be unique overall.
stage "$root/tests" "$root/etc/floe-vm/tests" "${tests[@]}"
stage "$root/tests" "$root/etc/floe-vm/after" "${after[@]}"
stage "$root/modules" "$root/etc/floe-vm/modules" "${modules[@]}"
stage "$root/files" "$root/etc/floe-vm/files" "${files[@]}"
chmod 755 "$root"/tests/* 2>/dev/null || true

{
	for e in "${envs[@]}"; do
		case "$e" in
		[A-Za-z_]*=*) ;;
		*) echo "vm-run: bad -e $e (want VAR=VALUE)" >&2; exit 2 ;;
		esac
		var=${e%%=*} val=${e#*=}
		case "$var" in *[!A-Za-z0-9_]*) echo "vm-run: bad variable $var" >&2; exit 2 ;; esac
		# single-quote the value for sh
		printf "export %s='%s'\n" "$var" "$(printf '%s' "$val" | sed "s/'/'\\\\''/g")"
	done
	echo "FLOE_VM_TIMEOUT=$per_test"
	# the tests' own alarms stretch to it (tests/tap.h)
	echo "export FLOE_TEST_TIMEOUT=$per_test"
	echo "FLOE_VM_RMMOD=$rmmod"
} >"$root/etc/floe-vm/env"

cat >"$root/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
. /etc/floe-vm/env
echo "FLOE-VM: START $(uname -r)"

up() { cut -d' ' -f1 /proc/uptime; }
totals() {
	cat /sys/kernel/floe/nr_ports /sys/kernel/floe/nr_segments \
		/sys/kernel/floe/nr_holds 2>/dev/null | tr '\n' ' '
}
# Tests run one at a time, so the module's totals must come back to what
# they were before each (within 2 s: killed children may still be exiting).
leaked() {	# totals before -> prints "P ports, S segments, H holds" if not back
	set -- $1
	[ $# -eq 3 ] || return 0
	i=0
	while :; do
		set -- "$1" "$2" "$3" $(totals)
		[ "$4" -le "$1" ] && [ "$5" -le "$2" ] && [ "$6" -le "$3" ] && return 0
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			echo "$(($4 - $1)) ports, $(($5 - $2)) segments, $(($6 - $3)) holds"
			return 0
		fi
		sleep 0.1
	done
}
run() {	# name
	echo "FLOE-VM: RUN $1"
	t0=$(up)
	before=$(totals)
	(cd /tmp && exec timeout -s KILL "$FLOE_VM_TIMEOUT" "/tests/$1" </dev/null)
	rc=$?
	took=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.2fs", b - a }')
	leak=$(leaked "$before")
	if [ -n "$leak" ]; then
		echo "FLOE-VM: FAIL $1 rc=$rc ($took; left $leak in the module)"
		ls /sys/kernel/floe/segments /sys/kernel/floe/ports
	elif [ "$rc" -eq 0 ]; then
		echo "FLOE-VM: PASS $1 ($took)"
	elif [ "$rc" -eq 137 ]; then
		echo "FLOE-VM: FAIL $1 rc=$rc ($took; killed: timeout ${FLOE_VM_TIMEOUT}s?)"
	else
		echo "FLOE-VM: FAIL $1 rc=$rc ($took)"
	fi
}

for t in $(cat /etc/floe-vm/before); do run "$t"; done
modok=1
for m in $(cat /etc/floe-vm/modules); do
	echo "FLOE-VM: INSMOD $m"
	insmod "/modules/$m"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FLOE-VM: FAIL insmod:$m rc=$rc"
		modok=0
		break
	fi
done
if [ "$modok" = 1 ]; then
	for t in $(cat /etc/floe-vm/tests); do run "$t"; done
	if [ "$FLOE_VM_RMMOD" = 1 ]; then
		rev=""
		for m in $(cat /etc/floe-vm/modules); do rev="$m $rev"; done
		for m in $rev; do
			n=${m%.ko}
			echo "FLOE-VM: RMMOD $n"
			rmmod "$n"
			rc=$?
			[ "$rc" -eq 0 ] || echo "FLOE-VM: FAIL rmmod:$n rc=$rc"
		done
	fi
	for t in $(cat /etc/floe-vm/after); do run "$t"; done
else
	for t in $(cat /etc/floe-vm/tests /etc/floe-vm/after); do
		echo "FLOE-VM: FAIL $t rc=-1 (not run: insmod failed)"
	done
fi
echo "FLOE-VM: DONE"
sync
poweroff -f
EOF
chmod 755 "$root/init"

initrd="$tmp/initrd.gz"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$initrd"

# KVM only where it can work: /dev/kvm usable and the CPU has VMX/SVM. (A
# nested guest may expose /dev/kvm without them; qemu then aborts or hangs.)
# FLOE_VM_KVM=0/1 forces the choice.
accel=()
kvm=${FLOE_VM_KVM:-auto}
if [ "$kvm" = auto ]; then
	kvm=0
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then kvm=1; fi
fi
[ "$kvm" = 1 ] && accel=(-enable-kvm -cpu host)
append="console=ttyS0 panic=-1 sysrq_always_enabled $cmdline"

# A hung guest is killed rather than left to the whole-VM timeout: one
# whose console stays silent for $silence seconds (each test is killed in
# the guest after $per_test), or whose kernel reported a lockup or stall
# 30 s ago (that fails the run anyway; the 30 s let its dumps reach the
# console). Before the kill, where its CPUs are, from the monitor.
stall_re='soft lockup|rcu: INFO: .*stall|INFO: task .* blocked for more than'
watchdog() {
	local last=-1 quiet=0 stalled=0 size
	while sleep 5; do
		[ -e "$tmp/qemu.rc" ] || [ ! -d "$tmp" ] && return 0
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size quiet=0
		else
			quiet=$((quiet + 5))
		fi
		if [ "$stalled" -gt 0 ] || grep -qE "$stall_re" "$log"; then
			stalled=$((stalled + 5))
		fi
		if [ "$quiet" -ge "$silence" ]; then
			echo "no console output for ${silence}s" >"$tmp/hung"
		elif [ "$stalled" -gt 30 ]; then
			echo "its kernel reported a lockup or stall" >"$tmp/hung"
		else
			continue
		fi
		echo "vm-run: the guest is hung: $(cat "$tmp/hung")"
		python3 "$here/vm-hung.py" "$tmp/monitor.sock" ||
			echo "vm-run: could not ask the monitor"
		sleep 5
		kill -KILL "$(cat "$tmp/qemu.pid")" 2>/dev/null
		return 0
	done
}

echo "vm-run: booting $(basename "$kernel") ($([ "$kvm" = 1 ] && echo KVM || echo TCG)) with ${#modules[@]} module(s), ${#all_tests[@]} test(s), timeout ${total}s; console -> $log"
start=$(date +%s)
: >"$log"
watchdog &
watchdog_pid=$!
# -serial on stdio (-nographic), the monitor on a socket for the watchdog;
# stdin from /dev/null so qemu never waits on the terminal. The console is
# cleaned of CRs and logged in full; the terminal gets it from /init on (or
# everything with -v), plus splats.
{
	timeout -k 10 "$total" qemu-system-x86_64 -m 1024 -smp 2 -nographic -no-reboot \
		"${accel[@]}" -kernel "$kernel" -initrd "$initrd" -append "$append" \
		-monitor "unix:$tmp/monitor.sock,server=on,wait=off" \
		-pidfile "$tmp/qemu.pid" </dev/null 2>&1
	echo $? >"$tmp/qemu.rc"
} | sed -u 's/\r$//' | tee "$log" |
	if [ "$verbose" = 1 ]; then cat; else
		# shellcheck disable=SC2016 # sed's $, not the shell's
		sed -u -n -e '/FLOE-VM: START/,${p;d}' \
			-e '/BUG:\|WARNING:\|Oops\|Call Trace\|Kernel panic\|KASAN\|UBSAN/p'
	fi
kill "$watchdog_pid" 2>/dev/null || true
wait "$watchdog_pid" 2>/dev/null || true
elapsed=$(($(date +%s) - start))
qrc=$(cat "$tmp/qemu.rc" 2>/dev/null || echo 255)

fail=0
why() { echo "vm-run: FAIL: $*"; fail=1; }
if [ -e "$tmp/hung" ]; then
	why "the guest hung: $(cat "$tmp/hung") (above: where its CPUs were)"
else
	case "$qrc" in
	0) ;;
	124 | 137) why "VM timed out after ${total}s (qemu killed)" ;;
	*) why "qemu exited with rc=$qrc" ;;
	esac
fi
grep -q 'FLOE-VM: DONE' "$log" || why "no 'FLOE-VM: DONE' on the console"
grep 'FLOE-VM: FAIL' "$log" | sed 's/^.*FLOE-VM: /vm-run:   /' || true
grep -q 'FLOE-VM: FAIL' "$log" && why "a test or module step failed"
for t in "${all_tests[@]}"; do
	n=$(basename "$t")
	awk -v n="$n" 'index($0, "FLOE-VM: PASS ") {
		s = $0; sub(/.*FLOE-VM: PASS /, "", s); split(s, a, " ")
		if (a[1] == n) f = 1 } END { exit !f }' "$log" || why "no PASS for $n"
done
# Kernel splats. Our own marker lines are excluded (a test may be named
# after what it checks); kmemleak's boot banners are not reports, its
# "kmemleak: N new suspected memory leaks" and reports are.
splats=$(grep -v 'FLOE-VM: ' "$log" |
	grep -E 'BUG:|WARNING:|Oops|Call Trace|KASAN|UBSAN|INFO: possible|kmemleak:|unreferenced object|Kernel panic|general protection fault|INFO: task .* blocked|rcu.*stall' |
	grep -vE 'kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread)' || true)
if [ -n "$splats" ]; then
	printf '%s\n' "$splats" | head -20 | sed 's/^/vm-run:   console: /'
	why "kernel warnings/errors on the console"
fi

if [ "$fail" = 0 ]; then
	echo "vm-run: PASS (${#all_tests[@]} tests) in ${elapsed}s; log $log"
else
	echo "vm-run: FAILED in ${elapsed}s; log $log"
fi
exit "$fail"
