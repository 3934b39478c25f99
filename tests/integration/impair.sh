# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers to put rampart-impair (tools/impair) between two interfaces of a
# namespace, for tests that need a lossy, slow or flapping path. Source it
# after lib.sh (or on its own: it needs nothing from lib.sh, but when lib.sh
# is loaded the bridge joins BG_PIDS, so lib.sh's cleanup trap stops it, and
# its log lands in TMP_DIR, so dump_logs shows it on failure).
#
#   impair_prepare_if NS IF          offloads off, IPv6 off, link up: do this
#                                    for both bridged ends and, for the
#                                    offloads, for the far ends too
#   impair_start NS IF_A IF_B [OPTS] run the bridge in NS between IF_A and
#                                    IF_B with rampart-impair OPTS; returns
#                                    once it printed its ready line
#   impair_blackout                  SIGUSR1: drop everything from now for
#                                    --signal-blackout ms (default 2000);
#                                    returns once the bridge confirmed it
#   impair_stats FILE                SIGUSR2: save the counters (NAME VALUE
#                                    lines) to FILE
#   impair_stat FILE NAME            one counter from a saved FILE
#   impair_alive                     the bridge is still running
#   impair_stop                      SIGTERM and wait; IMPAIR_RC is its exit
#                                    status (0 on a clean exit); the counters
#                                    at exit are in $IMPAIR_STATS
#   impair_cleanup                   impair_stop, then remove the log folder
#                                    if impair.sh made it (without lib.sh)
#
# One bridge at a time per shell; impair_start stops the previous one.
# Direction "ab" in the counters is IF_A -> IF_B. The binary is
# ${RAMPART_BUILD:-build}/tools/impair/rampart-impair, relative to the
# repository root unless RAMPART_BUILD is absolute.

