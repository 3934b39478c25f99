#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Lifecycle: SIGTERM and SIGINT each stop the dataplane promptly with exit 0
# and its counters on stdout, leaving the veth usable by the next start; bad
# command lines are refused with a one-line error naming the bad value,
# a non-zero exit, and no "ready".

source "$(dirname "$0")/lib.sh"

require_env
setup_topology

# stop_and_check SIGNAL: stop the running dataplane with SIGNAL and check
# how it went; the counters it prints must be those it served until then.
stop_and_check() {
	local sig=$1 t0 v pings
	pings=$(dp_counter icmp_echo_in) || fail "SIG$sig: cannot read icmp_echo_in before stopping"
	t0=$SECONDS
	if dp_stop "$sig"; then
		pass "SIG$sig: exited within $((SECONDS - t0)) s (limit ${STOP_TIMEOUT} s)"
	else
		fail "SIG$sig: still running after ${STOP_TIMEOUT} s"
		return
	fi
	check "SIG$sig: exit status $DP_RC (want 0)" test "$DP_RC" -eq 0
	v=$(awk '$1 == "rx_packets" { print $2 }' "$DP_OUT")
	check "SIG$sig: counters printed on stdout (rx_packets ${v:-missing})" \
		grep -Eq '^rx_packets [0-9]+$' "$DP_OUT"
	v=$(awk '$1 == "icmp_echo_in" { print $2 }' "$DP_OUT")
	check "SIG$sig: final icmp_echo_in ${v:-missing} = ${pings:-?} read just before the signal" \
		test "${v:-x}" = "${pings:-y}"
	check "SIG$sig: $VETH_DP still present and up in $NS_DP" link_is_up "$NS_DP" "$VETH_DP"
	check "SIG$sig: control socket removed" test ! -S "$DP_SOCK"
}

log "checks: clean stop on SIGTERM"
dp_start 1
wait_ping
expect_ping_loss 0 "ping before SIGTERM" -c 3 -i 0.1 -W 2 "$DP_ADDR"
stop_and_check TERM

log "checks: restart on the same veth, clean stop on SIGINT"
dp_start 1
# The veth survived the last stop if traffic flows again.
wait_ping
expect_ping_loss 0 "ping after restart" -c 3 -i 0.1 -W 2 "$DP_ADDR"
stop_and_check INT

log "checks: the veth still works after SIGINT"
dp_start 1
wait_ping
expect_ping_loss 0 "ping after second restart" -c 2 -i 0.1 -W 2 "$DP_ADDR"
dp_stop TERM || fail "third instance did not stop"

# bad_args DESCRIPTION PATTERN APP ARGS...: start with APP ARGS and check it
# is refused; PATTERN (grep -E) must match the error line on stderr.
bad_args() {
	local what=$1 pattern=$2 err lines
	shift 2
	dp_launch 1 "$@"
	if ! poll_wait 20 proc_exited "$DP_PID"; then
		fail "$what: still running after 20 s"
		kill -KILL "$DP_PID" 2>/dev/null
		wait "$DP_PID" 2>/dev/null
		DP_PID=
		return
	fi
	wait "$DP_PID"
	DP_RC=$?
	DP_PID=
	# EAL's own log lines are not the application's error.
	err=$(grep -Ev '^(EAL|TELEMETRY|[A-Z_]+): ' "$DP_ERR")
	lines=$(printf '%s' "$err" | grep -c .)
	if [ "$DP_RC" -ne 0 ] && [ "$DP_RC" -lt 128 ]; then
		pass "$what: exit status $DP_RC"
	else
		fail "$what: exit status $DP_RC (want 1..127)"
	fi
	if dp_is_ready; then
		fail "$what: printed ready"
	fi
	if [ "$lines" -eq 1 ] && printf '%s\n' "$err" | grep -Eq -- "$pattern"; then
		pass "$what: error: $err"
	elif [ "$lines" -ge 1 ] && printf '%s\n' "$err" | head -n 1 | grep -Eq -- "$pattern"; then
		pass "$what: error (first of $lines lines): $(printf '%s\n' "$err" | head -n 1)"
	else
		fail "$what: stderr does not name /$pattern/ in its first line:"
		printf '%s\n' "$err" | head -n 5 | sed 's/^/        /'
	fi
}

log "checks: bad command lines are refused"
bad_args "missing --ip" '--ip' --control "$DP_SOCK"
bad_args "prefix /33" '192\.0\.2\.10/33' --ip 192.0.2.10/33 --control "$DP_SOCK"
bad_args "garbage address" 'banana' --ip banana/24 --control "$DP_SOCK"
bad_args "octet out of range" '300\.1\.2\.3' --ip 300.1.2.3/24 --control "$DP_SOCK"
bad_args "no prefix" '192\.0\.2\.10' --ip 192.0.2.10 --control "$DP_SOCK"
bad_args "more --ip than ports" '(198\.51\.100\.10|port)' \
	--ip 192.0.2.10/24 --ip 198.51.100.10/24 --control "$DP_SOCK"
bad_args "unknown option" 'frobnicate' --ip 192.0.2.10/24 --frobnicate --control "$DP_SOCK"
bad_args "garbage gateway" 'nonsense' --ip 192.0.2.10/24 --gateway nonsense --control "$DP_SOCK"

test_exit
