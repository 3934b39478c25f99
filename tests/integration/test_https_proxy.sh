#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# HTTPS viewers through the reverse proxy (the TLS engine hands established
# sessions to the HTTP engine), with the echo origin of tls_lib.sh behind
# it (http-only):
#   - a 10 MiB download and a 10 MiB upload (Content-Length, then chunked)
#     arrive byte for byte (curl; the origin reports the upload's length
#     and SHA-256);
#   - keep-alive: curl sends two requests over one TLS connection (one
#     handshake, two requests in the counters);
#   - the origin sees X-Rampart-Distribution and X-Rampart-Viewer-TLS
#     (protocol, suite, fullHandshake / sessionResumed) and never the
#     viewer's forged copies;
#   - a Host naming another distribution than the SNI: 421;
#   - a keep-alive connection opened before a configuration push keeps
#     being served after it (no spurious 421);
#   - a slow reader (curl --limit-rate) gets a 10 MiB body byte for byte;
#   - the dataplane exits cleanly with an HTTPS connection open (with a
#     sanitizer build: nothing leaked).

# shellcheck disable=SC2016 # check ... eval '...' expands when it runs
source "$(dirname "$0")/tls_lib.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

require_env
tls_require
tls_make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
tls_start
tls_is_rampart || skip "HTTPS through the proxy is rampart's own behaviour"
tls_cert_import shop-ec "$PKI/shop-ec.chain" "$PKI/shop-ec.key" || die "cert import shop-ec"
tls_cert_import other-ec "$PKI/other-ec.chain" "$PKI/other-ec.key" || die "cert import other-ec"
tls_dist_apply shop shop.example.com shop-ec "" || die "apply shop"
tls_dist_apply other other.example.com other-ec "" || die "apply other"

BIG=$((10 * 1024 * 1024))
CT=60

# hcurl OUT URL_PATH [curl ARGS...]: HTTPS to shop.example.com through the
# dataplane; the body in OUT, headers in OUT.h, -v output in OUT.err;
# prints the status.
hcurl() {
	local out=$1 path=$2
	shift 2
	viewer timeout "$CT" curl -sS --http1.1 --max-time "$CT" -v \
		--cacert "$PKI/root.pem" \
		--resolve "shop.example.com:$TLS_PORT:$TLS_ADDR" \
		--resolve "other.example.com:$TLS_PORT:$TLS_ADDR" \
		-D "$out.h" -o "$out" -w '%{http_code}' "$@" \
		"https://shop.example.com:$TLS_PORT$path" 2>"$out.err"
}
field() { sed -n "s/^$2: //p" "$1" | head -n 1; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }
stats() { dp_stats "$1" || die "cannot read the dataplane's counters"; }

# ---------------------------------------------------------------- bodies

log "checks: 10 MiB each way, byte for byte"
ECHO_DIR=$(dirname "$0") "$PY" -c '
import os, sys
sys.path.insert(0, os.environ["ECHO_DIR"])
from echo_origin import blob_bytes
open(sys.argv[2], "wb").write(blob_bytes(int(sys.argv[1])))
' "$BIG" "$TMP_DIR/blob.ref" || die "cannot build the reference blob"
code=$(hcurl "$TMP_DIR/down" "/blob/$BIG")
check "download: 200" [ "$code" = 200 ]
check "download: $BIG bytes, identical to the origin's" \
	eval '[ "$(stat -c %s "$TMP_DIR/down")" = "$BIG" ] && cmp -s "$TMP_DIR/down" "$TMP_DIR/blob.ref"'

head -c "$BIG" /dev/urandom >"$TMP_DIR/up.bin"
# shellcheck disable=SC2034 # read inside check ... eval
UP_SHA=$(sha "$TMP_DIR/up.bin")
code=$(hcurl "$TMP_DIR/up" /upload --data-binary "@$TMP_DIR/up.bin" \
	-H 'Content-Type: application/octet-stream')
