#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# An HTTPS origin that sends bytes after a complete response, in the same
# TLS record as the body's end (so the edge's TLS session has decrypted
# them along with the body): the connection must not go back to the pool,
# or those bytes would be read as the next request's response. A Python
# TLS origin answers every request with "HTTP/1.1 200 ... ok" followed by
# a bogus "HTTP/1.1 299 Smuggled" response in one write; two requests on
# one viewer connection must both get 200 and "ok", over two origin
# connections.

source "$(dirname "$0")/tls_lib.sh"

require_env
tls_require
tls_make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
tls_start
tls_is_rampart || skip "the origin leg is rampart's own behaviour"

ORIGIN_PORT=8443
cat >"$TMP_DIR/origin.py" <<'PY'
import socket, ssl, sys, threading
addr, port, chain, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(chain, key)
srv = socket.create_server((addr, port))
conns = 0
lock = threading.Lock()

def serve(c):
    try:
        s = ctx.wrap_socket(c, server_side=True)
        buf = b""
        while True:
            data = s.recv(65536)
            if not data:
                return
            buf += data
            while b"\r\n\r\n" in buf:
                _, buf = buf.split(b"\r\n\r\n", 1)
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                          b"HTTP/1.1 299 Smuggled\r\nContent-Length: 4\r\n\r\nevil")
    except (OSError, ssl.SSLError):
        pass
    finally:
        c.close()

print("listening", flush=True)
while True:
    c, _ = srv.accept()
    with lock:
        conns += 1
        print("conn", conns, flush=True)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
ip netns exec "$NS_VIEWER" "$PY" "$TMP_DIR/origin.py" "$TLS_ORIGIN_ADDR" "$ORIGIN_PORT" \
	"$PKI/shop-ec.chain" "$PKI/shop-ec.key" >"$TMP_DIR/origin.out" 2>&1 &
BG_PIDS+=("$!")
poll_wait 10 grep -q '^listening' "$TMP_DIR/origin.out" ||
	die "the TLS origin did not start: $(tail -n 3 "$TMP_DIR/origin.out")"

tls_cert_import shop-ec "$PKI/shop-ec.chain" "$PKI/shop-ec.key" || die "cert import"
tls_dist_apply shop shop.example.com shop-ec "" \
	"origins=[{\"id\":\"web\",\"domain\":\"shop.example.com\",\"address\":\"$TLS_ORIGIN_ADDR\",\"https_port\":$ORIGIN_PORT,\"protocol_policy\":\"https-only\",\"verify\":{\"mode\":\"full\"}}]" \
	'default_behavior={"origin":"web","viewer_protocol_policy":"allow-all"}' ||
	die "apply"

dp_stats "$TMP_DIR/s0"
# Two requests on one keep-alive connection (curl reuses it for the second
# URL); each body lands in its own file.
viewer timeout 30 curl -sS --http1.1 --max-time 20 --cacert "$PKI/root.pem" \
	--resolve "shop.example.com:$TLS_PORT:$TLS_ADDR" \
	-o "$TMP_DIR/b1" -w '%{http_code}\n' "https://shop.example.com:$TLS_PORT/one" \
	-o "$TMP_DIR/b2" -w '%{http_code}\n' "https://shop.example.com:$TLS_PORT/two" \
	>"$TMP_DIR/codes" 2>"$TMP_DIR/curl.err"
dp_stats "$TMP_DIR/s1"

check "both requests answered 200 ($(tr '\n' ' ' <"$TMP_DIR/codes"))" \
	[ "$(tr '\n' ' ' <"$TMP_DIR/codes")" = "200 200 " ]
check "first body is the origin's 'ok'" [ "$(cat "$TMP_DIR/b1" 2>/dev/null)" = ok ]
check "second body is 'ok', not the bytes after the first response" \
	[ "$(cat "$TMP_DIR/b2" 2>/dev/null)" = ok ]
check "the origin saw two connections: the first was not pooled" \
	[ "$(grep -c '^conn' "$TMP_DIR/origin.out")" -eq 2 ]
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" px_origin_reused -eq 0
expect_delta "$TMP_DIR/s0" "$TMP_DIR/s1" px_origin_errors_protocol -eq 0
test_exit
