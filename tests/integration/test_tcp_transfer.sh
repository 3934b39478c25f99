#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Bulk transfers between the dataplane's TCP and the Linux kernel's, both
# ways: echo (client sends, dataplane sends it back) and chargen (dataplane
# sends a known pattern) at 1 B .. 100 MiB, every byte checked by
# tcp_peer.py; the same through socat and nc, compared by sha256; a
# malformed chargen request gets its error line. Afterwards the counters
# agree with what moved, nothing timed out or was reset, and the only
# connections left are chargen's TIME_WAITs (the dataplane closes those
# first); echo's (the client closes first: LAST_ACK -> CLOSED) are gone.

source "$(dirname "$0")/tcp_lib.sh"

SIZES=(1 1024 65536 1048576 10485760 104857600)

require_env
tcp_require
setup_topology
dp_start 1 --echo-port "$ECHO_PORT" --chargen-port "$CHARGEN_PORT"
wait_ping

dp_stats "$TMP_DIR/before" || die "cannot read stats from the control socket"
echo_conns=0
echo_bytes=0

log "checks: echo, every byte compared, sha256 both ways ($DP_ADDR:$ECHO_PORT)"
for size in "${SIZES[@]}"; do
	peer_check "echo $size bytes" "echo-$size" \
		echo "$DP_ADDR" "$ECHO_PORT" --size "$size" --seed "$size" --verbose --timeout 120
	echo_conns=$((echo_conns + 1))
	echo_bytes=$((echo_bytes + size))
done

log "checks: echo through standard tools"
head -c 1048576 /dev/urandom >"$TMP_DIR/rand.in"
want=$(sha256sum <"$TMP_DIR/rand.in" | cut -d' ' -f1)
# -t: after stdin's EOF socat half-closes and waits up to 60 s for the
# dataplane to finish echoing and close.
client timeout 90 socat -t 60 - "TCP:$DP_ADDR:$ECHO_PORT" \
	<"$TMP_DIR/rand.in" >"$TMP_DIR/socat.out" 2>"$TMP_DIR/socat-echo.log"
rc=$?
got=$(sha256sum <"$TMP_DIR/socat.out" | cut -d' ' -f1)
check "socat echo 1 MiB: exit $rc, $(stat -c %s "$TMP_DIR/socat.out") bytes back, sha256 ${got:0:16}.. (want ${want:0:16}..)" \
	test "$rc" -eq 0 -a "$got" = "$want"
echo_conns=$((echo_conns + 1))
echo_bytes=$((echo_bytes + 1048576))

if command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -- '-N'; then
	# OpenBSD nc: -N shuts the socket down after stdin's EOF.
	client timeout 90 nc -N "$DP_ADDR" "$ECHO_PORT" \
		<"$TMP_DIR/rand.in" >"$TMP_DIR/nc.out" 2>"$TMP_DIR/nc-echo.log"
	rc=$?
	got=$(sha256sum <"$TMP_DIR/nc.out" | cut -d' ' -f1)
	check "nc echo 1 MiB: exit $rc, $(stat -c %s "$TMP_DIR/nc.out") bytes back, sha256 matches" \
		test "$rc" -eq 0 -a "$got" = "$want"
	echo_conns=$((echo_conns + 1))
	echo_bytes=$((echo_bytes + 1048576))
else
	log "  --    nc with -N (netcat-openbsd) is not installed: nc transfer not run"
fi

log "checks: echo connections closed (client closed first: no TIME_WAIT on the dataplane)"
expect_conns 0 "every echo connection went LAST_ACK -> CLOSED"
dp_stats "$TMP_DIR/mid" || die "cannot read stats"
expect_counter_eq "$TMP_DIR/before" "$TMP_DIR/mid" tcp_passive_opens "$echo_conns"
expect_counter_eq "$TMP_DIR/before" "$TMP_DIR/mid" tcp_established "$echo_conns"
expect_counter_eq "$TMP_DIR/before" "$TMP_DIR/mid" tcp_closed "$echo_conns"
expect_delta "$TMP_DIR/before" "$TMP_DIR/mid" tcp_bytes_in -ge "$echo_bytes"
expect_delta "$TMP_DIR/before" "$TMP_DIR/mid" tcp_bytes_out -ge "$echo_bytes"
dp_still_alive "after the echo transfers"

