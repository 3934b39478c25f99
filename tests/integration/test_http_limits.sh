#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Body stall timeouts and the per-origin connection limit of the HTTP
# reverse proxy (docs/HTTP.md "Timeouts", "Origin connection limit"), end
# to end over plain HTTP: a dataplane with one worker (so max_connections
# is exact), its control plane and one distribution applied through
# rampartctl; limits_origin.py as the origin in the viewer namespace,
# logging the connections it holds and how bodies ended; viewers are curl
# and raw-socket clients (client.py, written below) in the viewer
# namespace.
#
# Body stalls, origin "st" with response_timeout_ms 1000:
#   - the viewer stops sending its request body: 408 with X-Cache and
#     close after ~1 s, http_body_timeouts, the origin's connection reset
#     with a partial body;
#   - the origin stops mid-body: the viewer is reset after ~1 s with less
#     than Content-Length, px_origin_errors_timeout, the access-log reason;
#   - the viewer stops reading (tiny receive buffer, never read): reset
#     once the windows are full and 1 s passed, http_send_timeouts, the
#     access-log reason;
#   - control: bodies that trickle (a byte every 300 ms for 3 s, both
#     ways) are not cut; the head timeout still gives 504.
#
# Connection limit (the origin counts the connections it holds):
#   - max_connections 2, 4 concurrent 1.5 s requests: all 200, never more
#     than 2 connections at the origin, px_origin_queued, two rounds;
#   - max_connections 1, connect_timeout_ms 300, 2 concurrent: one 200,
#     one 503 with X-Cache after 0.3 s (before the slot frees),
#     px_origin_errors_limit, the access-log reason;
#   - a viewer that resets while queued (origin "lim1w": the same server,
#     so the same count, with a 5 s wait) leaves the queue: its request
#     never reaches the origin; then 10 requests in a row that
#     each need a new connection (the origin closes after each) and 5 on a
#     kept one all succeed under max_connections 1: no slot leaked.

# shellcheck disable=SC2016 # check ... eval '...' expands when it runs
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cp_lib.sh"

PY=${PYTHON:-/usr/bin/python3}
HTTP_PORT=80
ST_PORT=8080           # origin "st": response_timeout_ms 1000
LIM2_PORT=8081         # origin "lim2": max_connections 2
LIM1_PORT=8082         # origin "lim1": max_connections 1, connect 300 ms
HOST=test.example.com
CT=20                  # seconds one client command may take (bounds a hang)

require_env
require_cmd curl "$PY"
[ -x "$CP_BIN" ] || die "$CP_BIN not found: build first"
[ -x "$CTL_BIN" ] || die "$CTL_BIN not found: build first"

# ---------------------------------------------------------------- setup

setup_topology
ACCESS_LOG=$TMP_DIR/access.log
dp_start 1 --http-port "$HTTP_PORT" --access-log "$ACCESS_LOG"
make_test_pki "$TMP_DIR/pki" || die "cannot make the test PKI"
# shellcheck disable=SC2119 # the control plane needs no extra arguments
cp_start

ORIGIN_LOG=$TMP_DIR/origin.log
ip netns exec "$NS_VIEWER" "$PY" "$(dirname "$0")/limits_origin.py" "$VIEWER_ADDR" \
	"$ST_PORT" "$LIM2_PORT" "$LIM1_PORT" >"$ORIGIN_LOG" 2>&1 &
BG_PIDS+=("$!")
poll_wait 10 grep -qs '^listening' "$ORIGIN_LOG" ||
	die "the origin did not start: $(tail -n 3 "$ORIGIN_LOG")"

rctl cert import --name site --cert "$TMP_DIR/pki/chain.pem" --key "$TMP_DIR/pki/leaf.key" \
	--ca "$TMP_DIR/pki/root.pem" >/dev/null || die "cert import: $(tail -n 3 "$TMP_DIR/rctl.err")"

