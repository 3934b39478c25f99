#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A seeded flood of malformed frames (malformed.py: short and runt frames,
# bad IHL/length/version/checksum, fragments, odd and truncated ARP, bad and
# truncated ICMP, unknown ethertypes, full-size frames, random garbage) must
# neither crash nor wedge the dataplane: afterwards it still answers ping
# with no loss, and every kind of bad frame is counted where it belongs.
#
# RAMPART_MALFORMED_SEED and RAMPART_MALFORMED_COUNT (frames per kind)
# reproduce or enlarge a run.

source "$(dirname "$0")/lib.sh"

SEED=${RAMPART_MALFORMED_SEED:-20240611}
COUNT=${RAMPART_MALFORMED_COUNT:-40}

require_env
PYTHON=$(find_scapy_python) || die "python3-scapy is not installed (tools/setup-deps installs it)"
setup_topology
dp_start 1

# The flood goes straight to the dataplane's MAC, so the viewer needs no ARP;
# pinging first also shows the dataplane works before the flood.
wait_ping
expect_ping_loss 0 "ping before the flood" -c 3 -i 0.1 -W 2 "$DP_ADDR"

dp_stats "$TMP_DIR/before" || die "cannot read stats from the control socket"
log "sending malformed frames: seed $SEED, $COUNT per kind"
flood=$TMP_DIR/flood.log
viewer "$PYTHON" "$(dirname "$0")/malformed.py" --iface "$VETH_VIEWER" \
	--src-mac "$VIEWER_MAC" --dst-mac "$DP_MAC" --src-ip "$VIEWER_ADDR" \
	--dst-ip "$DP_ADDR" --seed "$SEED" --count "$COUNT" >"$flood" 2>&1 ||
	{ cat "$flood"; die "malformed.py failed"; }
grep -E "^(sent|refused|absorbed) " "$flood" | sed 's/^/    /'
if grep -q '^refused eth_short' "$flood"; then
	log "  note: a veth cannot carry frames under 14 bytes (the kernel refuses them),"
	log "        so eth_short is only reachable on real NICs and in the unit tests"
fi
if grep -q '^absorbed ' "$flood"; then
	log "  note: well-formed fragments are reassembled or held by the kernel (DPDK's"
	log "        net_af_packet sets PACKET_FANOUT_FLAG_DEFRAG), so they never reach the"
	log "        dataplane and ip_fragment is checked by the unit tests instead"
fi

check "dataplane survived the flood" dp_alive

# Wait until the dataplane has pulled every frame off its ring before
# comparing counters (a bounded poll, not a guess at how long it takes).
total=$(awk '$1 == "expect" && $2 == "rx_packets" { print $3 }' "$flood")
[ -n "$total" ] || die "malformed.py printed no totals"
rx_caught_up() {
	dp_stats "$TMP_DIR/after" &&
		[ "$(stat_delta "$TMP_DIR/before" "$TMP_DIR/after" rx_packets)" -ge "$total" ]
}
poll_wait 15 rx_caught_up
dp_stats "$TMP_DIR/after" || die "cannot read stats"

log "checks: every kind of bad frame counted"
while read -r _ names want; do
	if [ "$want" -eq 0 ]; then
		log "  --    $names: no such frame reached the dataplane, not checked"
		continue
	fi
	expect_delta "$TMP_DIR/before" "$TMP_DIR/after" "$names" -ge "$want"
done < <(awk '$1 == "expect"' "$flood")

log "checks: still serving"
expect_ping_loss 0 "20 pings after the flood" -c 20 -i 0.05 -W 2 "$DP_ADDR"
expect_ping_loss 0 "5 pings of 1400 bytes after the flood" -c 5 -i 0.05 -W 2 -s 1400 "$DP_ADDR"
check "dataplane still running" dp_alive
test_exit