log "checks: chargen, every byte against i mod 251 ($DP_ADDR:$CHARGEN_PORT)"
chargen_t0=$SECONDS
chargen_conns=0
chargen_bytes=0
for size in "${SIZES[@]}"; do
	peer_check "chargen $size bytes" "chargen-$size" \
		chargen "$DP_ADDR" "$CHARGEN_PORT" --size "$size" --timeout 120
	chargen_conns=$((chargen_conns + 1))
	chargen_bytes=$((chargen_bytes + size))
done
peer_check "chargen 0 bytes: nothing, then the close" chargen-0 \
	chargen "$DP_ADDR" "$CHARGEN_PORT" --size 0
chargen_conns=$((chargen_conns + 1))
peer_check "chargen 65536 bytes, client half-closes after the request" chargen-hc \
	chargen "$DP_ADDR" "$CHARGEN_PORT" --size 65536 --half-close
chargen_conns=$((chargen_conns + 1))
chargen_bytes=$((chargen_bytes + 65536))

log "checks: chargen through socat"
"$TCP_PY" -c 'import sys; p = bytes(range(251)); n = 1048576
sys.stdout.buffer.write((p * (n // 251 + 1))[:n])' >"$TMP_DIR/pattern"
# shut-none: no half-close after the request, so the dataplane closes first
# (as chargen clients usually do) and its side ends in TIME_WAIT.
printf '1048576\n' | client timeout 90 socat -t 60 - "TCP:$DP_ADDR:$CHARGEN_PORT,shut-none" \
	>"$TMP_DIR/socat-chargen.out" 2>"$TMP_DIR/socat-chargen.log"
rc=$?
check "socat chargen 1 MiB: exit $rc, $(stat -c %s "$TMP_DIR/socat-chargen.out") bytes, equal to the pattern" \
	cmp -s "$TMP_DIR/pattern" "$TMP_DIR/socat-chargen.out"
chargen_conns=$((chargen_conns + 1))
chargen_bytes=$((chargen_bytes + 1048576))

log "checks: malformed chargen requests get an error line, then the close"
peer_check "request 'abc': error line" bad-abc \
	request "$DP_ADDR" "$CHARGEN_PORT" --send 'abc\n' --expect-prefix 'error: '
peer_check "request '\\n' (empty): error line" bad-empty \
	request "$DP_ADDR" "$CHARGEN_PORT" --send '\n' --expect-prefix 'error: '
peer_check "request of 40 digits (too long): error line" bad-long \
	request "$DP_ADDR" "$CHARGEN_PORT" --send '1234567890123456789012345678901234567890\n' \
	--expect-prefix 'error: '
chargen_conns=$((chargen_conns + 3))

dp_stats "$TMP_DIR/after" || die "cannot read stats"
log "checks: counters after chargen (the dataplane closed first: TIME_WAIT remains)"
expect_counter_eq "$TMP_DIR/mid" "$TMP_DIR/after" tcp_passive_opens "$chargen_conns"
expect_counter_eq "$TMP_DIR/mid" "$TMP_DIR/after" tcp_established "$chargen_conns"
expect_delta "$TMP_DIR/mid" "$TMP_DIR/after" tcp_bytes_out -ge "$chargen_bytes"
# TIME_WAIT lasts 60 s; all of them are still there unless this part took
# nearly that long.
if [ $((SECONDS - chargen_t0)) -lt 50 ]; then
	expect_conns "$chargen_conns" "every chargen connection in TIME_WAIT"
else
	check "tcp_conns <= $chargen_conns (only chargen TIME_WAITs)" \
		poll_wait 10 tcp_conns_le "$chargen_conns"
fi
dp_stats "$TMP_DIR/after" || die "cannot read stats"
expect_counter_eq "$TMP_DIR/mid" "$TMP_DIR/after" tcp_closed 0

log "checks: nothing went wrong along the way"
for c in tcp_timeouts tcp_resets_in tcp_bad_checksum tcp_conn_limit tcp_backlog_full; do
	expect_counter_eq "$TMP_DIR/before" "$TMP_DIR/after" "$c" 0
done
show_tcp_delta "$TMP_DIR/before" "$TMP_DIR/after"
wait_ping
dp_still_alive "at the end"
test_exit