O="\"domain\": \"origin.example.com\", \"address\": \"$VIEWER_ADDR\", \"protocol_policy\": \"http-only\""
cat >"$TMP_DIR/dist.json" <<EOF
{
  "name": "site",
  "aliases": ["$HOST"],
  "certificates": { "ecdsa": "site" },
  "origins": [
    { "id": "st", $O, "http_port": $ST_PORT, "response_timeout_ms": 1000 },
    { "id": "lim2", $O, "http_port": $LIM2_PORT, "max_connections": 2, "connect_timeout_ms": 5000 },
    { "id": "lim1", $O, "http_port": $LIM1_PORT, "max_connections": 1, "connect_timeout_ms": 300 },
    { "id": "lim1w", $O, "http_port": $LIM1_PORT, "max_connections": 1, "connect_timeout_ms": 5000 }
  ],
  "behaviors": [
    { "path_pattern": "/lim2/*", "origin": "lim2", "viewer_protocol_policy": "allow-all" },
    { "path_pattern": "/lim1/*", "origin": "lim1", "viewer_protocol_policy": "allow-all" },
    { "path_pattern": "/lim1w/*", "origin": "lim1w", "viewer_protocol_policy": "allow-all" }
  ],
  "default_behavior": { "origin": "st", "viewer_protocol_policy": "allow-all" }
}
EOF
cp_apply "$TMP_DIR/dist.json" || die "the distribution was not applied"
wait_ping "$DP_ADDR"

# ---------------------------------------------------------------- clients

BASE="http://$HOST"
RESOLVE=(--resolve "$HOST:$HTTP_PORT:$DP_ADDR")

# get OUT PATH [CURL ARGS...]: body in OUT, head in OUT.h, prints
# "status size time_total".
get() {
	local out=$1 path=$2
	shift 2
	viewer timeout "$CT" curl -sS --max-time "$CT" "${RESOLVE[@]}" -D "$out.h" \
		-o "$out" -w '%{http_code} %{size_download} %{time_total}\n' "$@" \
		"$BASE$path" 2>"$out.err"
}

# get_bg OUT PATH: get in the background, its line in OUT.w; the pid is
# appended to BG_PIDS (and to JOBS, for wait_jobs).
JOBS=()
get_bg() {
	local out=$1 path=$2
	ip netns exec "$NS_VIEWER" timeout "$CT" curl -sS --max-time "$CT" "${RESOLVE[@]}" \
		-D "$out.h" -o "$out" -w '%{http_code} %{size_download} %{time_total}\n' \
		"$BASE$path" >"$out.w" 2>"$out.err" &
	BG_PIDS+=("$!")
	JOBS+=("$!")
}
wait_jobs() {
	local p
	for p in "${JOBS[@]}"; do
		wait "$p"
	done
	JOBS=()
}

# hdr OUT NAME: the value of header NAME in OUT.h (case-insensitive).
hdr() { awk -v n="$2" -F': ' 'tolower($1) == tolower(n) { sub(/\r$/, "", $2); print $2; exit }' "$1.h"; }

# wf FILE N: field N of FILE's first line.
wf() { awk -v i="$2" '{ print $i; exit }' "$1"; }

# ge A B / le A B: A >= B, A <= B as decimals.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

stats() { dp_stats "$1" || die "cannot read the dataplane's counters"; }

# origin_count PATTERN: lines of the origin's log matching the ERE.
origin_count() { grep -cE "$1" "$ORIGIN_LOG" || true; }

# origin_peak PORT: the most connections the origin held at once on PORT.
origin_peak() {
	awk -v p="$1" '$1 == "conn" && $2 == p && $3 == "open" && $4 > m { m = $4 } END { print m + 0 }' "$ORIGIN_LOG"
}

# alog_reason PATH REASON: the access log has a line for PATH with REASON.
alog_reason() {
	"$PY" - "$ACCESS_LOG" "$1" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["path"].split("?")[0] == sys.argv[2] and r.get("reason") == sys.argv[3]:
        sys.exit(0)
sys.exit(1)
PY
}

