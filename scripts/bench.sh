#!/bin/bash
# floe's benchmarks in one go, beside the raw limits and the peers.
#
#   scripts/bench.sh [--quick] [--out DIR]
#
# Installs what is missing (scripts/deps.sh bench), builds the benchmark
# programs into $O (default build/), starts iox-roudi for the iceoryx peer
# (and stops it), then runs, each pinned to two CPUs by itself:
#   raw limits  memcpy_bandwidth; the cache-line ping-pong (in
#               pubsub_pingpong) and the futex ping-pong (in event_wakeup)
#   floe        pubsub_pingpong, event_wakeup, waitset_wakeup, scale, and
#               request_response / blackboard when they are built; the
#               ping-pong through the C++ API (cxx_pingpong, row floe-cxx)
#               and the Python package (bench/python/pingpong.py, row
#               floe-python); the path length of a message, counted by
#               valgrind's lackey (scripts/path-length.sh, path_length.txt)
#   peers       bench/peers/kernel_ipc (Unix stream and datagram sockets,
#               pipe, POSIX mq), zeromq (ipc://), iceoryx (C binding)
#   gateway     floe-gateway beside Cyclone DDS alone between two network
#               namespaces (scripts/bench-gateway.sh; root)
#   at the end  the cache-line ping-pong once more (raw_cacheline_end)
# Between two programs the raw cache-line ping-pong is measured again (a
# probe, in raw_line.txt with every other raw p50 of the run, in the order
# they ran): any two more than 2x apart say that the machine changed
# during the run (in results.md's notes).
# Results go to bench/results/<UTC time>/ (bench/results/latest links the
# newest): every program's JSON (<program>.json) and table (<program>.txt),
# its rows' latency distributions (cdf/<program>/*.cdf, see bench.h), all
# rows in all.json, results.md (tables), latency_vs_payload.png,
# latency_distribution.png, scale.png, machine.txt.
#
# --quick: every program runs briefly, only to prove that it still works
# (speed is not judged: machines here are noisy); results then go to
# $O/bench-quick/ unless --out says otherwise. Exit status: non-zero if a
# program failed or a result file is missing.
set -u
cd "$(dirname "$0")/.."

quick=""
out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=--quick ;;
	--out) out=$2; shift ;;
	-h|--help) sed -n '2,34p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
O=${O:-build}

scripts/deps.sh bench || exit 1
make -s O="$O" -j2 lib benches peers >/dev/null || exit 1

if [ -z "$out" ]; then
	if [ -n "$quick" ]; then
		out=$O/bench-quick
	else
		out=bench/results/$(date -u +%Y%m%d-%H%M%S)
	fi
fi
rm -rf "$out"
mkdir -p "$out"
bin=$O/bench
failed=0
notes=$out/notes.txt
: >"$notes"

# ---- the machine --------------------------------------------------------
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "cpus: $(nproc) ($(nproc --all) online)"
	echo "kernel: $(uname -srm)"
	echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "floe: $(git describe --always --dirty 2>/dev/null || echo unknown)"
	if [ -e /dev/floe ]; then
		echo "backend: kmod (/dev/floe present)"
	else
		echo "backend: shm (no /dev/floe: module not loaded)"
	fi
	echo "mode: ${quick:-full}"
} >"$out/machine.txt"

# ---- iox-roudi for the iceoryx peer ----------------------------------------
roudi_pid=""
stop_roudi() {
	if [ -n "$roudi_pid" ]; then
		# SIGINT: RouDi removes its shared memory (SIGTERM may not)
		kill -INT "$roudi_pid" 2>/dev/null
		wait "$roudi_pid" 2>/dev/null ||
			echo "iceoryx: iox-roudi exited with status $?" \
				"(see roudi.log)" >>"$notes"
		roudi_pid=""
	fi
}
trap stop_roudi EXIT
trap 'exit 130' INT TERM
start_roudi() {
	if pgrep -x iox-roudi >/dev/null; then
		echo "iceoryx: an iox-roudi already runs: using it (its" \
			"memory pools may not hold every size)" >>"$notes"
		return 0
	fi
	iox-roudi -c bench/peers/roudi.toml -l warning \
		>"$out/roudi.log" 2>&1 &
	roudi_pid=$!
	for _ in $(seq 100); do
		grep -q "RouDi is ready" "$out/roudi.log" 2>/dev/null &&
			return 0
		kill -0 "$roudi_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "iceoryx: iox-roudi did not start (see roudi.log)" >>"$notes"
	stop_roudi
	return 1
}

