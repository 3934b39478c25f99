#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hostile viewers against the HTTPS listener (python3 sockets from the
# viewer namespace):
#   - garbage bytes, a record longer than TLS allows (2^14 + 2048 + 1), and
#     a ClientHello of more than 16 KiB (two records) are each answered
#     with a close (an alert first at most), promptly;
#   - a truncated ClientHello followed by silence is closed by the
#     handshake timeout (lowered with the dataplane's option when it has
#     one), not before and not much after;
#   - a flood of 500 connections that each send half a ClientHello and
#     stop: meanwhile a normal viewer still completes its handshakes
#     quickly;
#   - the counters show the failures (bad hellos, timeouts) and the
#     dataplane survives and serves afterwards.

source "$(dirname "$0")/tls_lib.sh"

FLOOD=${RAMPART_TLS_FLOOD:-500}
# Milliseconds a normal viewer's handshake + GET may take during the flood: a
# few milliseconds on an idle box, the bound only absorbs a loaded one.
NORMAL_MAX_MS=${RAMPART_TLS_NORMAL_MAX_MS:-3000}

require_env
tls_require
HS_TIMEOUT=10
if tls_is_rampart; then
	if dp_has_option --tls-handshake-timeout; then
		HS_TIMEOUT=3
		TLS_DP_ARGS+=(--tls-handshake-timeout 3000)
		log "handshake timeout lowered to ${HS_TIMEOUT}s"
	fi
else
	HS_TIMEOUT=5 # nginx's client_header_timeout (60 s) is not waited for
fi
tls_make_pki "$TMP_DIR/pki" || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
tls_start
tls_cert_import shop-ec "$PKI/shop-ec.chain" "$PKI/shop-ec.key" || die "cert import"
tls_dist_apply shop shop.example.com shop-ec "" default=true || die "apply shop"
tls_get "$TMP_DIR/first.out" shop.example.com || die "a normal viewer is not served before the abuse"
tls_is_rampart && { tls_stats "$TMP_DIR/stats.before" || die "no stats"; }

cat >"$TMP_DIR/abuse.py" <<'PY'
"""abuse.py ADDR PORT CASE [ARGS]: one hostile viewer; prints one line
'closed SECONDS [alert N]' or 'open SECONDS' (still open at the limit) or
'answered SECONDS' (the server sent a handshake record)."""
import os, socket, struct, sys, time

addr, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def hello(pad=0):
    def ext(t, body):
        return struct.pack(">HH", t, len(body)) + body
    sni = b"shop.example.com"
    exts = ext(0, struct.pack(">HBH", len(sni) + 3, 0, len(sni)) + sni)
    exts += ext(0x2b, b"\x04\x03\x04\x03\x03")              # TLS 1.3, 1.2
    exts += ext(0x0a, b"\x00\x04\x00\x1d\x00\x17")          # x25519, P-256
    exts += ext(0x0d, b"\x00\x04\x04\x03\x08\x04")          # ecdsa, rsa-pss
    exts += ext(0x33, struct.pack(">HHH", 36, 0x1d, 32) + os.urandom(32))
    if pad:
        exts += ext(0x15, b"\x00" * pad)
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x00\x04\x13\x01\xc0\x2b" + b"\x01\x00"
    body += struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    recs = b""
    for i in range(0, len(hs), 16384):
        frag = hs[i:i + 16384]
        recs += b"\x16\x03\x01" + struct.pack(">H", len(frag)) + frag
    return recs


def wait_close(s, limit):
    t0 = time.time()
    s.settimeout(0.2)
    data = b""
    while time.time() - t0 < limit:
        try:
            b = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return "closed %.2f reset" % (time.time() - t0)
        if not b:
            alert = ""
            if len(data) >= 7 and data[0] == 0x15:
                alert = " alert %d" % data[6]
            elif data[:1] == b"\x16":
                return "answered %.2f" % (time.time() - t0)
            return "closed %.2f%s" % (time.time() - t0, alert)
        data += b
        if data[:1] == b"\x16":
            return "answered %.2f" % (time.time() - t0)
    if data[:1] == b"\x16":
        return "answered %.2f" % (time.time() - t0)
    return "open %.2f" % limit


def conn():
    return socket.create_connection((addr, port), timeout=5)


if case == "garbage":
    s = conn()
    s.sendall(b"GET / HTTP/1.1\r\n" + os.urandom(300))
    print(wait_close(s, float(sys.argv[4])))
elif case == "oversized":
    s = conn()
    s.sendall(b"\x16\x03\x01" + struct.pack(">H", 16384 + 2048 + 1) + os.urandom(1000))
    print(wait_close(s, float(sys.argv[4])))