# Raw-socket viewers, run in the viewer namespace: client.py MODE ... OUT
# writes one JSON object to OUT (jget reads it).
CLIENT=$TMP_DIR/client.py
cat >"$CLIENT" <<'PY'
import json, socket, struct, sys, time

mode, addr, port, host, path = sys.argv[1:6]
args = sys.argv[6:-1]
out = sys.argv[-1]
res = {}


def head_of(buf):
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return None, buf
    lines = head.decode("latin-1").split("\r\n")
    h = {"status": int(lines[0].split()[1])}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        h[k.strip().lower()] = v.strip()
    return h, body


def read_all(s, limit):
    """Read until EOF, reset or limit s; (bytes, how, time it ended)."""
    buf = b""
    s.settimeout(0.2)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return buf, "reset", time.monotonic()
        if not d:
            return buf, "eof", time.monotonic()
        buf += d
    return buf, "timeout", time.monotonic()


s = socket.socket()
if mode == "noread":
    # Set before connecting: the window advertised stays small.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(5)
s.connect((addr, int(port)))

if mode == "bodystall":
    # A head announcing CL bytes, SENT of them, then nothing.
    cl, sent = int(args[0]), int(args[1])
    t0 = time.monotonic()
    s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s"
              % (path.encode(), host.encode(), cl, b"x" * sent))
    buf, how, t1 = read_all(s, 10)
    h, body = head_of(buf)
    res = {"head": h, "end": how, "elapsed": t1 - t0, "body": body.decode("latin-1")}
elif mode == "cutread":
    # Read a response as it comes: how did it end, and when.
    t0 = time.monotonic()
    s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path.encode(), host.encode()))
    buf = b""
    s.settimeout(0.2)
    end = time.monotonic() + 10
    how = "timeout"
    while time.monotonic() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            how = "reset"
            break
        if not d:
            how = "eof"
            break
        buf += d
    t1 = time.monotonic()
    h, body = head_of(buf)
    res = {"head": h, "end": how, "body_len": len(body), "elapsed": t1 - t0}
elif mode == "noread":
    # Ask for a large body, never read: how does the connection end?
    t0 = time.monotonic()
    s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path.encode(), host.encode()))
    state, how = None, "open"
    while time.monotonic() - t0 < 20:
        state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        if state == 7:          # TCP_CLOSE: reset
            how = "reset"
            break
        if state == 8:          # TCP_CLOSE_WAIT: FIN
            how = "fin"
            break
        time.sleep(0.05)
    res = {"end": how, "elapsed": time.monotonic() - t0, "state": state,
           "so_error": s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)}
elif mode == "dripup":
    # A body of N bytes, one every MS ms.
    n, ms = int(args[0]), int(args[1])
    s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n" % (path.encode(), host.encode(), n))
    t0 = time.monotonic()
    for _ in range(n):
        time.sleep(ms / 1000)
        s.sendall(b"u")
    buf, how, t1 = read_all(s, 10)
    h, body = head_of(buf)
    res = {"head": h, "end": how, "elapsed": t1 - t0, "body": body.decode("latin-1")}
elif mode == "gone":
    # Ask, wait DELAY s, then reset (SO_LINGER 0).
    s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path.encode(), host.encode()))
    time.sleep(float(args[0]))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    res = {"end": "reset"}
json.dump(res, open(out, "w"))
PY

# client MODE PATH [ARGS...] OUT: client.py against the dataplane.
client() {
	local mode=$1 path=$2
	shift 2
	viewer timeout "$CT" "$PY" "$CLIENT" "$mode" "$DP_ADDR" "$HTTP_PORT" "$HOST" "$path" "$@"
}

# jq_ OUT EXPR: jget on a client's JSON.
jq_() { jget "$1" "$2"; }

# ---------------------------------------------------------------- body stalls

