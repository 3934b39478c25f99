#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two workers, one af_packet queue pair each: pings from many source
# addresses (distinct flows, spread over the queues by the kernel's fanout
# hash) are all answered, and the per-queue counters show that both queues
# received and sent traffic.

source "$(dirname "$0")/lib.sh"

WORKERS=2
SOURCES=16      # 192.0.2.20 .. 192.0.2.35

require_env
setup_topology
for ((i = 20; i < 20 + SOURCES; i++)); do
	ip -n "$NS_VIEWER" addr add "192.0.2.$i/$DP_PREFIX" dev "$VETH_VIEWER" ||
		die "cannot add 192.0.2.$i to $VETH_VIEWER"
done
dp_start "$WORKERS"

log "checks: $WORKERS workers"
status=$TMP_DIR/status
dp_ctl status >"$status" || fail "status command failed"
w=$(stat_get "$status" workers)
check "status reports workers ${w:-missing} (want $WORKERS)" test "${w:-0}" -eq "$WORKERS"

wait_ping
dp_stats "$TMP_DIR/before" || die "cannot read stats from the control socket"

log "checks: pings from $SOURCES source addresses, in parallel"
pids=()
for ((i = 20; i < 20 + SOURCES; i++)); do
	viewer ping -c 10 -i 0.05 -W 2 -I "192.0.2.$i" "$DP_ADDR" >"$TMP_DIR/ping.$i.log" 2>&1 &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid"
done
lossy=0
for ((i = 20; i < 20 + SOURCES; i++)); do
	loss=$(ping_loss "$TMP_DIR/ping.$i.log")
	if [ "$loss" != 0 ]; then
		fail "ping from 192.0.2.$i: ${loss:-?}% loss"
		lossy=$((lossy + 1))
	fi
done
[ "$lossy" -eq 0 ] && pass "$SOURCES x 10 pings: 0% loss from every source"

dp_stats "$TMP_DIR/after" || die "cannot read stats"
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" icmp_echo_in -eq $((SOURCES * 10))
expect_delta "$TMP_DIR/before" "$TMP_DIR/after" icmp_echo_out -eq $((SOURCES * 10))

log "checks: both queues carried traffic"
for ((q = 0; q < WORKERS; q++)); do
	rx=$(stat_delta "$TMP_DIR/before" "$TMP_DIR/after" "port0.q$q.rx_packets") ||
		{ fail "port0.q$q.rx_packets missing from stats"; continue; }
	tx=$(stat_delta "$TMP_DIR/before" "$TMP_DIR/after" "port0.q$q.tx_packets") ||
		{ fail "port0.q$q.tx_packets missing from stats"; continue; }
	log "    queue $q: +$rx rx, +$tx tx"
	check "queue $q received traffic (+$rx)" test "$rx" -gt 0
	check "queue $q sent traffic (+$tx)" test "$tx" -gt 0
done
check "dataplane still running" dp_alive
test_exit