IMPAIR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
case ${RAMPART_BUILD:-build} in
/*) IMPAIR_BIN=${RAMPART_BUILD}/tools/impair/rampart-impair ;;
*) IMPAIR_BIN=$IMPAIR_REPO/${RAMPART_BUILD:-build}/tools/impair/rampart-impair ;;
esac
IMPAIR_READY_TIMEOUT=${IMPAIR_READY_TIMEOUT:-10}

IMPAIR_PID=
IMPAIR_RC=
IMPAIR_LOG=
IMPAIR_STATS=
IMPAIR_DIR=
IMPAIR_OWN_DIR=
IMPAIR_LAUNCHES=0

_impair_msg() { printf 'impair: %s\n' "$*" >&2; }

# _impair_wait TIMEOUT_S CMD...: poll CMD every 0.05 s, bounded.
_impair_wait() {
	local deadline=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# Running and not a zombie (kill -0 succeeds on zombies).
_impair_running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	case ${stat%% *} in
	Z | X) return 1 ;;
	esac
	return 0
}

_impair_exited() { ! _impair_running "$1"; }

# Logs go to lib.sh's TMP_DIR when there is one, else to a directory of our
# own that impair_stop removes.
_impair_dir() {
	if [ -n "${TMP_DIR:-}" ] && [ -d "$TMP_DIR" ]; then
		IMPAIR_DIR=$TMP_DIR
	elif [ -z "$IMPAIR_DIR" ] || [ ! -d "$IMPAIR_DIR" ]; then
		IMPAIR_DIR=$(mktemp -d /tmp/rampart-impair.XXXXXX) || return 1
		IMPAIR_OWN_DIR=$IMPAIR_DIR
	fi
}

impair_prepare_if() {
	local ns=$1 dev=$2
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" >/dev/null 2>&1
	ip netns exec "$ns" ethtool -K "$dev" tx off rx off tso off gso off gro off \
		>/dev/null 2>&1 || return 1
	ip -n "$ns" link set "$dev" up
}

impair_alive() { [ -n "$IMPAIR_PID" ] && _impair_running "$IMPAIR_PID"; }

_impair_ready() { grep -q '^rampart-impair: ready' "$IMPAIR_LOG" 2>/dev/null; }

impair_start() {
	local ns=$1 if_a=$2 if_b=$3 deadline
	shift 3
	if [ ! -x "$IMPAIR_BIN" ]; then
		_impair_msg "$IMPAIR_BIN not found: build first (meson setup build && ninja -C build)"
		return 1
	fi
	[ -n "$IMPAIR_PID" ] && impair_stop
	_impair_dir || return 1
	IMPAIR_LAUNCHES=$((IMPAIR_LAUNCHES + 1))
	IMPAIR_LOG=$IMPAIR_DIR/impair.$IMPAIR_LAUNCHES.log
	IMPAIR_STATS=$IMPAIR_DIR/impair.$IMPAIR_LAUNCHES.stats
	IMPAIR_RC=
	echo "ip netns exec $ns $IMPAIR_BIN --a $if_a --b $if_b --stats-file $IMPAIR_STATS $*" \
		>"$IMPAIR_LOG"
	# ip netns exec execs the binary in place, so $! is the bridge.
	ip netns exec "$ns" "$IMPAIR_BIN" --a "$if_a" --b "$if_b" \
		--stats-file "$IMPAIR_STATS" "$@" </dev/null >>"$IMPAIR_LOG" 2>&1 &
	IMPAIR_PID=$!
	if declare -p BG_PIDS >/dev/null 2>&1; then
		BG_PIDS+=("$IMPAIR_PID")
	fi
	deadline=$((SECONDS + IMPAIR_READY_TIMEOUT))
	while ! _impair_ready; do
		if _impair_exited "$IMPAIR_PID"; then
			wait "$IMPAIR_PID"
			IMPAIR_RC=$?
			IMPAIR_PID=
			_impair_msg "rampart-impair exited with $IMPAIR_RC before ready:"
			sed 's/^/    /' "$IMPAIR_LOG" >&2
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			_impair_msg "rampart-impair not ready after ${IMPAIR_READY_TIMEOUT}s"
			return 1
		fi
		sleep 0.05
	done
}

_impair_count() { grep -c "$1" "$IMPAIR_LOG" 2>/dev/null; }
_impair_count_above() { [ "$(_impair_count "$1")" -gt "$2" ]; }

impair_blackout() {
	local before
	impair_alive || return 1
	before=$(_impair_count '^rampart-impair: blackout for')
	kill -USR1 "$IMPAIR_PID" || return 1
	_impair_wait 5 _impair_count_above '^rampart-impair: blackout for' "$before"
}

impair_stats() {
	local out=$1
	impair_alive || return 1
	rm -f "$IMPAIR_STATS"
	kill -USR2 "$IMPAIR_PID" || return 1
	# The bridge writes PATH.tmp and renames it, so existence means complete.
	_impair_wait 5 test -s "$IMPAIR_STATS" || return 1
	cp "$IMPAIR_STATS" "$out"
}

impair_stat() { awk -v n="$2" '$1 == n { print $2; exit }' "$1"; }

impair_stop() {
	[ -n "$IMPAIR_PID" ] || return 0
	kill -TERM "$IMPAIR_PID" 2>/dev/null
	if ! _impair_wait 5 _impair_exited "$IMPAIR_PID"; then
		_impair_msg "rampart-impair still running 5 s after SIGTERM; killing it"
		kill -KILL "$IMPAIR_PID" 2>/dev/null
	fi
	wait "$IMPAIR_PID" 2>/dev/null
	IMPAIR_RC=$?
	IMPAIR_PID=
	return 0
}

impair_cleanup() {
	impair_stop
	if [ -n "$IMPAIR_OWN_DIR" ]; then
		rm -rf "$IMPAIR_OWN_DIR"
		IMPAIR_OWN_DIR=
		IMPAIR_DIR=
	fi
}
