#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hot swap: changes through the control plane reach new handshakes only.
#   - three viewer connections are established on the old configuration
#     (TLS 1.2 and TLS 1.3 idle after the handshake, and one TLS 1.3 that
#     has sent half of its request);
#   - the ECDSA certificate is replaced (rampartctl cert import --replace)
#     with a new key: a new handshake sees the new certificate (fingerprint);
#   - the distribution's policy becomes TLSv1.3_2025: a new TLS 1.2
#     handshake is refused (protocol_version), TLS 1.3 still served;
#   - then the held connections complete their requests: each gets its 200
#     on the old certificate and the old protocol, nothing reset.
# A held connection must finish within the engine's request timeout; the
# swap takes well under a second.

source "$(dirname "$0")/tls_lib.sh"

require_env
tls_require
tls_make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
tls_issue "$PKI" int shop-ec2 ec shop.example.com "DNS:shop.example.com,DNS:*.shop.example.com" ||
	die "cannot issue the replacement certificate"
tls_start
tls_cert_import shop-ec "$PKI/shop-ec.chain" "$PKI/shop-ec.key" || die "cert import"
tls_dist_apply shop shop.example.com shop-ec "" default=true || die "apply shop"
OLD_FP=$(tls_fingerprint "$PKI/shop-ec.pem")
NEW_FP=$(tls_fingerprint "$PKI/shop-ec2.pem")

# A viewer that completes the handshake, reports the certificate served,
# sends PART bytes of its request, waits for $GO to exist, sends the rest
# and reads to the end.
cat >"$TMP_DIR/hold.py" <<'PY'
import hashlib, os, socket, ssl, sys, time
addr, port, version, part, go, ca = sys.argv[1:]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(ca)
v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
ctx.minimum_version = ctx.maximum_version = v
s = ctx.wrap_socket(socket.create_connection((addr, int(port)), timeout=20),
                    server_hostname="shop.example.com")
fp = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
req = b"GET / HTTP/1.1\r\nHost: shop.example.com\r\nConnection: close\r\n\r\n"
n = int(part)
if n:
    s.sendall(req[:n])
print("held", fp, s.version(), flush=True)
deadline = time.time() + 20
while not os.path.exists(go):
    if time.time() > deadline:
        print("no go", flush=True)
        sys.exit(2)
    time.sleep(0.05)
s.sendall(req[n:])
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except (ssl.SSLError, OSError) as e:
    print("error", e, flush=True)
print("done", data.split(b"\r\n", 1)[0].decode(errors="replace"),
      " ".join(l.decode(errors="replace") for l in data.split(b"\r\n\r\n", 1)[-1].split(b"\n")), flush=True)
PY

GO=$TMP_DIR/go
HOLDERS=()
# hold TAG VERSION PART
hold() {
	viewer timeout 40 "$PY" "$TMP_DIR/hold.py" "$TLS_ADDR" "$TLS_PORT" "$2" "$3" "$GO" \
		"$PKI/root.pem" >"$TMP_DIR/hold-$1.out" 2>&1 &
	HOLDERS+=("$!")
	BG_PIDS+=("$!")
}
held() { grep -q '^held ' "$TMP_DIR/hold-$1.out"; }
lacks_error() { ! grep -q '^error' "$1"; }
fp_hex() { echo "$1" | tr -d ':' | tr 'A-F' 'a-f'; }

log "checks: connections held across the swap"
hold v12 1.2 0
hold v13 1.3 0
hold v13part 1.3 20
for t in v12 v13 v13part; do
	poll_wait 10 held "$t" || die "connection $t not established: $(cat "$TMP_DIR/hold-$t.out")"
	check "$t: established on the old certificate" \
		[ "$(awk '/^held/ { print $2 }' "$TMP_DIR/hold-$t.out")" = "$(fp_hex "$OLD_FP")" ]
done
if tls_is_rampart; then
	check "the dataplane counts 3 established TLS connections" \
		[ "$(tls_dp_stat tls_active)" -ge 3 ]
fi

log "checks: certificate replaced"
tls_cert_import shop-ec "$PKI/shop-ec2.chain" "$PKI/shop-ec2.key" --replace ||
	die "cert import --replace refused"
new_cert_served() { tls_get "$TMP_DIR/new.out" shop.example.com && [ "$(tls_served_fp "$TMP_DIR/new.out")" = "$NEW_FP" ]; }
check "a new handshake sees the new certificate" poll_wait 5 new_cert_served

log "checks: policy changed to TLSv1.3_2025"
tls_dist_apply shop shop.example.com shop-ec "" default=true tls.security_policy=TLSv1.3_2025 ||
	die "apply with TLSv1.3_2025 refused"
o=$TMP_DIR/new12.out
if tls_get "$o" shop.example.com -tls1_2; then
	fail "a new TLS 1.2 handshake is still served under TLSv1.3_2025"
elif tls_is_rampart; then
	check "a new TLS 1.2 handshake is refused: protocol version" \
		grep -qiE 'alert protocol version|no protocols available|unsupported protocol' "$o"
else
	pass "a new TLS 1.2 handshake is refused"
fi
check "a new TLS 1.3 handshake is served, new certificate" \
	eval 'tls_get "$TMP_DIR/new13.out" shop.example.com -tls1_3 && [ "$(tls_served_fp "$TMP_DIR/new13.out")" = "$NEW_FP" ]'

log "checks: the held connections complete"
touch "$GO"
for pid in "${HOLDERS[@]}"; do
	wait "$pid"
done
for t in v12 v13 v13part; do
	f=$TMP_DIR/hold-$t.out
	check "$t: completed with 200 OK" grep -q '^done HTTP/1.1 200' "$f"
	check "$t: no error on the held connection" lacks_error "$f"
done
check "v12: still TLS 1.2 (the body says so)" grep -q '^done .*TLSv1\.2' "$TMP_DIR/hold-v12.out"
check "dataplane still running" dp_alive
test_exit
