# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers for the integration tests, sourced by tests/integration/test_*.sh.
# Modelled on Linux tools/testing/selftests/net/lib.sh: every test builds its
# own network namespaces and veth pair with random suffixes, a cleanup trap
# removes everything it made whatever happens, and waits are bounded polls,
# never fixed sleeps.
#
# Topology (one per test run):
#
#   netns $NS_DP                            netns $NS_VIEWER
#   rampart-dataplane --vdev net_af_packet  ping, arping, scapy
#        |                                        |
#     $VETH_DP (no IP, IPv6 off) <--veth--> $VETH_VIEWER 192.0.2.1/24
#
# The dataplane owns 192.0.2.10/24 ($DP_ADDR) and the MAC of $VETH_DP.
#
# A test calls require_env, setup_topology, dp_start, then checks with
# check/pass/fail and finishes with test_exit. Exit codes: 0 pass, 1 fail,
# 77 skip (not root, or namespaces cannot be made).

set -u

KSFT_FAIL=1
KSFT_SKIP=77

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RAMPART_BUILD=${RAMPART_BUILD:-build}
case $RAMPART_BUILD in
/*) ;;
*) RAMPART_BUILD=$REPO_ROOT/$RAMPART_BUILD ;;
esac
DP_BIN=$RAMPART_BUILD/dataplane/rampart-dataplane

TEST_NAME=$(basename "$0" .sh)
SUFFIX=$(mktemp -u XXXXXX)
NS_DP=rampart-dp-$SUFFIX
NS_VIEWER=rampart-viewer-$SUFFIX
VETH_DP=rpd$SUFFIX
VETH_VIEWER=rpv$SUFFIX
DP_ADDR=192.0.2.10
DP_PREFIX=24
VIEWER_ADDR=192.0.2.1
DP_MAC=
VIEWER_MAC=

# Seconds; generous because a 2-core CI box also runs the busy-polling worker.
READY_TIMEOUT=${RAMPART_READY_TIMEOUT:-30}
STOP_TIMEOUT=${RAMPART_STOP_TIMEOUT:-10}

RET=0
TMP_DIR=
NETNS_MADE=()
BG_PIDS=()
DP_PID=
DP_RC=
DP_OUT=
DP_ERR=
DP_SOCK=
DP_LAUNCHES=0
DP_FILE_PREFIX=rampart-test-$SUFFIX

log() { printf '%s\n' "$*"; }

# Record a passing / failing check. A failing check does not stop the test,
# so one run reports every broken behaviour.
pass() { printf '  ok    %s\n' "$*"; }
fail() {
	printf '  FAIL  %s\n' "$*"
	RET=$KSFT_FAIL
}

# check DESCRIPTION CMD...: pass if CMD succeeds.
check() {
	local what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what"
	fi
}

skip() {
	log "SKIP: $TEST_NAME: $*"
	exit $KSFT_SKIP
}

# Abort the test now (cleanup still runs through the EXIT trap).
die() {
	fail "$*"
	exit $KSFT_FAIL
}

test_exit() {
	if [ "$RET" -eq 0 ]; then
		log "PASS: $TEST_NAME"
	else
		log "FAIL: $TEST_NAME"
	fi
	exit "$RET"
}

# ---------------------------------------------------------------- waiting

# poll_wait TIMEOUT_S CMD...: run CMD every 0.1 s until it succeeds (0) or
# TIMEOUT_S seconds have passed (1).
poll_wait() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# proc_running PID: true while PID exists and is not a zombie (kill -0 is
# true for zombies, so it cannot tell an exited child from a running one).
proc_running() {
	local stat state
	[ -r "/proc/$1/stat" ] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	state=${stat%% *}
	[ "$state" != Z ] && [ "$state" != X ]
}

proc_exited() { ! proc_running "$1"; }

# ---------------------------------------------------------------- environment

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "'$c' is not installed (tools/setup-deps installs it)"
	done
}

# The Debian python3-scapy lives under /usr/bin/python3; a pyenv or venv
# python3 earlier in PATH usually lacks it.
find_scapy_python() {
	local p
	for p in /usr/bin/python3 python3; do
		if command -v "$p" >/dev/null 2>&1 &&
			"$p" -c 'import scapy.all' >/dev/null 2>&1; then
			command -v "$p"
			return 0
		fi
	done
	return 1
}

# Skip unless root with working network namespaces; fail if the binary is
# missing (a missing build is a defect, not an environment limit).
require_env() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth)"
	command -v ip >/dev/null 2>&1 || skip "iproute2 'ip' not installed"
	local probe=rampart-probe-$SUFFIX
	ip netns add "$probe" >/dev/null 2>&1 || skip "cannot create network namespaces"
	if ! ip -n "$probe" link add name p0 type veth peer name p1 >/dev/null 2>&1; then
		ip netns del "$probe" >/dev/null 2>&1
		skip "cannot create veth interfaces"
	fi
	ip netns del "$probe" >/dev/null 2>&1
	require_cmd ethtool ping timeout
	[ -x "$DP_BIN" ] || die "$DP_BIN not found: build first (meson setup build && ninja -C build)"
	TMP_DIR=$(mktemp -d "/tmp/rampart-$TEST_NAME.XXXXXX") || die "mktemp failed"
	DP_SOCK=$TMP_DIR/dp.sock
}

# ---------------------------------------------------------------- cleanup

dump_logs() {
	local f i
	[ -n "$TMP_DIR" ] && [ -d "$TMP_DIR" ] || return 0
	for ((i = 1; i <= DP_LAUNCHES; i++)); do
		for f in "$TMP_DIR/dp.$i.cmd" "$TMP_DIR/dp.$i.out" "$TMP_DIR/dp.$i.err"; do
			[ -s "$f" ] || continue
			log "----- $(basename "$f") (last 100 lines) -----"
			tail -n 100 "$f"
		done
	done
	for f in "$TMP_DIR"/*.log; do
		[ -s "$f" ] || continue
		log "----- $(basename "$f") (last 100 lines) -----"
		tail -n 100 "$f"
	done
	log "----- end of logs -----"
}

kill_wait() {
	local pid=$1
	proc_running "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	poll_wait 5 proc_exited "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local rc=$?
	local pid ns
	trap - EXIT INT TERM HUP
	# Output may go to a closed pipe (| head): keep cleaning up regardless.
	trap '' PIPE
	if [ "$rc" -ne 0 ] && [ "$rc" -ne "$KSFT_SKIP" ] || [ "$RET" -ne 0 ]; then
		dump_logs
	fi
	[ -n "$DP_PID" ] && kill_wait "$DP_PID"
	for pid in "${BG_PIDS[@]}"; do
		kill_wait "$pid"
	done
	# Deleting a namespace destroys the veth end in it, and with it the peer.
	for ns in "${NETNS_MADE[@]}"; do
		ip netns del "$ns" >/dev/null 2>&1
	done
	[ "$DP_LAUNCHES" -gt 0 ] && rm -rf "/var/run/dpdk/$DP_FILE_PREFIX"
	[ -n "$TMP_DIR" ] && rm -rf "$TMP_DIR"
	exit "$rc"
}
trap cleanup EXIT
# Without these a signal would end the shell without running the EXIT trap.
trap 'exit 1' INT TERM HUP PIPE

# ---------------------------------------------------------------- topology

dp_ns() { ip netns exec "$NS_DP" "$@"; }
viewer() { ip netns exec "$NS_VIEWER" "$@"; }

# link_is_up NS DEV: DEV exists in NS and is administratively up.
link_is_up() { ip -n "$1" link show dev "$2" 2>/dev/null | grep -q '[<,]UP[,>]'; }

link_mac() { ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'; }

# Configure one veth end for the dataplane tests: no IPv6 (no DAD/RS/MLD
# noise on the wire) and no offloads, so checksums the far side sees are
# real and every frame is one wire-sized frame.
veth_prepare() {
	local ns=$1 dev=$2
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" || return 1
	ip netns exec "$ns" ethtool -K "$dev" tx off rx off tso off gso off gro off \
		>/dev/null 2>&1 || return 1
}

# netns_make NS...: fresh namespaces (lo up, IPv6 off), removed on exit.
netns_make() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || die "ip netns add $ns"
		NETNS_MADE+=("$ns")
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
}

# endpoints_up: address and raise the viewer's and the dataplane's veth
# ends (already created and prepared), read their MACs.
endpoints_up() {
	# Accept the dataplane's gratuitous ARP into the neighbour table
	# (off by default), so test_arp can see that it was sent.
	viewer sysctl -qw "net.ipv4.conf.$VETH_VIEWER.arp_accept=1"
	ip -n "$NS_VIEWER" addr add "$VIEWER_ADDR/$DP_PREFIX" dev "$VETH_VIEWER" ||
		die "cannot address $VETH_VIEWER"
	ip -n "$NS_DP" link set "$VETH_DP" up || die "cannot bring up $VETH_DP"
	ip -n "$NS_VIEWER" link set "$VETH_VIEWER" up || die "cannot bring up $VETH_VIEWER"
	DP_MAC=$(link_mac "$NS_DP" "$VETH_DP")
	VIEWER_MAC=$(link_mac "$NS_VIEWER" "$VETH_VIEWER")
	[ -n "$DP_MAC" ] && [ -n "$VIEWER_MAC" ] || die "cannot read veth MACs"
}

# setup_topology: namespaces, veth pair, addresses. Dies on failure.
setup_topology() {
	netns_make "$NS_DP" "$NS_VIEWER"
	ip link add "$VETH_DP" netns "$NS_DP" type veth \
		peer name "$VETH_VIEWER" netns "$NS_VIEWER" ||
		die "cannot create veth $VETH_DP/$VETH_VIEWER"
	veth_prepare "$NS_DP" "$VETH_DP" || die "cannot configure $VETH_DP"
	veth_prepare "$NS_VIEWER" "$VETH_VIEWER" || die "cannot configure $VETH_VIEWER"
	endpoints_up
	log "topology: $NS_DP/$VETH_DP ($DP_MAC) <-> $NS_VIEWER/$VETH_VIEWER ($VIEWER_MAC, $VIEWER_ADDR)"
}

# ---------------------------------------------------------------- echo origin

# echo_origin_start ADDR PORT: tests/integration/echo_origin.py (an HTTP/1.1
# origin answering the forwarded TLS facts, blobs and upload digests) in the
# viewer namespace on ADDR:PORT, ADDR added to the viewer's veth when it is
# not $VIEWER_ADDR. After setup_topology. Dies when it does not start.
ECHO_ORIGIN_OUT=
echo_origin_start() {
	local addr=$1 port=$2
	if [ "$addr" != "$VIEWER_ADDR" ]; then
		ip -n "$NS_VIEWER" addr add "$addr/$DP_PREFIX" dev "$VETH_VIEWER" ||
			die "cannot address $addr on $VETH_VIEWER"
	fi
	ECHO_ORIGIN_OUT=$TMP_DIR/echo-origin.$addr.$port.out
	# ip netns exec, not the viewer function: a backgrounded function is a
	# subshell, and $! must be the origin itself for the cleanup to stop it.
	ip netns exec "$NS_VIEWER" "${PYTHON:-/usr/bin/python3}" \
		"$(dirname "${BASH_SOURCE[0]}")/echo_origin.py" \
		"$addr" "$port" >"$ECHO_ORIGIN_OUT" 2>&1 &
	BG_PIDS+=("$!")
	poll_wait 10 grep -q '^listening' "$ECHO_ORIGIN_OUT" ||
		die "the echo origin did not start: $(tail -n 3 "$ECHO_ORIGIN_OUT")"
}

# ---------------------------------------------------------------- dataplane

# dp_eal_args WORKERS: sets the EAL_ARGS array. One worker runs on the main
# lcore (-l 0); with N > 1 every lcore but the main one is a worker, so N+1
# lcores are needed, floated over the CPUs there are when N+1 exceeds them.
dp_eal_args() {
	local workers=$1 ncpu
	ncpu=$(nproc)
	EAL_ARGS=()
	if [ "$workers" -le 1 ]; then
		EAL_ARGS+=(-l 0)
	elif [ "$((workers + 1))" -le "$ncpu" ]; then
		EAL_ARGS+=(-l "0-$workers")
	else
		EAL_ARGS+=(--lcores "(0-$workers)@(0-$((ncpu - 1)))")
	fi
	EAL_ARGS+=(--no-huge -m 512 --no-shconf --no-pci
		--file-prefix "$DP_FILE_PREFIX"
		--vdev "net_af_packet0,iface=$VETH_DP,qpairs=$workers,framecnt=4096")
}

# dp_launch WORKERS [APP ARGS...]: start the dataplane in $NS_DP in the
# background with the given application arguments (after --). Sets DP_PID,
# DP_OUT, DP_ERR. Output of every launch is kept for dump_logs.
dp_launch() {
	local workers=$1
	shift
	dp_eal_args "$workers"
	DP_LAUNCHES=$((DP_LAUNCHES + 1))
	DP_OUT=$TMP_DIR/dp.$DP_LAUNCHES.out
	DP_ERR=$TMP_DIR/dp.$DP_LAUNCHES.err
	DP_RC=
	rm -f "$DP_SOCK"
	echo "ip netns exec $NS_DP $DP_BIN ${EAL_ARGS[*]} -- $*" \
		>"$TMP_DIR/dp.$DP_LAUNCHES.cmd"
	# ip netns exec execs the binary in place, so $! is the dataplane.
	ip netns exec "$NS_DP" "$DP_BIN" "${EAL_ARGS[@]}" -- "$@" \
		</dev/null >"$DP_OUT" 2>"$DP_ERR" &
	DP_PID=$!
}

dp_is_ready() { grep -q '^rampart-dataplane: ready' "$DP_OUT" 2>/dev/null; }

# dp_wait_ready: wait for the ready line; fails early if the process exits.
dp_wait_ready() {
	local deadline=$((SECONDS + READY_TIMEOUT))
	while ! dp_is_ready; do
		if proc_exited "$DP_PID"; then
			wait "$DP_PID"
			DP_RC=$?
			DP_PID=
			log "rampart-dataplane exited with $DP_RC before ready"
			return 1
		fi
		[ "$SECONDS" -ge "$deadline" ] && {
			log "rampart-dataplane not ready after ${READY_TIMEOUT}s"
			return 1
		}
		sleep 0.1
	done
	return 0
}

# dp_start [WORKERS] [EXTRA APP ARGS...]: launch with the standard address
# and control socket, wait until ready; dies if it never gets there.
dp_start() {
	local workers=${1:-1}
	[ $# -gt 0 ] && shift
	dp_launch "$workers" --ip "$DP_ADDR/$DP_PREFIX" --control "$DP_SOCK" "$@"
	dp_wait_ready || die "rampart-dataplane did not become ready"
	poll_wait 10 test -S "$DP_SOCK" || die "control socket $DP_SOCK never appeared"
	log "rampart-dataplane ready (pid $DP_PID, $workers worker(s))"
}

# dp_stop [SIGNAL] [TIMEOUT_S]: signal the dataplane and wait for it to exit.
# Sets DP_RC (the exit status). Returns 1 if it had to be killed.
dp_stop() {
	local sig=${1:-TERM} timeout=${2:-$STOP_TIMEOUT}
	[ -n "$DP_PID" ] || return 0
	kill -"$sig" "$DP_PID" 2>/dev/null
	if ! poll_wait "$timeout" proc_exited "$DP_PID"; then
		log "rampart-dataplane still running ${timeout}s after SIG$sig; killing it"
		kill -KILL "$DP_PID" 2>/dev/null
		wait "$DP_PID" 2>/dev/null
		DP_RC=$?
		DP_PID=
		return 1
	fi
	wait "$DP_PID"
	DP_RC=$?
	DP_PID=
	return 0
}

dp_alive() { [ -n "$DP_PID" ] && proc_running "$DP_PID"; }

# ---------------------------------------------------------------- control socket

# The control socket speaks the framed JSON protocol of docs/CONTROL.md;
# ctlclient.py is the tests' client for it.
CTLCLIENT=$REPO_ROOT/tests/integration/ctlclient.py

# dp_ctl OP [KEY=VALUE...]: one request on the control socket; prints the
# result as `name value` lines (stats: the summed counters, rx_packets,
# tx_packets, tx_dropped, tcp_conns, portP.qQ.* and lcoreN.*; status:
# uptime_s, generation, workers (count), ports (count), portP.name, ...).
# Fails if the dataplane answers ok:false or cannot be reached.
dp_ctl() {
	timeout 15 "${PYTHON:-/usr/bin/python3}" "$CTLCLIENT" --text "$DP_SOCK" "$@"
}

# dp_ctl_json OP [KEY=VALUE...] / dp_ctl_json --batch FILE ...: the raw JSON
# response line(s); exit 1 on ok:false (see ctlclient.py).
dp_ctl_json() {
	timeout 15 "${PYTHON:-/usr/bin/python3}" "$CTLCLIENT" "$DP_SOCK" "$@"
}

# dp_stats FILE: save the whole `stats` reply (NAME VALUE lines) to FILE.
dp_stats() {
	dp_ctl stats >"$1" && [ -s "$1" ]
}

# stat_get FILE NAME: the value of NAME in a saved reply (empty if absent).
stat_get() { awk -v n="$2" '$1 == n { print $2; exit }' "$1"; }

# dp_counter NAME: one counter, read now. Returns 1 if absent.
dp_counter() {
	local v
	v=$(dp_ctl stats | awk -v n="$1" '$1 == n { print $2; exit }')
	[ -n "$v" ] || return 1
	echo "$v"
}

# stat_delta BEFORE AFTER NAME[+NAME...]: sum of increases; dies if a
# counter is missing from either reply (a renamed counter must fail loudly).
stat_delta() {
	local before=$1 after=$2 names=$3 n a b total=0
	local IFS=+
	for n in $names; do
		b=$(stat_get "$before" "$n")
		a=$(stat_get "$after" "$n")
		if [ -z "$a" ] || [ -z "$b" ]; then
			echo "missing-counter:$n"
			return 1
		fi
		total=$((total + a - b))
	done
	echo "$total"
}

# expect_delta BEFORE AFTER NAMES OP N: check that the increase of NAMES
# (summed) compares with N (OP is a test(1) operator: -eq, -ge, ...).
expect_delta() {
	local before=$1 after=$2 names=$3 op=$4 want=$5 got
	if ! got=$(stat_delta "$before" "$after" "$names"); then
		fail "counter ${got#missing-counter:} missing from the stats reply"
		return
	fi
	if test "$got" "$op" "$want"; then
		pass "$names increased by $got ($op $want)"
	else
		fail "$names increased by $got, expected $op $want"
	fi
}

# ---------------------------------------------------------------- traffic

# ping_loss OUTPUT_FILE: the packet-loss percentage ping reported.
ping_loss() {
	sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$1" | head -n 1
}

# viewer_ping_ok ARGS...: one ping round from the viewer that got answers.
viewer_ping_ok() { viewer ping -q "$@" >/dev/null 2>&1; }

# wait_ping [ADDR]: poll until one echo from the viewer is answered (10 s).
wait_ping() {
	local addr=${1:-$DP_ADDR}
	poll_wait 10 viewer_ping_ok -c 1 -W 1 "$addr" ||
		die "no answer to ping $addr from $NS_VIEWER within 10 s"
}

# expect_ping_loss WANT_PCT DESCRIPTION PING_ARGS...: run ping from the viewer
# and check the loss it reports.
expect_ping_loss() {
	local want=$1 what=$2 out loss
	shift 2
	out=$TMP_DIR/ping.log
	viewer ping "$@" >"$out" 2>&1
	loss=$(ping_loss "$out")
	if [ "$loss" = "$want" ]; then
		pass "$what: ${loss}% loss"
	else
		fail "$what: ${loss:-?}% loss, expected ${want}% (ping $*)"
		sed 's/^/        /' "$out" | tail -n 5
	fi
}