log "checks: the viewer stops sending its request body"
stats "$TMP_DIR/s0"
client bodystall /upload 100000 10 "$TMP_DIR/bs"
log "  $(cat "$TMP_DIR/bs")"
check "408 from the edge" [ "$(jq_ "$TMP_DIR/bs" 'j["head"]["status"]')" = 408 ]
check "408 carries X-Cache: Error from rampart" \
	[ "$(jq_ "$TMP_DIR/bs" 'j["head"]["x-cache"]')" = "Error from rampart" ]
check "408 says Connection: close" [ "$(jq_ "$TMP_DIR/bs" 'j["head"]["connection"]')" = close ]
check "the connection is closed after the 408" [ "$(jq_ "$TMP_DIR/bs" 'j["end"]')" = eof ]
t=$(jq_ "$TMP_DIR/bs" 'j["elapsed"]')
check "after the 1 s stall, not much later (${t}s after the request)" eval 'ge "$t" 0.98 && le "$t" 5'
check "408 says why" grep -q 'request body not received in time' <<<"$(jq_ "$TMP_DIR/bs" 'j["body"]')"
check "the origin's connection ended with 10 of 100000 body bytes" \
	poll_wait 5 grep -qE "^upload $ST_PORT 10/100000 (reset|eof)$" "$ORIGIN_LOG"
stats "$TMP_DIR/s1"
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" http_body_timeouts -eq 1
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" px_origin_errors_timeout -eq 0
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" http_edge_4xx_other -eq 1
check "access log: 'request body not received in time'" \
	poll_wait 5 alog_reason /upload 'request body not received in time'

log "checks: the origin stops mid-body"
stats "$TMP_DIR/s2"
client cutread '/stallbody?len=1000000&sent=1000' "$TMP_DIR/cr"
log "  $(cat "$TMP_DIR/cr")"
check "200 and Content-Length 1000000 reached the viewer" \
	[ "$(jq_ "$TMP_DIR/cr" '"%d %s" % (j["head"]["status"], j["head"]["content-length"])')" = "200 1000000" ]
check "the viewer got the 1000 bytes sent, less than Content-Length" \
	[ "$(jq_ "$TMP_DIR/cr" 'j["body_len"]')" = 1000 ]
check "the viewer's connection was reset" [ "$(jq_ "$TMP_DIR/cr" 'j["end"]')" = reset ]
t=$(jq_ "$TMP_DIR/cr" 'j["elapsed"]')
check "after the 1 s stall, not much later (${t}s after the request)" eval 'ge "$t" 0.98 && le "$t" 5'
check "the origin's connection was closed" \
	poll_wait 5 grep -qE "^held $ST_PORT stallbody (reset|eof)$" "$ORIGIN_LOG"
stats "$TMP_DIR/s3"
expect_delta "$TMP_DIR/s2" "$TMP_DIR/s3" px_origin_errors_timeout -eq 1
expect_delta "$TMP_DIR/s2" "$TMP_DIR/s3" http_send_timeouts -eq 0
check "access log: 'the origin stalled in the response body'" \
	poll_wait 5 alog_reason /stallbody 'the origin stalled in the response body'

log "checks: the viewer stops reading a large response"
stats "$TMP_DIR/s4"
client noread /big "$TMP_DIR/nr"
log "  $(cat "$TMP_DIR/nr")"
check "the edge reset the viewer (TCP state CLOSE, ECONNRESET)" \
	[ "$(jq_ "$TMP_DIR/nr" '"%s %d" % (j["end"], j["so_error"])')" = "reset 104" ]
t=$(jq_ "$TMP_DIR/nr" 'j["elapsed"]')
check "not before the 1 s stall (${t}s after the request)" ge "$t" 0.98
check "the origin's connection was closed" \
	poll_wait 5 grep -qE "^held $ST_PORT big gone$" "$ORIGIN_LOG"
stats "$TMP_DIR/s5"
expect_delta "$TMP_DIR/s4" "$TMP_DIR/s5" http_send_timeouts -eq 1
expect_delta "$TMP_DIR/s4" "$TMP_DIR/s5" px_origin_errors_timeout -eq 0
check "access log: 'the viewer stopped reading the response'" \
	poll_wait 5 alog_reason /big 'the viewer stopped reading the response'