check "upload (Content-Length): 200" [ "$code" = 200 ]
check "upload (Content-Length): the origin got $BIG bytes, same SHA-256" \
	eval '[ "$(field "$TMP_DIR/up" length)" = "$BIG" ] && [ "$(field "$TMP_DIR/up" sha256)" = "$UP_SHA" ]'
code=$(hcurl "$TMP_DIR/upc" /upload --data-binary "@$TMP_DIR/up.bin" \
	-H 'Transfer-Encoding: chunked')
check "upload (chunked): 200" [ "$code" = 200 ]
check "upload (chunked): the origin got $BIG bytes, same SHA-256" \
	eval '[ "$(field "$TMP_DIR/upc" length)" = "$BIG" ] && [ "$(field "$TMP_DIR/upc" sha256)" = "$UP_SHA" ]'

# ---------------------------------------------------------------- keep-alive

log "checks: keep-alive over HTTPS"
stats "$TMP_DIR/s0"
viewer timeout "$CT" curl -sS --http1.1 --max-time "$CT" -v --cacert "$PKI/root.pem" \
	--resolve "shop.example.com:$TLS_PORT:$TLS_ADDR" \
	"https://shop.example.com:$TLS_PORT/one" "https://shop.example.com:$TLS_PORT/two" \
	>"$TMP_DIR/ka" 2>"$TMP_DIR/ka.err"
stats "$TMP_DIR/s1"
check "two answers from the origin" \
	[ "$(grep -c '^distribution: shop$' "$TMP_DIR/ka")" = 2 ]
check "  ... in order" [ "$(sed -n 's/^path: //p' "$TMP_DIR/ka" | tr '\n' ' ')" = "/one /two " ]
check "  ... curl reused its connection" grep -qiE 're-?using existing connection' "$TMP_DIR/ka.err"
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" tls_handshakes -eq 1
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" http_requests -eq 2

# ---------------------------------------------------------------- forwarded facts

log "checks: what the origin is told"
code=$(hcurl "$TMP_DIR/facts" /facts -H 'X-Rampart-Distribution: other' \
	-H 'X-Rampart-Viewer-TLS: SSLv3:NULL:sessionResumed' --tlsv1.3 \
	--tls13-ciphers TLS_AES_128_GCM_SHA256)
check "200" [ "$code" = 200 ]
check "X-Rampart-Distribution: shop (the viewer's copy replaced)" \
	[ "$(field "$TMP_DIR/facts" distribution)" = shop ]
check "X-Rampart-Viewer-TLS: TLSv1.3, a full handshake (the viewer's copy replaced)" \
	eval '[ "$(field "$TMP_DIR/facts" protocol)" = TLSv1.3 ] && [ "$(field "$TMP_DIR/facts" resumed)" = no ]'
check "  ... and the suite curl was limited to (wolfSSL's name)" \
	[ "$(field "$TMP_DIR/facts" cipher)" = TLS13-AES128-GCM-SHA256 ]
check "X-Forwarded-Proto: https" [ "$(field "$TMP_DIR/facts" scheme)" = https ]
tls_get "$TMP_DIR/r1.out" shop.example.com -tls1_2 -sess_out "$TMP_DIR/r.sess" ||
	fail "TLS 1.2 GET failed"
tls_get "$TMP_DIR/r2.out" shop.example.com -tls1_2 -sess_in "$TMP_DIR/r.sess" ||
	fail "TLS 1.2 resumed GET failed"
check "a resumed TLS 1.2 session: sessionResumed, TLSv1.2" \
	eval 'tls_reused "$TMP_DIR/r2.out" && tls_body_yes "$TMP_DIR/r2.out" resumed && [ "$(tls_body_field "$TMP_DIR/r2.out" protocol)" = TLSv1.2 ]'

# ---------------------------------------------------------------- 421

