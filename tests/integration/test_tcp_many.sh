#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Many connections with the Linux kernel as the client: 1,000 short echo
# connections one after another, 200 concurrent echo connections of 64 KiB
# each, 200 concurrent chargen connections; then the same on two workers,
# where the connections spread over both queues. Every connection must
# succeed with the right bytes, and the connection counters must add up:
# one passive open per connection, echo connections all gone afterwards
# (the client closes first), chargen connections all in TIME_WAIT (the
# dataplane closes first).

source "$(dirname "$0")/tcp_lib.sh"

SEQ_CONNS=${RAMPART_TCP_SEQ_CONNS:-1000}
PAR_CONNS=${RAMPART_TCP_PAR_CONNS:-200}

require_env
tcp_require
setup_topology

# many_round LABEL: the whole set of checks against the running dataplane.
many_round() {
	local label=$1 t0 left b=$TMP_DIR/$1.before m=$TMP_DIR/$1.mid a=$TMP_DIR/$1.after

	dp_stats "$b" || die "cannot read stats from the control socket"
	log "checks ($label): $SEQ_CONNS echo connections in a row, 100 bytes each"
	peer_check "$SEQ_CONNS sequential echo connections" "$label-seq" \
		echo "$DP_ADDR" "$ECHO_PORT" --size 100 --conns "$SEQ_CONNS" --parallel 1 --timeout 150

	log "checks ($label): $PAR_CONNS concurrent echo connections, 64 KiB each"
	peer_check "$PAR_CONNS concurrent echo connections x 64 KiB" "$label-par" \
		echo "$DP_ADDR" "$ECHO_PORT" --size 65536 --conns "$PAR_CONNS" \
		--parallel "$PAR_CONNS" --seed 7 --timeout 120

	expect_conns 0 "$label: echo connections all closed (the client closed first)"
	dp_stats "$m" || die "cannot read stats"
	local n=$((SEQ_CONNS + PAR_CONNS))
	expect_counter_eq "$b" "$m" tcp_passive_opens "$n"
	expect_counter_eq "$b" "$m" tcp_established "$n"
	expect_counter_eq "$b" "$m" tcp_closed "$n"
	expect_delta "$b" "$m" tcp_bytes_in -ge $((SEQ_CONNS * 100 + PAR_CONNS * 65536))
	dp_still_alive "($label) after the echo connections"

	log "checks ($label): $PAR_CONNS concurrent chargen connections, 64 KiB each"
	# Counted on top of whatever the echo part left (nothing, if it passed).
	left=$(dp_counter tcp_conns) || die "cannot read stats"
	t0=$SECONDS
	peer_check "$PAR_CONNS concurrent chargen connections x 64 KiB" "$label-chargen" \
		chargen "$DP_ADDR" "$CHARGEN_PORT" --size 65536 --conns "$PAR_CONNS" \
		--parallel "$PAR_CONNS" --timeout 120
	if [ $((SECONDS - t0)) -lt 50 ]; then
		expect_conns $((left + PAR_CONNS)) "$label: $left left before + $PAR_CONNS chargen connections in TIME_WAIT"
	else
		check "tcp_conns <= $((left + PAR_CONNS)) (only chargen TIME_WAITs added)" \
			tcp_conns_le $((left + PAR_CONNS))
	fi
	dp_stats "$a" || die "cannot read stats"
	expect_counter_eq "$m" "$a" tcp_passive_opens "$PAR_CONNS"
	expect_counter_eq "$m" "$a" tcp_established "$PAR_CONNS"
	expect_delta "$m" "$a" tcp_bytes_out -ge $((PAR_CONNS * 65536))
	for c in tcp_timeouts tcp_resets_in tcp_conn_limit tcp_backlog_full; do
		expect_counter_eq "$b" "$a" "$c" 0
	done
	show_tcp_delta "$b" "$a"
	dp_still_alive "($label) after the chargen connections"
}

dp_start 1 --echo-port "$ECHO_PORT" --chargen-port "$CHARGEN_PORT"
wait_ping
many_round "1 worker"
dp_stop || fail "dataplane did not stop on SIGTERM"

# Two workers, one queue each: the kernel's fanout hash spreads the flows,
# and each connection must stay whole on the worker that owns it.
dp_start 2 --echo-port "$ECHO_PORT" --chargen-port "$CHARGEN_PORT"
wait_ping
dp_stats "$TMP_DIR/w2.start" || die "cannot read stats"
many_round "2 workers"
dp_stats "$TMP_DIR/w2.end" || die "cannot read stats"
for q in 0 1; do
	rx=$(stat_delta "$TMP_DIR/w2.start" "$TMP_DIR/w2.end" "port0.q$q.rx_packets") ||
		{ fail "port0.q$q.rx_packets missing from stats"; continue; }
	check "queue $q carried TCP traffic (+$rx frames)" test "$rx" -gt 1000
done
test_exit
