#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The dataplane owns its address on the link: it announces it with a
# gratuitous ARP at start (the viewer learns it without asking), answers
# broadcast and unicast ARP requests with the MAC of its port, and stays
# silent for addresses it does not own.

source "$(dirname "$0")/lib.sh"

require_env
require_cmd arping /usr/bin/python3
setup_topology

# Watch the viewer's side of the link from before the dataplane starts.
watch_log=$TMP_DIR/arp_watch.log
viewer /usr/bin/python3 "$(dirname "$0")/arp_watch.py" --iface "$VETH_VIEWER" \
	--timeout 60 --ready-file "$TMP_DIR/watch.ready" --until-garp "$DP_ADDR" \
	>"$watch_log" 2>&1 &
watch_pid=$!
BG_PIDS+=("$watch_pid")
poll_wait 10 test -e "$TMP_DIR/watch.ready" || die "ARP watcher did not start"

dp_start 1

log "checks: gratuitous ARP at start"
garp_seen() {
	grep -q "spa=$DP_ADDR tha=.* tpa=$DP_ADDR" "$watch_log"
}
if poll_wait 10 garp_seen; then
	line=$(grep -m1 "spa=$DP_ADDR tha=.* tpa=$DP_ADDR" "$watch_log")
	pass "gratuitous ARP seen: $line"
	case $line in
	*"eth_dst=ff:ff:ff:ff:ff:ff"*) pass "gratuitous ARP is broadcast" ;;
	*) fail "gratuitous ARP is not broadcast" ;;
	esac
	case $line in
	*"eth_src=$DP_MAC "*"sha=$DP_MAC "*) pass "gratuitous ARP carries the port MAC $DP_MAC" ;;
	*) fail "gratuitous ARP does not carry the port MAC $DP_MAC" ;;
	esac
else
	fail "no gratuitous ARP for $DP_ADDR within 10 s of ready"
fi

neigh_learned() {
	ip -n "$NS_VIEWER" neigh show "$DP_ADDR" dev "$VETH_VIEWER" | grep -q "lladdr $DP_MAC"
}
# Nothing but the gratuitous ARP has been exchanged yet: the entry is its work.
check "viewer neighbour table learned $DP_ADDR -> $DP_MAC (arp_accept=1)" \
	poll_wait 5 neigh_learned

dp_stats "$TMP_DIR/before" || die "cannot read stats from the control socket"

log "checks: ARP requests for $DP_ADDR"
out=$TMP_DIR/arping.log
viewer arping -c 3 -i "$VETH_VIEWER" "$DP_ADDR" >"$out" 2>&1
rc=$?
replies=$(grep -c "bytes from $DP_MAC ($DP_ADDR)" "$out")
others=$(grep "bytes from" "$out" | grep -vc "bytes from $DP_MAC ($DP_ADDR)")
if [ "$rc" -eq 0 ] && [ "$replies" -eq 3 ] && [ "$others" -eq 0 ]; then
	pass "arping -c 3 $DP_ADDR: 3 replies, all from $DP_MAC"
else
	fail "arping -c 3 $DP_ADDR: exit $rc, $replies replies from $DP_MAC, $others from others"
	sed 's/^/        /' "$out"
fi

# The kernel re-validates a neighbour with unicast requests to its MAC.
viewer arping -c 1 -t "$DP_MAC" -i "$VETH_VIEWER" "$DP_ADDR" >"$out" 2>&1
if grep -q "bytes from $DP_MAC ($DP_ADDR)" "$out"; then
	pass "unicast ARP request to $DP_MAC answered"
else
	fail "unicast ARP request to $DP_MAC not answered"
	sed 's/^/        /' "$out"
fi

dp_stats "$TMP_DIR/after" || die "cannot read stats"
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" arp_requests_in -ge 4
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" arp_replies_out -ge 4
gratuitous=$(stat_get "$TMP_DIR/after" arp_gratuitous_out)
check "arp_gratuitous_out is ${gratuitous:-missing} (>= 1)" test "${gratuitous:-0}" -ge 1

log "checks: no ARP replies for other addresses in the subnet"
dp_stats "$TMP_DIR/before" || die "cannot read stats"
viewer arping -c 2 -i "$VETH_VIEWER" 192.0.2.99 >"$out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && ! grep -q "bytes from" "$out"; then
	pass "arping 192.0.2.99: no reply"
else
	fail "arping 192.0.2.99: exit $rc, got replies"
	sed 's/^/        /' "$out"
fi
dp_stats "$TMP_DIR/after" || die "cannot read stats"
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" arp_replies_out -eq 0

check "dataplane still running" dp_alive
test_exit
