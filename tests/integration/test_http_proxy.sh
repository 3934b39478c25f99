#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The HTTP/1.1 reverse proxy over plain TCP, end to end: a dataplane with its
# control plane and one distribution applied through rampartctl, nginx as
# the origin on the viewer namespace's own address ($VIEWER_ADDR:8080, which
# the dataplane reaches over the same veth with active opens), real clients
# from the viewer namespace:
#   - bodies byte for byte: a small file, 10 MiB (also to a rate-limited
#     reader: back-pressure to the origin), a chunked response (nginx
#     sub_filter drops Content-Length), a 10 MiB upload (nginx DAV PUT, the
#     stored file compared), a HEAD;
#   - keep-alive: several URLs on one curl connection, one viewer connection
#     and pooled origin connections (counters); pipelining: two requests in
#     one write, two responses in order;
#   - viewer protocol policies over HTTP: redirect-to-https 301 (GET) and
#     308 (POST) with the exact Location, https-only 403, allow-all proxied;
#     cache-behavior order (first match wins);
#   - security headers present, HSTS absent over HTTP; forwarding headers as
#     the origin saw them (nginx access log);
#   - smuggling refused with the parser's status and the connection closed
#     (CL+TE, obs-fold); slowloris closed at the header timeout;
#   - origin down: 502 with X-Cache; origin stalled: 504; https-only and
#     address-less origins: 502 with their reason;
#   - the access log has one JSON line per request.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cp_lib.sh"

PY=${PYTHON:-/usr/bin/python3}
HTTP_PORT=80
ORIGIN_PORT=8080
DOWN_PORT=8099         # nothing listens there
STALL_PORT=8098        # accepts and never answers
HOST=test.example.com
CT=20                  # seconds one client command may take (bounds a hang)

require_env
require_cmd curl nginx sha256sum "$PY"
[ -x "$CP_BIN" ] || die "$CP_BIN not found: build first"
[ -x "$CTL_BIN" ] || die "$CTL_BIN not found: build first"

# ---------------------------------------------------------------- origin

ORIG=$TMP_DIR/origin
mkdir -p "$ORIG/www/upload" "$ORIG/www/chunked" "$ORIG/tmp"
printf 'hello from the origin\n' >"$ORIG/www/small.txt"
head -c $((10 << 20)) /dev/urandom >"$ORIG/www/big.bin"
head -c $((2 << 20)) /dev/urandom >"$ORIG/www/chunked/c.bin"
head -c $((10 << 20)) /dev/urandom >"$TMP_DIR/upload.bin"
for p in order/abc order/xyz secure/x; do
	mkdir -p "$ORIG/www/$(dirname "$p")"
	printf '%s\n' "$p" >"$ORIG/www/$p"
done

cat >"$ORIG/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $ORIG/nginx.pid;
error_log $ORIG/error.log info;
events { worker_connections 1024; }
http {
  log_format fwd '\$request_method \$request_uri host="\$host" xff="\$http_x_forwarded_for" via="\$http_via" xfp="\$http_x_forwarded_proto" conn=\$connection';
  access_log $ORIG/access.log fwd;
  client_body_temp_path $ORIG/tmp/body;
  proxy_temp_path $ORIG/tmp/proxy;
  fastcgi_temp_path $ORIG/tmp/fcgi;
  uwsgi_temp_path $ORIG/tmp/uwsgi;
  scgi_temp_path $ORIG/tmp/scgi;
  gzip off;
  keepalive_timeout 75s;
  server {
    listen $VIEWER_ADDR:$ORIGIN_PORT;
    root $ORIG/www;
    default_type application/octet-stream;
    client_max_body_size 64m;
    location /upload/ { dav_methods PUT; create_full_put_path on; }
    location /chunked/ {
      # sub_filter drops Content-Length: the body goes out chunked.
      chunked_transfer_encoding on;
      sub_filter_types *;
      sub_filter 'rampart-never-matches-this' 'x';
    }
    location = /echo-method { return 200 "\$request_method\n"; }
  }
}
EOF

# ---------------------------------------------------------------- setup