# ---- the raw line through the run -----------------------------------------
# raw_line.txt: every raw cache-line p50 measured, "p50 where", in the order
# they ran. This VM can move the raw line 3x from one program to the next
# and back: the rows at the start, beside request-response and at the end
# alone missed a slow stretch in between.
raw_line_txt=$out/raw_line.txt
: >"$raw_line_txt"
raw_p50() {	# JSON file → the p50 of its raw-cacheline row, or nothing
	jq -r '[.[]? | select(.system == "raw-cacheline") | .p50_ns][0] //
		empty' "$1" 2>/dev/null
}
# probe AFTER: the raw line again, after program AFTER (its floe and
# raw-zerocopy rows are dropped)
probe() {
	local p50
	"$bin/pubsub_pingpong" --json --sizes 8 --iterations 20000 \
		>"$out/probe.json" 2>/dev/null &&
		p50=$(raw_p50 "$out/probe.json") &&
		[ -n "$p50" ] && echo "$p50 after $1" >>"$raw_line_txt"
	rm -f "$out/probe.json"
}

# ---- running one program --------------------------------------------------
# run NAME PROGRAM ARGS...: JSON to NAME.json, table and errors to NAME.txt,
# the rows' distributions to cdf/NAME/ (a directory each: request_response
# runs pubsub_pingpong again, whose rows have the same names); then a probe
run() {
	local name=$1 prog=$2
	shift 2
	printf '  %-18s' "$name"
	if [ ! -x "$prog" ]; then
		echo "not built"
		echo "$name: not built ($prog missing), skipped" >>"$notes"
		return 0
	fi
	local t0=$SECONDS
	mkdir -p "$out/cdf/$name"
	if BENCH_CDF_DIR="$out/cdf/$name" "$prog" --json "$@" \
		>"$out/$name.json" 2>"$out/$name.txt" &&
		jq -e 'type == "array"' "$out/$name.json" >/dev/null 2>&1; then
		echo "ok ($((SECONDS - t0)) s)"
	else
		echo "FAILED (see $out/$name.txt)"
		echo "$name: FAILED" >>"$notes"
		failed=1
	fi
	# what a transport could not carry, said by the program itself
	sed -n 's/^# \(.* cannot carry .*\)$/\1/p' "$out/$name.txt" >>"$notes"
	local p50
	p50=$(raw_p50 "$out/$name.json")
	[ -z "$p50" ] || echo "$p50 in $name" >>"$raw_line_txt"
	[ "$name" = raw_cacheline_end ] || probe "$name"
}

sizes=()
[ -n "$quick" ] && sizes=(--sizes 8,64K,1M)
echo "bench: ${quick:-full} run, results in $out/"
run memcpy_bandwidth "$bin/memcpy_bandwidth" $quick
run pubsub_pingpong "$bin/pubsub_pingpong" $quick "${sizes[@]}"
run event_wakeup "$bin/event_wakeup" $quick
run waitset_wakeup "$bin/waitset_wakeup" $quick
run request_response "$bin/request_response" $quick
run blackboard "$bin/blackboard" $quick
run scale "$bin/scale" $quick
# counted, not timed: the same on any machine state
printf '  %-18s' path_length
if scripts/path-length.sh "$bin/path_length" >"$out/path_length.txt" \
	2>"$out/path_length.err"; then
	echo ok
else
	echo "FAILED (see $out/path_length.err)"
	echo "path_length: FAILED" >>"$notes"
	failed=1