log "checks: bodies that trickle are not cut; the head timeout still holds"
stats "$TMP_DIR/s6"
get_bg "$TMP_DIR/drip" '/drip?n=10&ms=300'
client dripup /upload 10 300 "$TMP_DIR/du"
wait_jobs
log "  download: $(cat "$TMP_DIR/drip.w"), upload: $(cat "$TMP_DIR/du")"
check "download, a byte every 300 ms for 3 s: 200, all 10 bytes" \
	sh -c '[ "$(cat "$1.w" | cut -d" " -f1-2)" = "200 10" ] && [ "$(cat "$1")" = dddddddddd ]' _ "$TMP_DIR/drip"
check "download took the 3 s ($(wf "$TMP_DIR/drip.w" 3)s)" ge "$(wf "$TMP_DIR/drip.w" 3)" 2.9
check "upload, a byte every 300 ms for 3 s: 200 'got 10'" \
	[ "$(jq_ "$TMP_DIR/du" '"%d %s" % (j["head"]["status"], j["body"].strip())')" = "200 got 10" ]
check "the origin got the whole trickled upload" \
	poll_wait 5 grep -qE "^upload $ST_PORT 10/10 complete$" "$ORIGIN_LOG"
get "$TMP_DIR/hang" /hang >"$TMP_DIR/hang.w"
check "no response head in time: 504 ($(cat "$TMP_DIR/hang.w"))" [ "$(wf "$TMP_DIR/hang.w" 1)" = 504 ]
check "504 carries X-Cache: Error from rampart" [ "$(hdr "$TMP_DIR/hang" x-cache)" = "Error from rampart" ]
check "504 after the 1 s response timeout" ge "$(wf "$TMP_DIR/hang.w" 3)" 0.95
stats "$TMP_DIR/s7"
expect_delta "$TMP_DIR/s6" "$TMP_DIR/s7" http_body_timeouts+http_send_timeouts -eq 0
expect_delta "$TMP_DIR/s6" "$TMP_DIR/s7" px_origin_errors_timeout -eq 1
expect_delta "$TMP_DIR/s6" "$TMP_DIR/s7" http_edge_504 -eq 1

# ---------------------------------------------------------------- limits

log "checks: max_connections 2, four concurrent requests"
stats "$TMP_DIR/s8"
t0=$EPOCHREALTIME
for i in 1 2 3 4; do
	get_bg "$TMP_DIR/l2.$i" /lim2/slow
done
wait_jobs
took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
for i in 1 2 3 4; do
	log "  request $i: $(cat "$TMP_DIR/l2.$i.w")"
done
check "all four: 200" [ "$(cat "$TMP_DIR"/l2.?.w | cut -d' ' -f1 | sort | uniq -c | awk '{ print $1, $2 }')" = "4 200" ]
peak=$(origin_peak "$LIM2_PORT")
check "the origin held 2 connections at most, and 2 at once ($peak)" [ "$peak" = 2 ]
check "two rounds of 1.5 s: all four answered after 3 s or more (${took}s)" ge "$took" 3
stats "$TMP_DIR/s9"
expect_delta "$TMP_DIR/s8" "$TMP_DIR/s9" px_origin_queued -ge 2
expect_delta "$TMP_DIR/s8" "$TMP_DIR/s9" px_origin_errors_limit -eq 0
expect_delta "$TMP_DIR/s8" "$TMP_DIR/s9" px_origin_connects -eq 2

log "checks: max_connections 1, connect_timeout_ms 300, two concurrent requests"
stats "$TMP_DIR/s10"
get_bg "$TMP_DIR/l1.1" '/lim1/slow?ms=2500'
get_bg "$TMP_DIR/l1.2" '/lim1/slow?ms=2500'
wait_jobs
log "  $(cat "$TMP_DIR/l1.1.w"), $(cat "$TMP_DIR/l1.2.w")"
check "one 200, one 503" \
	[ "$(cat "$TMP_DIR"/l1.?.w | cut -d' ' -f1 | sort | tr '\n' ' ')" = "200 503 " ]