setup_topology
ACCESS_LOG=$TMP_DIR/access.log
dp_start 1 --http-port "$HTTP_PORT" --http-header-timeout 1500 \
	--access-log "$ACCESS_LOG"
make_test_pki "$TMP_DIR/pki" || die "cannot make the test PKI"
cp_start

# ip netns exec execs in place, so $! is nginx and the cleanup stops it (a
# backgrounded shell function would leave it running).
ip netns exec "$NS_VIEWER" nginx -c "$ORIG/nginx.conf" -g 'daemon off;' </dev/null \
	>"$TMP_DIR/nginx.log" 2>&1 &
BG_PIDS+=("$!")
poll_wait 10 viewer curl -s -o /dev/null "http://$VIEWER_ADDR:$ORIGIN_PORT/small.txt" ||
	die "nginx did not start: $(tail -n 5 "$TMP_DIR/nginx.log" "$ORIG/error.log")"

: >"$TMP_DIR/stall.log"
ip netns exec "$NS_VIEWER" "$PY" - "$VIEWER_ADDR" "$STALL_PORT" >"$TMP_DIR/stall.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
print("listening", flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)          # never answered
PY
BG_PIDS+=("$!")
poll_wait 10 grep -q listening "$TMP_DIR/stall.log" || die "stall server did not start"

rctl cert import --name site --cert "$TMP_DIR/pki/chain.pem" --key "$TMP_DIR/pki/leaf.key" \
	--ca "$TMP_DIR/pki/root.pem" >/dev/null || die "cert import: $(tail -n 3 "$TMP_DIR/rctl.err")"

O="\"domain\": \"origin.example.com\", \"address\": \"$VIEWER_ADDR\", \"protocol_policy\": \"http-only\""
cat >"$TMP_DIR/dist.json" <<EOF
{
  "name": "site",
  "aliases": ["$HOST"],
  "certificates": { "ecdsa": "site" },
  "origins": [
    { "id": "web", $O, "http_port": $ORIGIN_PORT },
    { "id": "down", $O, "http_port": $DOWN_PORT },
    { "id": "stall", $O, "http_port": $STALL_PORT, "response_timeout_ms": 500 },
    { "id": "tls", "domain": "origin.example.com", "address": "$VIEWER_ADDR", "https_port": $ORIGIN_PORT, "protocol_policy": "https-only" },
    { "id": "noaddr", "domain": "origin.example.com", "protocol_policy": "http-only" }
  ],
  "behaviors": [
    { "path_pattern": "/secure/*", "origin": "web", "viewer_protocol_policy": "https-only" },
    { "path_pattern": "/redir/*", "origin": "web", "viewer_protocol_policy": "redirect-to-https" },
    { "path_pattern": "/down/*", "origin": "down", "viewer_protocol_policy": "allow-all" },
    { "path_pattern": "/stall/*", "origin": "stall", "viewer_protocol_policy": "allow-all" },
    { "path_pattern": "/tlsorigin/*", "origin": "tls", "viewer_protocol_policy": "allow-all" },
    { "path_pattern": "/noaddr/*", "origin": "noaddr", "viewer_protocol_policy": "allow-all" },
    { "path_pattern": "/order/a*", "origin": "web", "viewer_protocol_policy": "allow-all" },
    { "path_pattern": "/order/*", "origin": "web", "viewer_protocol_policy": "https-only" }
  ],
  "default_behavior": { "origin": "web", "viewer_protocol_policy": "allow-all" },
  "response_headers": {
    "hsts": { "max_age": 600 },
    "content_type_options": true,
    "frame_options": "DENY",
    "referrer_policy": "no-referrer",
    "override": true
  }
}
EOF
cp_apply "$TMP_DIR/dist.json" || die "the distribution was not applied"
wait_ping "$DP_ADDR"

# ---------------------------------------------------------------- clients

BASE="http://$HOST"
RESOLVE=(--resolve "$HOST:$HTTP_PORT:$DP_ADDR")

