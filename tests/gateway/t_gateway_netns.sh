#!/bin/bash
# floe-gateway between two hosts: two network namespaces joined by a veth
# pair (made here, removed at the end), a gateway in each, Cyclone DDS on
# the veth only; publishers in one, subscribers in the other, both ways.
# Needs root (ip netns); skipped with the reason otherwise.
# shellcheck source=tests/gateway/lib.sh
. "$(dirname "$0")/lib.sh"

skip_all() { echo "1..0 # SKIP $1"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip_all "needs root to create network namespaces"
command -v ip >/dev/null || skip_all "no ip command (iproute2)"

# names and a /24 of our own, so that parallel runs do not meet
tag=$(($$ % 100000))
ns_a=floegw-a$tag ns_b=floegw-b$tag
net=10.$((200 + $$ % 50)).$((($$ / 50) % 250))
addr_a=$net.1 addr_b=$net.2
pair=$root/scripts/netns-pair.sh
remove_namespaces() { "$pair" down "$tag"; }
"$pair" up "$tag" "$net" 2>/dev/null ||
	skip_all "cannot create network namespaces and a veth pair here"
cleanup_more=remove_namespaces

plan 9

A=$(dom a) B=$(dom b)
conf=$scratch/gw.conf
printf '[service rel]\nenable_safe_overflow = false\n' >"$conf"
in_a() { export CYCLONEDDS_URI; CYCLONEDDS_URI=$(dds_uri_on "va$tag" "$addr_b"); gw_prefix="ip netns exec $ns_a"; }
in_b() { export CYCLONEDDS_URI; CYCLONEDDS_URI=$(dds_uri_on "vb$tag" "$addr_a"); gw_prefix="ip netns exec $ns_b"; }

in_a; start_gw A "$A" --config "$conf" chat; ok $? "gateway in namespace a runs"
in_b; start_gw B "$B" --config "$conf" chat; ok $? "gateway in namespace b runs"
log_has A "topic 'floe/rel': 1 DDS reader matched" 60
ok $? "the gateways found each other across the veth pair"

in_b; peer_bg "$scratch/rel" "$B" sub rel --reliable --count 50 --extra-ms 2000
sub=$bg_pid
in_a; peer "$A" pub rel --reliable --block --count 50 --wait-subs 1
ok $? "a publishes 50 reliable samples"
wait $sub
is "$?:$(cat "$scratch/rel")" "0:received 50 first 0 last 49 gaps 0 disorder 0 corrupt 0 extra 0" \
	"b gets all 50 once, in order"

in_a; peer_bg "$scratch/chat" "$A" sub chat --count 20
sub=$bg_pid
in_b; peer_bg /dev/null "$B" pub chat --count 100000 --interval-us 2000 --wait-subs 1
pub=$bg_pid
wait $sub; is $? 0 "b -> a: 20 samples, in order, intact"
kill $pub; wait $pub 2>/dev/null

in_b; peer_bg "$scratch/mib" "$B" sub rel --reliable --size 1048576 --count 5
sub=$bg_pid
in_a; peer "$A" pub rel --reliable --block --size 1048576 --count 5 --interval-us 100000 --wait-subs 1
ok $? "a publishes five 1 MiB samples"
wait $sub; is $? 0 "b gets them intact, in order"

finish_clean