fi
run cxx_pingpong "$bin/cxx_pingpong" $quick "${sizes[@]}"
# the Python package from the source tree, over the library just built
case "$O" in /*) lib_dir=$O ;; *) lib_dir=$PWD/$O ;; esac
FLOE_LIBRARY=$lib_dir/libfloe.so.0 PYTHONPATH=$PWD/bindings/python \
	PYTHONDONTWRITEBYTECODE=1 \
	run python_pingpong bench/python/pingpong.py $quick "${sizes[@]}"
run kernel_ipc "$bin/peers/kernel_ipc" $quick
run zeromq "$bin/peers/zeromq" $quick
if start_roudi; then
	run iceoryx "$bin/peers/iceoryx" $quick
	stop_roudi
else
	echo "  iceoryx            FAILED (iox-roudi did not start)"
	failed=1
fi

# Across hosts: floe-gateway beside Cyclone DDS alone (root: network
# namespaces; its rows in gateway_floe.json and gateway_dds.json)
O="$O" scripts/bench-gateway.sh "$out" $quick || failed=1
probe gateway

# The raw limit once more, last: a stretch of slow rows in the middle of
# a run (another load, a CPU frequency change) shows here and not in the
# raw row at the start. pubsub_pingpong also runs floe at 8 B: only the
# raw row is kept, as pattern pingpong-end (out of the ping-pong table).
end=raw_cacheline_end
run $end "$bin/pubsub_pingpong" $quick --sizes 8
if jq -e 'type == "array"' "$out/$end.json" >/dev/null 2>&1; then
	jq '[.[] | select(.system == "raw-cacheline") |
		.pattern = "pingpong-end"]' "$out/$end.json" >"$out/$end.tmp"
	mv "$out/$end.tmp" "$out/$end.json"
	mv "$out/cdf/$end/raw-cacheline-pingpong-8.cdf" \
		"$out/cdf/$end/raw-cacheline-pingpong-end-8.cdf"
	rm -f "$out/cdf/$end/floe-pingpong-8.cdf"
fi

# ---- all rows, the tables --------------------------------------------------
# Every row of every program, with "program" added; the stable fields
# (system, pattern, payload_bytes, subscribers, p50_ns, p99_ns, p999_ns,
# max_ns, msgs_per_s) come first in every program's own JSON.
for f in "$out"/*.json; do
	[ -s "$f" ] || continue
	jq -c --arg p "$(basename "$f" .json)" \
		'.[]? | {program: $p} + .' "$f" 2>/dev/null
done | jq -s . >"$out/all.json"
all=$out/all.json

# pingpong: a ping-pong row, once (request_response repeats the rows of
# pubsub_pingpong beside its own); rank: the order of systems in tables
# and plots, the limits, floe, the peers
jq_defs='def pingpong: .pattern == "pingpong" and
		.program != "request_response";
	def rank: if (.system | startswith("raw")) then 0
		elif (.system | startswith("floe")) then 1 else 2 end;'

# the raw limits measured in this run: the cache line at its start (in
# pubsub_pingpong), beside request-response (request_response repeats it)
# and at its end
raw_line=$(jq "$jq_defs"'[.[] | select(pingpong and
	.system == "raw-cacheline") | .p50_ns][0] // 0' "$all")
raw_rr=$(jq '[.[] | select(.program == "request_response" and
	.system == "raw-cacheline") | .p50_ns][0] // 0' "$all")
[ "$raw_rr" != 0 ] || raw_rr=$raw_line
raw_end=$(jq '[.[] | select(.system == "raw-cacheline" and
	.pattern == "pingpong-end") | .p50_ns][0] // 0' "$all")
# Any two raw p50s of the run more than 2x apart: the machine changed in
# between. (On the 2-vCPU VM of the README the raw line moves between 40
# and 65 ns within its fast state, probe to probe; its slow state is
# 175-225 ns.)
# raw_range: "min max count" of them
raw_range=$(awk '$1 > 0 { n++; if (!min || $1 < min) min = $1
		if ($1 > max) max = $1 }
	END { print min + 0, max + 0, n + 0 }' "$raw_line_txt")
read -r raw_min raw_max raw_n <<<"$raw_range"
if [ "$raw_n" -gt 1 ] && [ "$raw_max" -gt $((2 * raw_min)) ]; then
	echo "the machine changed during the run: the raw cache-line" \
		"ping-pong p50 was $(awk '$1 > 0 { printf "%s%s ns (%s %s)",
			n++ ? ", " : "", $1, $2, $3 }' "$raw_line_txt")," \
		"in the order they ran; compare each row with the raw row" \
		"measured beside it, and run again" >>"$notes"
fi
raw_futex=$(jq '[.[] | select(.system == "raw-futex") | .p50_ns][0] // 0' "$all")

md_rows() {	# jq filter selecting rows; ratio base; → Markdown rows
	jq -r --argjson base "$2" "$jq_defs"'
		def size: if . >= 1048576 and . % 1048576 == 0
			then "\(. / 1048576) MiB"
			elif . >= 1024 and . % 1024 == 0 then "\(. / 1024) KiB"
			else "\(.) B" end;
		def ratio: if $base > 0 and .p50_ns > 0
			then "\((.p50_ns / $base * 10 | round) / 10)x"
			else "" end;
		[.[] | select('"$1"')] | sort_by(rank, .system,
			.payload_bytes, .subscribers) | .[] |
		"| \(.system) | \(.pattern) | \(.payload_bytes | size) | " +
		"\(.subscribers) | \(.p50_ns) | \(.p99_ns) | \(.p999_ns) | " +
		"\(.max_ns) | \(.msgs_per_s) | \(ratio) |"' "$all"
}
header='| system | pattern | payload | subs | p50 ns | p99 ns | p99.9 ns | max ns | msgs/s | p50 / raw |
|---|---|---|---|---|---|---|---|---|---|'
{
	echo "# floe benchmark results"
	echo
	echo '```'
	cat "$out/machine.txt"
	echo '```'
	echo
	echo "Latencies are half a round trip (one message), in ns; msgs/s"
	echo "counts messages (two per round trip). Compare ratios, not"
	echo "nanoseconds, across machines. See bench/README.md for what each"
	echo "row measures."
	echo
	echo "## Ping-pong latency: floe, the peers and the limit"
	echo
	echo "p50 / raw: against the shared cache-line ping-pong of this run" \
		"($raw_line ns; $raw_end ns when measured again at its end;" \
		"$raw_min ns to $raw_max ns in the $raw_n measurements" \
		"through the run, raw_line.txt)."
	echo
	echo "$header"
	md_rows pingpong "$raw_line"
	echo
	echo "## Other messaging patterns"
	echo
	echo "Request-response: p50 / raw against the cache-line ping-pong" \
		"measured beside these rows ($raw_rr ns). Blackboard: one read" \
		"or write of a value (see bench/README.md)."
	echo
	echo "$header"
	md_rows '.program == "request_response"' "$raw_rr"
	# reads and writes of a value, not messages: no ratio
	md_rows '.program == "blackboard"' 0
	echo
	echo "## Path length: what one message executes (floe)"
	echo
	echo "Counted by valgrind's lackey in one process (bench/path_length.c," \
		"scripts/path-length.sh), not timed: these do not move with" \
		"the machine's state. pingpong: a loan, send, receive and" \
		"release with the ping-pong's QoS; default: the same with the" \
		"default QoS; stream: scale's 1→1 throughput QoS; rr: a" \
		"request, its response and its end of stream."
	echo
	echo "| case | instructions | stores | per |"
	echo "|---|---|---|---|"
	awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' \
		"$out/path_length.txt"
	echo
	echo "## Wake-ups (sleeping, not spinning)"
	echo
	echo "p50 / raw: against the futex ping-pong of this run ($raw_futex ns)."
	echo
	echo "$header"
	md_rows '.program == "event_wakeup" or .program == "waitset_wakeup"' \
		"$raw_futex"
	echo
	echo "## The copy floor: one memcpy() of the payload"
	echo
	echo "$header"
	md_rows '.pattern == "memcpy"' 0
	echo
	echo "## Scale: subscribers and services alive (floe)"
	echo
	echo "Throughput rows: msgs/s is samples sent per second, each" \
		"reaching every subscriber (latency fields unused);" \
		"raw-zerocopy streams 1→1 with only the protocol's own memory" \
		"traffic, the limit of the floe rows below it."
	echo
	echo "$header"
	jq -r '
		.[] | select(.program == "scale" and
			(.pattern | startswith("memory") | not)) |
		"| \(.system) | \(.pattern)" +
		(if .pattern == "pingpong-services"
		 then " (\(.services) services)" else "" end) +
		" | \(if .payload_bytes == 65536 then "64 KiB"
		       else "\(.payload_bytes) B" end) | \(.subscribers) | " +
		"\(.p50_ns) | \(.p99_ns) | \(.p999_ns) | \(.max_ns) | " +
		"\(.msgs_per_s) | |"' "$all"
	echo
	echo "Shared memory, measured as the growth of the domain's files in"
	echo "/dev/shm (default QoS; allocated = pages touched, mapped = size):"
	echo
	echo "| what | bytes allocated | bytes mapped |"
	echo "|---|---|---|"
	jq -r '.[] | select(.pattern | startswith("memory")) |
		"| one \(.pattern | ltrimstr("memory-"))" +
		(if .services > 0 then " (average over \(.services))"
		 else "" end) +
		" | \(.shm_bytes) | \(.shm_mapped_bytes) |"' "$all"
	echo
	echo "## Across hosts: floe-gateway beside Cyclone DDS alone"
	echo
	echo "Two network namespaces joined by a veth pair" \
		"(scripts/bench-gateway.sh), the same envelope type and QoS" \
		"(reliable, flow-controlled): gateway-pingpong is half a round" \
		"trip; gateway-stream a burst of 200 messages, msgs/s" \
		"counting those that arrived. The p50 ratios are in the notes."
	echo
	echo "$header"
	md_rows '.pattern | startswith("gateway-")' 0
	echo
	if [ -s "$notes" ]; then
		echo "## Notes"
		echo
		sed 's/^/- /' "$notes"
		echo
	fi
	echo "Plots: latency_vs_payload.png, latency_distribution.png," \
		"scale.png."
} >"$out/results.md"

# ---- plots --------------------------------------------------------------------
plot() {
	mkdir -p "$out/plot"
	# latency vs payload: p50 of every ping-pong system
	local files=() s
	for s in $(jq -r "$jq_defs"'[.[] | select(pingpong) | .system] |
			unique | .[]' "$all"); do
		jq -r --arg s "$s" "$jq_defs"'.[] | select(pingpong and
			.system == $s) | "\(.payload_bytes) \(.p50_ns)"' \
			"$all" >"$out/plot/$s.dat"
		files+=("$s")
	done
	# distributions at 8 B: every ping-pong system's .cdf, and the raw
	# cache line at the end
	local cdfs=() names=() f prog end_plot=""
	while read -r prog s; do
		f=$out/cdf/$prog/$s-pingpong-8.cdf
		if [ -s "$f" ]; then
			cdfs+=("$f")
			names+=("$s")
		else
			echo "bench: $f is missing"
			failed=1
		fi
	done < <(jq -r "$jq_defs"'[.[] | select(pingpong and
		.payload_bytes == 8)] | sort_by(rank, .system) | .[] |
		"\(.program) \(.system)"' "$all")
	f=$out/cdf/raw_cacheline_end/raw-cacheline-pingpong-end-8.cdf
	if [ -s "$f" ]; then
		end_plot=", \"$f\" using 1:(1 - \$2) with lines dashtype 2"
		end_plot+=" lc \"black\" title \"raw, at the end\""
	fi
	jq -r '.[] | select(.pattern == "memcpy") |
		"\(.payload_bytes) \(.p50_ns)"' "$all" >"$out/plot/memcpy.dat"
	jq -r '.[] | select(.pattern == "fanout-pingpong") |
		"\(.subscribers) \(.p50_ns) \(.p99_ns)"' "$all" \
		>"$out/plot/fanout.dat"
	jq -r '.[] | select(.pattern == "throughput" and .system == "floe") |
		"\(.subscribers) \(.payload_bytes) \(.msgs_per_s)"' "$all" \
		>"$out/plot/throughput.dat"
	local list="${files[*]}" title
	local cdf_list="${cdfs[*]}" cdf_names="${names[*]}"
	title="$(sed -n 's/^cpu: //p' "$out/machine.txt"), $(sed -n 's/^date: //p' "$out/machine.txt")"
	gnuplot 2>"$out/plot/gnuplot.log" <<-EOF || return 1
		set terminal pngcairo size 1000,650 noenhanced
		set key outside right
		set grid
		set logscale xy
		set xtics ("8 B" 8, "64 B" 64, "512 B" 512, "4 KiB" 4096, \
			"32 KiB" 32768, "256 KiB" 262144, "2 MiB" 2097152, \
			"64 MiB" 67108864)
		set xlabel "payload (bytes)"
		set ylabel "p50 latency, half round trip (ns)"
		set title "Ping-pong latency vs payload — $title"
		set output "$out/latency_vs_payload.png"
		plot for [s in "$list"] "$out/plot/".s.".dat" \
			using 1:2 with linespoints title s, \
			"$out/plot/memcpy.dat" using 1:2 with lines \
			dashtype 2 lc "gray" title "one memcpy()"
		set key outside right samplen 2
		set xtics ("10 ns" 10, "100 ns" 100, "1 µs" 1e3, "10 µs" 1e4, \
			"100 µs" 1e5, "1 ms" 1e6, "10 ms" 1e7, "100 ms" 1e8, \
			"1 s" 1e9)
		set mxtics 10
		set xlabel "latency, half round trip"
		set ytics ("all" 1, "1 in 10" 0.1, "1 in 100 (p99)" 0.01, \
			"1 in 1000 (p99.9)" 1e-3, "1 in 10^4" 1e-4, \
			"1 in 10^5" 1e-5, "1 in 10^6" 1e-6)
		set ylabel "share of messages this slow or slower"
		set title "Latency distribution, 8 B ping-pong — $title"
		set output "$out/latency_distribution.png"
		plot for [i = 1:words("$cdf_list")] word("$cdf_list", i) \
			using 1:(1 - \$2) with lines lw 2 \
			title word("$cdf_names", i)$end_plot
		set ytics auto
		set mxtics default
		set output "$out/scale.png"
		set key inside top left
		set multiplot layout 1,2 title "floe with N subscribers — $title"
		set xtics auto
		set autoscale x
		set logscale x 2
		set xlabel "subscribers"
		set ylabel "ns"
		set title "fan-out ping-pong latency (8 B)"
		plot "$out/plot/fanout.dat" using 1:2 with linespoints \
			title "p50", "" using 1:3 with linespoints title "p99"
		set ylabel "messages/s"
		set title "throughput"
		plot "$out/plot/throughput.dat" using 1:(\$2 == 8 ? \$3 : 1/0) \
			with linespoints title "8 B", \
			"" using 1:(\$2 == 65536 ? \$3 : 1/0) \
			with linespoints title "64 KiB"
		unset multiplot
	EOF
}
if ! plot; then
	echo "bench: gnuplot failed (see $out/plot/gnuplot.log)"
	failed=1
fi
for f in results.md all.json latency_vs_payload.png \
	latency_distribution.png scale.png; do
	if [ ! -s "$out/$f" ]; then
		echo "bench: $out/$f is missing"
		failed=1
	fi
done
if [ -z "$quick" ] && [ "$out" = "bench/results/$(basename "$out")" ]; then
	ln -sfn "$(basename "$out")" bench/results/latest
fi

echo "bench: results in $out/: results.md (tables), all.json," \
	"latency_vs_payload.png, latency_distribution.png, scale.png"
[ -s "$notes" ] && sed 's/^/bench: note: /' "$notes"
[ "$failed" = 0 ] || echo "bench: some benchmarks FAILED"
exit "$failed"