# get OUT PATH [CURL ARGS...]: body in OUT, head in OUT.h, status printed.
get() {
	local out=$1 path=$2
	shift 2
	viewer timeout "$CT" curl -sS --max-time "$CT" "${RESOLVE[@]}" -D "$out.h" \
		-o "$out" -w '%{http_code}' "$@" "$BASE$path" 2>"$out.err"
}

# hdr OUT NAME: the value of header NAME in OUT.h (case-insensitive).
hdr() { awk -v n="$(echo "$2" | tr A-Z a-z)" -F': ' 'tolower($1) == n { sub(/\r$/, "", $2); print $2; exit }' "$1.h"; }

same_file() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]; }

# rawpy OUT PY_BYTES_EXPR: python literal of the bytes to send.
rawpy() {
	viewer "$PY" - "$DP_ADDR" "$HTTP_PORT" "$1" "$2" <<'PY'
import socket, sys, time
host, port, out, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port), timeout=5)
s.sendall(eval(expr))
buf = b""
state = "open"
deadline = time.time() + 5
try:
    while time.time() < deadline:
        d = s.recv(65536)
        if not d:
            state = "closed"
            break
        buf += d
except (socket.timeout, ConnectionResetError):
    pass
open(out, "wb").write(buf)
open(out + ".closed", "w").write(state)
PY
}

stats() { dp_stats "$1" || die "cannot read the dataplane's counters"; }

# ---------------------------------------------------------------- bodies

log "checks: bodies byte for byte"
stats "$TMP_DIR/s0"
check "small file: 200" [ "$(get "$TMP_DIR/small" /small.txt)" = 200 ]
check "small file: same bytes" same_file "$TMP_DIR/small" "$ORIG/www/small.txt"
check "10 MiB file: 200" [ "$(get "$TMP_DIR/big" /big.bin)" = 200 ]
check "10 MiB file: same bytes (sha256)" same_file "$TMP_DIR/big" "$ORIG/www/big.bin"
check "10 MiB file to a slow reader (4 MB/s): same bytes" \
	sh -c '[ "$1" = 200 ] && cmp -s "$2" "$3"' _ "$(get "$TMP_DIR/slowr" /big.bin --limit-rate 4M)" \
	"$TMP_DIR/slowr" "$ORIG/www/big.bin"
check "10 MiB file: Content-Length kept" [ "$(hdr "$TMP_DIR/big" content-length)" = $((10 << 20)) ]
check "chunked response: 200" [ "$(get "$TMP_DIR/ch" /chunked/c.bin)" = 200 ]
check "chunked response: same bytes" same_file "$TMP_DIR/ch" "$ORIG/www/chunked/c.bin"
check "chunked response: re-encoded chunked to the viewer" \
	[ "$(hdr "$TMP_DIR/ch" transfer-encoding)" = chunked ]
check "HTTP/1.0 viewer, chunked origin: close-delimited, same bytes" \
	sh -c '[ "$1" = 200 ] && cmp -s "$2" "$3"' _ "$(get "$TMP_DIR/ch10" /chunked/c.bin --http1.0)" \
	"$TMP_DIR/ch10" "$ORIG/www/chunked/c.bin"
rawpy "$TMP_DIR/head" "b'HEAD /big.bin HTTP/1.1\\r\\nHost: $HOST\\r\\nConnection: close\\r\\n\\r\\n'"
check "HEAD: 200, the file's Content-Length, no body" "$PY" - "$TMP_DIR/head" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
head, sep, body = b.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 200") and sep and body == b"", b[:300]
assert b"\r\ncontent-length: 10485760" in head.lower(), head
PY
code=$(get "$TMP_DIR/up" /upload/up.bin -T "$TMP_DIR/upload.bin")
check "10 MiB upload (PUT, Expect: 100-continue): 201 ($code)" [ "$code" = 201 ]
check "upload: the origin stored the exact bytes" same_file "$ORIG/www/upload/up.bin" "$TMP_DIR/upload.bin"
code=$(get "$TMP_DIR/upc" /upload/upc.bin -T "$TMP_DIR/upload.bin" -H 'Transfer-Encoding: chunked')
check "chunked upload: 201 ($code)" [ "$code" = 201 ]
check "chunked upload: the origin stored the exact bytes" same_file "$ORIG/www/upload/upc.bin" "$TMP_DIR/upload.bin"
stats "$TMP_DIR/s1"
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" px_bytes_up -ge $((20 << 20))
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" px_bytes_down -ge $((14 << 20))

