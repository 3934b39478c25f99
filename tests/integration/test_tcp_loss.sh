#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Transfers through random loss: nftables `numgen random` drops 1%, then 5%,
# of the TCP frames a bridge forwards between the dataplane and the kernel
# client, each direction independently (see loss_topology in tcp_lib.sh for
# why a bridge and not the client's own output hook). Echo and chargen of
# 1 MiB and 4 MiB must complete with identical bytes, within a bound; the
# dataplane must have retransmitted (proof the loss hit it) without giving
# any connection up; afterwards, with the loss removed, the connections
# drain as on a clean path and the dataplane still answers ping.
#
# Durations are printed with each check. RAMPART_TCP_LOSS_SIZES and
# RAMPART_TCP_LOSS_PCTS override the sizes (bytes) and loss rates.

source "$(dirname "$0")/tcp_lib.sh"

read -r -a SIZES <<<"${RAMPART_TCP_LOSS_SIZES:-1048576 4194304}"
read -r -a PCTS <<<"${RAMPART_TCP_LOSS_PCTS:-1 5}"
# One transfer may take this long before it counts as failed; a connection
# that moves no byte for STALL seconds fails at once with its state.
LIMIT=60
STALL=30

require_env
tcp_require
command -v nft >/dev/null 2>&1 || die "nft is not installed (tools/setup-deps installs nftables)"
setup_topology
dp_start 1 --echo-port "$ECHO_PORT" --chargen-port "$CHARGEN_PORT"
wait_ping
loss_topology

dp_stats "$TMP_DIR/start" || die "cannot read stats from the control socket"
conns=0
chargen_conns=0
for pct in "${PCTS[@]}"; do
	loss_set "$pct"
	log "checks: ${pct}% random loss each way"
	dp_stats "$TMP_DIR/before.$pct" || die "cannot read stats"
	dropped0=$(loss_dropped)
	t0=$SECONDS
	for size in "${SIZES[@]}"; do
		peer_check "echo $size bytes at ${pct}% loss" "echo-$pct-$size" \
			echo "$DP_ADDR" "$ECHO_PORT" --size "$size" --seed "$pct$size" \
			--timeout "$LIMIT" --stall "$STALL"
		peer_check "chargen $size bytes at ${pct}% loss" "chargen-$pct-$size" \
			chargen "$DP_ADDR" "$CHARGEN_PORT" --size "$size" \
			--timeout "$LIMIT" --stall "$STALL"
		conns=$((conns + 2))
		chargen_conns=$((chargen_conns + 1))
	done
	dp_stats "$TMP_DIR/after.$pct" || die "cannot read stats"
	dropped=$(($(loss_dropped) - dropped0))
	log "    ${pct}% loss: the bridge dropped $dropped TCP frames; $((SECONDS - t0)) s for this round"
	check "the loss rule dropped frames ($dropped)" test "$dropped" -gt 0
	expect_delta "$TMP_DIR/before.$pct" "$TMP_DIR/after.$pct" tcp_retransmits -gt 0
	expect_counter_eq "$TMP_DIR/before.$pct" "$TMP_DIR/after.$pct" tcp_timeouts 0
	expect_counter_eq "$TMP_DIR/before.$pct" "$TMP_DIR/after.$pct" tcp_resets_in 0
	show_tcp_delta "$TMP_DIR/before.$pct" "$TMP_DIR/after.$pct"
	dp_still_alive "after ${pct}% loss"
done

loss_set 0
log "checks: after the loss"
dp_stats "$TMP_DIR/end" || die "cannot read stats"
expect_counter_eq "$TMP_DIR/start" "$TMP_DIR/end" tcp_passive_opens "$conns"
# Echo connections end in LAST_ACK -> CLOSED once the client's last ACK
# arrives; a chargen connection's TIME_WAIT lasts 60 s, longer than this
# test, so at most the chargen ones remain.
check "tcp_conns drains to <= $chargen_conns (chargen TIME_WAITs only) within 20 s" \
	poll_wait 20 tcp_conns_le "$chargen_conns"
peer_check "echo 1 MiB on the repaired path" echo-clean \
	echo "$DP_ADDR" "$ECHO_PORT" --size 1048576 --timeout 30
client ping -q -c 3 -i 0.2 -W 2 "$DP_ADDR" >/dev/null 2>&1
check "the dataplane answers ping" test $? -eq 0
dp_still_alive "at the end"
test_exit