refused=$(grep -l '^503 ' "$TMP_DIR"/l1.?.w | head -n 1)
refused=${refused%.w}
if [ -n "$refused" ]; then
	t=$(wf "$refused.w" 3)
	check "the 503 came after the 0.3 s wait, well before the slot freed (${t}s)" \
		eval 'ge "$t" 0.3 && le "$t" 1.5'
	check "503 carries X-Cache: Error from rampart" [ "$(hdr "$refused" x-cache)" = "Error from rampart" ]
	check "503 says why" grep -q "the origin's connection limit is reached" "$refused"
fi
check "the origin held 1 connection at most ($(origin_peak "$LIM1_PORT"))" [ "$(origin_peak "$LIM1_PORT")" = 1 ]
check "only one request reached the origin" [ "$(origin_count "^req $LIM1_PORT GET /lim1/slow$")" = 1 ]
stats "$TMP_DIR/s11"
expect_delta "$TMP_DIR/s10" "$TMP_DIR/s11" px_origin_errors_limit -eq 1
expect_delta "$TMP_DIR/s10" "$TMP_DIR/s11" px_origin_queued -eq 1
expect_delta "$TMP_DIR/s10" "$TMP_DIR/s11" http_edge_503 -eq 1
check "access log: 'the origin's connection limit is reached'" \
	poll_wait 5 alog_reason /lim1/slow "the origin's connection limit is reached"

log "checks: no slot leaks under max_connections 1"
stats "$TMP_DIR/s12"
get_bg "$TMP_DIR/l1.3" '/lim1/slow?ms=1000'
n_slow() { [ "$(origin_count "^req $LIM1_PORT GET /lim1/slow$")" -ge 2 ]; }
poll_wait 5 n_slow || fail "the slow request did not reach the origin"
client gone /lim1w/gone 0.1 "$TMP_DIR/gone"
wait_jobs
stats "$TMP_DIR/s12b"
expect_delta "$TMP_DIR/s12" "$TMP_DIR/s12b" px_origin_queued -eq 1
expect_delta "$TMP_DIR/s12" "$TMP_DIR/s12b" px_origin_errors_limit -eq 0
check "the request holding the slot: 200 ($(cat "$TMP_DIR/l1.3.w"))" [ "$(wf "$TMP_DIR/l1.3.w" 1)" = 200 ]
codes=
for i in 1 2 3 4 5 6 7 8 9 10; do
	codes+="$(get "$TMP_DIR/c$i" /lim1/close | cut -d' ' -f1) "
done
check "10 requests in a row, a new connection each: all 200 ($codes)" \
	[ "$codes" = "200 200 200 200 200 200 200 200 200 200 " ]
check "all 10 reached the origin" \
	[ "$(origin_count "^req $LIM1_PORT GET /lim1/close$")" = 10 ]
codes=
for i in 1 2 3 4 5; do
	codes+="$(get "$TMP_DIR/f$i" /lim1/fast | cut -d' ' -f1) "
done
check "5 more on a kept connection: all 200 ($codes)" [ "$codes" = "200 200 200 200 200 " ]
# Checked this late: a request left in the queue would have been sent
# once the slot freed, before the requests above.
check "the request whose viewer left while queued never reached the origin" \
	[ "$(origin_count "^req $LIM1_PORT GET /lim1w/gone$")" = 0 ]
stats "$TMP_DIR/s13"
expect_delta "$TMP_DIR/s12" "$TMP_DIR/s13" px_origin_errors_limit -eq 0
expect_delta "$TMP_DIR/s12" "$TMP_DIR/s13" px_origin_connects -ge 10

check "dataplane still running" dp_alive
test_exit