# ---------------------------------------------------------------- keep-alive

log "checks: keep-alive and pipelining"
stats "$TMP_DIR/s2"
viewer timeout "$CT" curl -sS --max-time "$CT" "${RESOLVE[@]}" -o /dev/null -o /dev/null \
	-o /dev/null -w '%{http_code} %{num_connects}\n' \
	"$BASE/small.txt" "$BASE/order/abc" "$BASE/small.txt" >"$TMP_DIR/ka" 2>&1
stats "$TMP_DIR/s3"
check "three requests on one curl connection all 200" \
	[ "$(grep -c '^200 ' "$TMP_DIR/ka")" = 3 ]
check "curl opened one connection for three requests" \
	[ "$(awk '{ s += $2 } END { print s }' "$TMP_DIR/ka")" = 1 ]
expect_delta "$TMP_DIR/s2" "$TMP_DIR/s3" http_conns -eq 1
expect_delta "$TMP_DIR/s2" "$TMP_DIR/s3" http_requests -eq 3
expect_delta "$TMP_DIR/s2" "$TMP_DIR/s3" px_origin_reused -ge 2

rawpy "$TMP_DIR/pipe" "b'GET /small.txt HTTP/1.1\\r\\nHost: $HOST\\r\\n\\r\\nGET /order/abc HTTP/1.1\\r\\nHost: $HOST\\r\\nConnection: close\\r\\n\\r\\n'"
check "pipelining: two responses, in order, then close" "$PY" - "$TMP_DIR/pipe" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
first, _, rest = b.partition(b"\r\n\r\n")
assert first.startswith(b"HTTP/1.1 200"), first
n = int([l for l in first.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
body1, rest = rest[:n], rest[n:]
assert body1 == b"hello from the origin\n", body1
second, _, body2 = rest.partition(b"\r\n\r\n")
assert second.startswith(b"HTTP/1.1 200"), second
assert body2 == b"order/abc\n", body2
PY
check "pipelining: closed after Connection: close" [ "$(cat "$TMP_DIR/pipe.closed")" = closed ]

# ---------------------------------------------------------------- policies

log "checks: viewer protocol policies and behaviors"
check "redirect-to-https, GET: 301" [ "$(get "$TMP_DIR/r1" '/redir/a/b?x=1&y=2')" = 301 ]
check "redirect-to-https: exact Location" \
	[ "$(hdr "$TMP_DIR/r1" location)" = "https://$HOST/redir/a/b?x=1&y=2" ]
check "redirect-to-https, POST: 308" [ "$(get "$TMP_DIR/r2" /redir/p -d 'a=b')" = 308 ]
check "redirect-to-https, POST: same Location" [ "$(hdr "$TMP_DIR/r2" location)" = "https://$HOST/redir/p" ]
check "https-only over HTTP: 403" [ "$(get "$TMP_DIR/r3" /secure/x)" = 403 ]
check "403 carries X-Cache: Error from rampart" [ "$(hdr "$TMP_DIR/r3" x-cache)" = "Error from rampart" ]
check "allow-all: proxied" sh -c '[ "$1" = 200 ] && grep -q "^order/abc" "$2"' _ \
	"$(get "$TMP_DIR/r4" /order/abc)" "$TMP_DIR/r4"
check "behaviors in order: /order/xyz falls to the second (https-only): 403" \
	[ "$(get "$TMP_DIR/r5" /order/xyz)" = 403 ]
check "unknown Host, no default distribution: 404" \
	[ "$(viewer timeout "$CT" curl -s -o /dev/null -w '%{http_code}' -H 'Host: nope.example.org' "http://$DP_ADDR/")" = 404 ]

log "checks: response headers"
check "X-Content-Type-Options: nosniff" [ "$(hdr "$TMP_DIR/small" x-content-type-options)" = nosniff ]
check "X-Frame-Options: DENY" [ "$(hdr "$TMP_DIR/small" x-frame-options)" = DENY ]
check "Referrer-Policy: no-referrer" [ "$(hdr "$TMP_DIR/small" referrer-policy)" = no-referrer ]
check "no Strict-Transport-Security over HTTP" [ -z "$(hdr "$TMP_DIR/small" strict-transport-security)" ]
check "no hop-by-hop Keep-Alive forwarded" [ -z "$(hdr "$TMP_DIR/small" keep-alive)" ]

log "checks: forwarding headers at the origin"
viewer timeout "$CT" curl -s -o /dev/null "${RESOLVE[@]}" -H 'X-Forwarded-For: 203.0.113.9' \
	-H 'Via: 1.0 upstream' -H 'X-Forwarded-Proto: https' -H 'Connection: X-Secret' \
	-H 'X-Secret: 1' "$BASE/small.txt?fwd=1"
poll_wait 5 grep -q 'fwd=1' "$ORIG/access.log"
line=$(grep 'fwd=1' "$ORIG/access.log" | tail -n 1)
check "X-Forwarded-For: viewer's value then the client ($line)" \
	grep -qF "xff=\"203.0.113.9, $VIEWER_ADDR\"" <<<"$line"
check "Via: viewer's value then 1.1 rampart" grep -qF 'via="1.0 upstream, 1.1 rampart"' <<<"$line"
check "X-Forwarded-Proto: http (the viewer's is replaced)" grep -qF 'xfp="http"' <<<"$line"
check "Host: the origin's domain" grep -qF 'host="origin.example.com"' <<<"$line"

# ---------------------------------------------------------------- abuse

log "checks: smuggling and slow clients"
stats "$TMP_DIR/s4"
rawpy "$TMP_DIR/clte" "b'POST /small.txt HTTP/1.1\\r\\nHost: $HOST\\r\\nContent-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n'"
check "CL+TE: 400" grep -q '^HTTP/1.1 400' "$TMP_DIR/clte"
check "CL+TE: connection closed" [ "$(cat "$TMP_DIR/clte.closed")" = closed ]
check "CL+TE: Connection: close and X-Cache" sh -c 'grep -qi "^connection: close" "$1" && grep -qi "^x-cache: Error from rampart" "$1"' _ "$TMP_DIR/clte"
rawpy "$TMP_DIR/fold" "b'GET / HTTP/1.1\\r\\nHost: $HOST\\r\\nX-A: a\\r\\n b\\r\\n\\r\\n'"
check "obs-fold: 400 and closed" sh -c 'grep -q "^HTTP/1.1 400" "$1" && [ "$(cat "$1.closed")" = closed ]' _ "$TMP_DIR/fold"
grep -c 'POST /small.txt' "$ORIG/access.log" >"$TMP_DIR/smuggled" || true
check "no smuggled request reached the origin" [ "$(cat "$TMP_DIR/smuggled")" = 0 ]

viewer "$PY" - "$DP_ADDR" "$HTTP_PORT" >"$TMP_DIR/slow" 2>&1 <<PY
import socket, time
s = socket.create_connection(("$DP_ADDR", $HTTP_PORT), timeout=1)
s.sendall(b"GET / HTTP/1.1\r\nHost: $HOST\r\n")
start = time.time()
closed = None
while time.time() - start < 8:
    try:
        s.sendall(b"X")
    except OSError:
        closed = time.time() - start
        break
    try:
        if s.recv(100) == b"":
            closed = time.time() - start
            break
    except socket.timeout:
        pass
    except OSError:
        closed = time.time() - start
        break
print("closed-after", closed)
PY
check "slowloris: closed at the header timeout ($(cat "$TMP_DIR/slow"))" \
	awk '/closed-after/ { exit !($2 != "None" && $2 < 5) }' "$TMP_DIR/slow"
stats "$TMP_DIR/s5"
expect_delta "$TMP_DIR/s4" "$TMP_DIR/s5" http_edge_400 -ge 2
expect_delta "$TMP_DIR/s4" "$TMP_DIR/s5" http_header_timeouts -ge 1

# ---------------------------------------------------------------- origin failures

log "checks: origin failures"
stats "$TMP_DIR/s6"
check "origin down: 502" [ "$(get "$TMP_DIR/o1" /down/x)" = 502 ]
check "origin down: X-Cache: Error from rampart" [ "$(hdr "$TMP_DIR/o1" x-cache)" = "Error from rampart" ]
check "origin stalled: 504" [ "$(get "$TMP_DIR/o2" /stall/x)" = 504 ]
check "origin stalled: X-Cache" [ "$(hdr "$TMP_DIR/o2" x-cache)" = "Error from rampart" ]
check "https-only origin answering plain HTTP: 502 'TLS handshake ... failed'" \
	sh -c '[ "$1" = 502 ] && grep -q "TLS handshake with the origin failed" "$2"' _ \
	"$(get "$TMP_DIR/o3" /tlsorigin/x)" "$TMP_DIR/o3"
check "origin without an address: 502 'origin address unknown'" \
	sh -c '[ "$1" = 502 ] && grep -q "origin address unknown" "$2"' _ \
	"$(get "$TMP_DIR/o4" /noaddr/x)" "$TMP_DIR/o4"
stats "$TMP_DIR/s7"
expect_delta "$TMP_DIR/s6" "$TMP_DIR/s7" px_origin_errors_refused -ge 1
expect_delta "$TMP_DIR/s6" "$TMP_DIR/s7" px_origin_errors_timeout -ge 1
expect_delta "$TMP_DIR/s6" "$TMP_DIR/s7" px_origin_tls_fail_handshake -eq 1
expect_delta "$TMP_DIR/s6" "$TMP_DIR/s7" http_edge_502 -ge 3
expect_delta "$TMP_DIR/s6" "$TMP_DIR/s7" http_edge_504 -eq 1
check "the proxy still serves after the failures" [ "$(get "$TMP_DIR/after" /small.txt)" = 200 ]

# ---------------------------------------------------------------- access log

log "checks: access log"
# The logger thread stays off the worker's CPU (the test runs one worker,
# EAL -l 0) when the machine has another one to give it.
log_thread_cpus() {
	local t
	for t in /proc/"$DP_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = rampart-log ] &&
			sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status"
	done
}
if [ "$(nproc)" -gt 1 ]; then
	cpus=$(log_thread_cpus)
	check "the access-log thread runs off the worker's CPU 0 (on: $cpus)" \
		sh -c '[ -n "$1" ] && ! echo "$1" | grep -qE "(^|,)0(-|,|$)"' _ "$cpus"
fi
stats "$TMP_DIR/s8"
want=$(stat_get "$TMP_DIR/s8" http_requests)
has_lines() { [ "$(wc -l <"$ACCESS_LOG")" -ge "$1" ]; }
poll_wait 5 has_lines "$want"
check "one JSON line per request ($want requests)" "$PY" - "$ACCESS_LOG" "$want" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in lines]
# Slowloris heads are logged too (status 408) but are no parsed request.
got = [r for r in recs if r["status"] != 408]
assert len(got) == int(sys.argv[2]), [(r["method"], r["path"], r["status"]) for r in got]
big = [r for r in recs if r["path"] == "/big.bin" and r["method"] == "GET"]
assert big and big[0]["status"] == 200 and big[0]["bytes_out"] > 10 << 20, big
r = [r for r in recs if r["path"].startswith("/redir/a/b")][0]
assert r["status"] == 301 and r["edge"] is True, r
PY
check "http_log_dropped is 0" [ "$(stat_get "$TMP_DIR/s8" http_log_dropped)" = 0 ]

check "dataplane still running" dp_alive
# Pooled origin connections, buffers and the logger thread all go at exit
# (under the sanitizer build this is a leak check).
dp_stop TERM
check "dataplane stopped cleanly (status ${DP_RC:-none})" [ "${DP_RC:-1}" = 0 ]
check "no sanitizer report" sh -c '! grep -qE "Sanitizer|runtime error" "$1"' _ "$DP_ERR"
test_exit
