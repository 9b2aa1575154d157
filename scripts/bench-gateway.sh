#!/bin/bash
# floe-gateway against Cyclone DDS alone, between two network namespaces
# joined by a veth pair (scripts/netns-pair.sh; needs root):
#
#   scripts/bench-gateway.sh OUT_DIR [--quick]
#
# 1. floe-gateway: a gateway in each namespace (floe domains of their
#    own), bench/gateway/gateway_pingpong ping in a, pong in b, talking
#    floe; the gateways carry it over DDS on the veth;
# 2. cyclonedds: the same program with --via dds: the same envelope type
#    and QoS on the same path, without floe or gateways.
# Rows (JSON arrays) in OUT_DIR/gateway_floe.json and gateway_dds.json,
# tables and messages in the .txt beside them; OUT_DIR/notes.txt gets a
# line when the rows could not be measured, and the p50 ratios.
set -u
cd "$(dirname "$0")/.."
out=$1
quick=${2:-}
O=${O:-build}
prog=$O/bench/gateway/gateway_pingpong
notes=$out/notes.txt
mkdir -p "$out"

if [ "$(id -u)" -ne 0 ]; then
	echo "gateway: not root, no network namespaces: not measured" >>"$notes"
	exit 0
fi
make -s O="$O" -j2 tools gateway-bench >/dev/null || exit 1

tag=b$(($$ % 100000))
net=10.$((200 + $$ % 50)).$((($$ / 50) % 250))
dds_domain=$((($$ % 50) + 150))
dom_a=gwbench$$a dom_b=gwbench$$b
conf=$(mktemp)
pids=""
stop_all() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=""
}
finish() {
	stop_all
	scripts/netns-pair.sh down "$tag"
	rm -f "$conf" /dev/shm/"$dom_a".* /dev/shm/"$dom_b".*
}
trap finish EXIT
scripts/netns-pair.sh up "$tag" "$net" || {
	echo "gateway: cannot create network namespaces: not measured" >>"$notes"
	exit 0
}
uri() {	# interface, peer address
	echo "<CycloneDDS><Domain id=\"any\"><General><Interfaces><NetworkInterface name=\"$1\"/></Interfaces><AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex><Peers><Peer address=\"$2\"/></Peers></Discovery></Domain></CycloneDDS>"
}
uri_of() { if [ "$1" = a ]; then uri "va$tag" "$net.2"; else uri "vb$tag" "$net.1"; fi; }
# in_ns SIDE CMD...: run in namespace SIDE (a or b)
in_ns() {
	local side=$1
	shift
	CYCLONEDDS_URI=$(uri_of "$side") ip netns exec "floegw-$side$tag" "$@"
}
# bg SIDE CMD...: the same in the background, stopped by stop_all (exec
# all the way down, so that $! is the command itself)
bg() {
	local side=$1
	shift
	( exec 2>>"$out/gateway.log"
	  CYCLONEDDS_URI=$(uri_of "$side") exec ip netns exec "floegw-$side$tag" "$@" ) &
	pids="$pids $!"
}
printf '[service gwbench/ping]\nenable_safe_overflow = false\nmax_subscribers = 2\n[service gwbench/pong]\nenable_safe_overflow = false\nmax_subscribers = 2\n' >"$conf"
export FLOE_CONFIG=/dev/null FLOE_BACKEND=${FLOE_BACKEND:-shm}

# run NAME VIA: ping in a (JSON to NAME.json), pong in b
run() {
	local name=$1 via=$2 t0=$SECONDS
	printf '  %-18s' "$name"
	FLOE_DOMAIN=$dom_b GWBENCH_DDS_DOMAIN=$dds_domain bg b "$prog" pong --via "$via"
	if FLOE_DOMAIN=$dom_a GWBENCH_DDS_DOMAIN=$dds_domain \
		in_ns a timeout 600 "$prog" ping --via "$via" --json $quick \
		>"$out/$name.json" 2>"$out/$name.txt"; then
		echo "ok ($((SECONDS - t0)) s)"
	else
		echo "FAILED (see $out/$name.txt)"
		echo "$name: FAILED" >>"$notes"
		return 1
	fi
}

status=0
for side in a b; do
	d=$dom_a; [ $side = b ] && d=$dom_b
	bg $side "$O/tools/floe-gateway" --domain "$d" --dds-domain "$dds_domain" \
		--config "$conf"
done
run gateway_floe floe || status=1
stop_all
run gateway_dds dds || status=1
stop_all

# the gateway's p50 over DDS's own, per row
if command -v jq >/dev/null && [ -s "$out/gateway_floe.json" ] &&
   [ -s "$out/gateway_dds.json" ]; then
	jq -nr --slurpfile f "$out/gateway_floe.json" \
		--slurpfile d "$out/gateway_dds.json" '
		$f[0][] as $g | $d[0][] |
		select(.pattern == $g.pattern and .payload_bytes == $g.payload_bytes) |
		"gateway: \($g.pattern) \($g.payload_bytes) B: p50 \($g.p50_ns) ns " +
		"through floe-gateway, \(.p50_ns) ns with Cyclone DDS alone " +
		"(\((($g.p50_ns / .p50_ns - 1) * 100) | round |
			if . >= 0 then "+\(.)" else "\(.)" end)%); msgs/s " +
		"\($g.msgs_per_s) vs \(.msgs_per_s)"' >>"$notes"
fi
exit $status