elif case == "bighello":
    s = conn()
    h = hello(pad=17000)
    s.sendall(h)
    print(wait_close(s, float(sys.argv[4])), len(h))
elif case == "truncated":
    s = conn()
    s.sendall(hello()[:60])
    print(wait_close(s, float(sys.argv[4])))
elif case == "flood":
    n, hold, ready = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    socks, failed = [], 0
    for i in range(n):
        try:
            s = conn()
            s.sendall(hello()[:80])
            socks.append(s)
        except OSError:
            failed += 1
    open(ready, "w").write("%d %d\n" % (len(socks), failed))
    time.sleep(hold)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print("flood opened %d failed %d closed-by-server %d" % (len(socks), failed, closed))
PY

abuse() { viewer timeout 120 "$PY" "$TMP_DIR/abuse.py" "$TLS_ADDR" "$TLS_PORT" "$@"; }
# closed_within OUT MAX: the reply was a close within MAX seconds.
closed_within() { awk -v m="$2" '$1 == "closed" && $2 <= m { ok = 1 } END { exit !ok }' <<<"$1"; }

log "checks: malformed input is closed promptly"
r=$(abuse garbage 5)
check "garbage: closed ($r)" closed_within "$r" 2
r=$(abuse oversized 5)
check "record of 2^14+2049 bytes: closed ($r)" closed_within "$r" 2
r=$(abuse bighello 5)
check "ClientHello over 16 KiB: closed or answered, not left hanging ($r)" \
	grep -qE '^(closed|answered) [0-2]\.' <<<"$r"

log "checks: a truncated ClientHello is closed by the handshake timeout (${HS_TIMEOUT}s)"
if tls_is_rampart; then
	r=$(abuse truncated $((HS_TIMEOUT + 5)))
	check "closed after $(awk '{ print $2 }' <<<"$r") s, within [$((HS_TIMEOUT - 1)), $((HS_TIMEOUT + 3))] ($r)" \
		awk -v lo=$((HS_TIMEOUT - 1)) -v hi=$((HS_TIMEOUT + 3)) '$1 == "closed" && $2 >= lo && $2 <= hi { ok = 1 } END { exit !ok }' <<<"$r"
else
	r=$(abuse truncated 5)
	check "still open before the timeout ($r)" grep -q '^open' <<<"$r"
fi

log "checks: $FLOOD half-open handshakes while a normal viewer is served"
HOLD=$((HS_TIMEOUT + 4))
[ "$HOLD" -gt 20 ] && HOLD=20
abuse flood "$FLOOD" "$HOLD" "$TMP_DIR/flood.ready" >"$TMP_DIR/flood.out" 2>&1 &
flood_pid=$!
BG_PIDS+=("$flood_pid")
poll_wait 60 test -s "$TMP_DIR/flood.ready" || die "the flood did not start"
log "  flood: $(cat "$TMP_DIR/flood.ready") (opened, failed)"
slow=0 worst=0 bad=0
for i in 1 2 3 4 5; do
	t0=${EPOCHREALTIME/./}
	if tls_get "$TMP_DIR/during-$i.out" shop.example.com; then
		ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
		[ "$ms" -gt "$worst" ] && worst=$ms
		[ "$ms" -gt "$NORMAL_MAX_MS" ] && slow=$((slow + 1))
	else
		bad=$((bad + 1))
	fi
done
check "a normal viewer is served 5 times during the flood (worst ${worst} ms, $bad failed)" \
	[ "$bad" = 0 ] && [ "$slow" = 0 ]
poll_wait $((HOLD + 30)) proc_exited "$flood_pid"
wait "$flood_pid"
log "  $(cat "$TMP_DIR/flood.out")"
if tls_is_rampart; then
	opened=$(awk '{ print $1 }' "$TMP_DIR/flood.ready")
	closed=$(awk '/^flood/ { print $7 }' "$TMP_DIR/flood.out")
	check "the handshake timeout closed the flood's connections ($closed of $opened)" \
		[ "${closed:-0}" -ge $((opened * 9 / 10)) ]
fi

log "checks: afterwards"
check "a normal viewer is served after the abuse" tls_get "$TMP_DIR/after.out" shop.example.com
if tls_is_rampart; then
	tls_stats "$TMP_DIR/stats.after" || die "no stats"
	b=$TMP_DIR/stats.before a=$TMP_DIR/stats.after
	expect_delta "$b" "$a" tls_fail_bad_hello -ge 2
	expect_delta "$b" "$a" tls_fail_timeout+tls_refused_busy -ge 1
	expect_delta "$b" "$a" tls_handshake_failures -ge 4
	check "no TLS connection left established" [ "$(tls_dp_stat tls_active)" = 0 ]
fi
check "dataplane still running" dp_alive
test_exit