log "checks: SNI and Host must name the same distribution"
code=$(hcurl "$TMP_DIR/mis" / -H 'Host: other.example.com')
check "SNI shop.example.com, Host other.example.com: 421" [ "$code" = 421 ]
code=$(viewer timeout "$CT" curl -sS --http1.1 --max-time "$CT" --cacert "$PKI/root.pem" \
	--resolve "other.example.com:$TLS_PORT:$TLS_ADDR" -o "$TMP_DIR/oth" -w '%{http_code}' \
	"https://other.example.com:$TLS_PORT/" 2>"$TMP_DIR/oth.err")
check "SNI and Host other.example.com: 200 from distribution other" \
	eval '[ "$code" = 200 ] && [ "$(field "$TMP_DIR/oth" distribution)" = other ]'

# ---------------------------------------------------------------- config push

log "checks: a keep-alive connection survives a configuration push"
cat >"$TMP_DIR/ka.py" <<'PY'
import os, socket, ssl, sys, time
addr, port, ca, go = sys.argv[1:]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection((addr, int(port)), timeout=20),
                    server_hostname="shop.example.com")
f = s.makefile("rb")

def get(path):
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: shop.example.com\r\n\r\n")
    status = f.readline().split()[1].decode()
    n = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            n = int(v)
    return status, f.read(n).decode()

print("first", get(b"/before")[0], flush=True)
deadline = time.time() + 20
while not os.path.exists(go):
    if time.time() > deadline:
        sys.exit("no go")
    time.sleep(0.05)
st, body = get(b"/after")
print("second", st, body.replace("\n", " "), flush=True)
PY
viewer timeout 40 "$PY" "$TMP_DIR/ka.py" "$TLS_ADDR" "$TLS_PORT" "$PKI/root.pem" "$TMP_DIR/go" \
	>"$TMP_DIR/kapush.out" 2>&1 &
KA_PID=$!
BG_PIDS+=("$KA_PID")
poll_wait 10 grep -q '^first' "$TMP_DIR/kapush.out" || die "keep-alive client: $(cat "$TMP_DIR/kapush.out")"
check "first request: 200" grep -q '^first 200' "$TMP_DIR/kapush.out"
tls_dist_apply shop shop.example.com shop-ec "" \
	'response_headers={"frame_options":"DENY"}' || die "re-apply shop"
touch "$TMP_DIR/go"
wait "$KA_PID"
check "after the push, same connection: 200 from shop, not 421" \
	grep -q '^second 200 .*distribution: shop' "$TMP_DIR/kapush.out"

# ---------------------------------------------------------------- back-pressure

log "checks: a slow reader"
# The proxy moves the origin's body only as fast as the viewer's TLS
# stream takes it (records sized to the TCP queue, the rest staged).
code=$(hcurl "$TMP_DIR/slowr" "/blob/$BIG" --limit-rate 4M)
check "10 MiB to a slow reader (4 MB/s): 200, same bytes" \
	eval '[ "$code" = 200 ] && cmp -s "$TMP_DIR/slowr" "$TMP_DIR/blob.ref"'

check "dataplane still running" dp_alive

# ---------------------------------------------------------------- shutdown

log "checks: clean exit with an HTTPS connection open"
# With a sanitizer build (RAMPART_BUILD=build-asan) LeakSanitizer checks
# that the sessions, plaintext buffers and subjects were all freed.
viewer timeout 20 sh -c 'sleep 15 | openssl s_client -quiet -connect "$1" -servername shop.example.com -CAfile "$2"' \
	_ "$TLS_ADDR:$TLS_PORT" "$PKI/root.pem" >/dev/null 2>&1 &
BG_PIDS+=("$!")
tls_open() { [ "$(tls_dp_stat tls_active)" -ge 1 ]; }
check "an HTTPS connection is open" poll_wait 10 tls_open
dp_stop TERM
check "exit status 0 (23: LeakSanitizer found leaks)" [ "$DP_RC" = 0 ]
check "no sanitizer report" eval '! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$DP_ERR"'
test_exit
