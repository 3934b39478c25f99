#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The dataplane's control socket (docs/CONTROL.md, "Dataplane socket ops"),
# spoken to with tests/integration/ctlclient.py:
#   - status answers generation 0 before any commit, with a random instance;
#   - a transaction with a real ECDSA certificate and a distribution commits
#     and status reports its generation; a transaction naming a missing
#     certificate is refused with the reason and the previous generation
#     keeps running;
#   - tickets_set / tickets_get, staple_set / staples_get / staple_del;
#   - garbage, a bad magic, version 2, an oversized length, a non-object
#     body and a half frame each get one error and a close, while a second,
#     long-lived client keeps getting status answers and ping through the
#     dataplane keeps working;
#   - peers: a user outside the socket's group cannot connect (mode 0660);
#     with the socket opened to everyone, SO_PEERCRED still refuses them
#     with a framed error naming the uid; a member of --control-group is
#     served; an unknown --control-group stops the start.

source "$(dirname "$0")/lib.sh"

PY=${PYTHON:-/usr/bin/python3}
CTL_GROUP=users
# Two workers: every publication waits for a grace period of both.
WORKERS=2

require_env
require_cmd openssl setpriv base64 sha256sum
getent group "$CTL_GROUP" >/dev/null || skip "no '$CTL_GROUP' group for the --control-group check"

log "checks: --control-group is validated before anything starts"
out=$("$DP_BIN" -- --ip "$DP_ADDR/$DP_PREFIX" --control-group no-such-group-rp 2>&1)
rc=$?
check "unknown --control-group: exit $rc (want 2)" [ "$rc" = 2 ]
check "unknown --control-group: '$out' names the group" \
	grep -q "control-group 'no-such-group-rp': no such group" <<<"$out"

setup_topology
# Other users must reach the socket itself for the permission checks to
# be about the socket, not about our private temporary directory.
chmod 0755 "$TMP_DIR"
cp "$CTLCLIENT" "$TMP_DIR/ctlclient.py"
chmod 0755 "$TMP_DIR/ctlclient.py"
dp_start "$WORKERS" --control-group "$CTL_GROUP"
wait_ping

# q OP [KEY=VALUE...] EXPR: evaluate EXPR over the response r.
q() {
	local op=$1
	shift
	local expr=${*: -1}
	set -- "${@:1:$#-1}"
	dp_ctl_json "$op" "$@" --expr "$expr"
}

log "checks: status before any commit"
check "status: generation 0" [ "$(q status 'r["generation"]')" = 0 ]
inst=$(q status 'r["instance"]')
check "status: instance '$inst' is 16 hex digits" grep -Eq '^[0-9a-f]{16}$' <<<"$inst"
check "status: $WORKERS workers, one port, no objects" \
	[ "$(q status 'len(r["workers"]), len(r["ports"]), r["distributions"], r["certificates"], r["ticket_keys"], r["staples"]')" = "($WORKERS, 1, 0, 0, 0, 0)" ]
check "status: port 0 counts received packets" \
	[ "$(q status 'r["ports"][0]["rx_packets"] > 0')" = True ]
check "stats: per-lcore counters and a total" \
	[ "$(q stats 'r["total"]["icmp_echo_in"] == sum(l["counters"]["icmp_echo_in"] for l in r["lcores"]) > 0')" = True ]

log "checks: a transaction commits a certificate and a distribution"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TMP_DIR/shop.key" -out "$TMP_DIR/shop.crt" -days 30 \
	-subj /CN=shop.example.com -addext subjectAltName=DNS:shop.example.com \
	>/dev/null 2>&1 || die "openssl cannot make a certificate"
FP=$(openssl x509 -in "$TMP_DIR/shop.crt" -outform DER | sha256sum | cut -c1-64)

# txn_batch FILE GENERATION CERT_NAME_IN_DIST: begin, put the certificate
# "shop-ec" and distribution "shop" (naming CERT_NAME_IN_DIST), commit.
txn_batch() {
	"$PY" - "$1" "$2" "$3" "$TMP_DIR/shop.crt" "$TMP_DIR/shop.key" "$FP" <<'EOF'
import json, sys
out, gen, cert_ref, crt, key, fp = sys.argv[1:]
cert = {"chain_pem": open(crt).read(), "key_pem": open(key).read(),
        "key_type": "ECDSA P-256", "fingerprint": fp,
        "sans": ["shop.example.com"]}
dist = {"name": "shop", "enabled": True, "aliases": ["shop.example.com"],
        "certificates": {"ecdsa": cert_ref},
        "tls": {"security_policy": "TLSv1.2_2021", "mtls": {"mode": "off"}},
        "origins": [{"id": "web", "domain": "origin.example.com"}],
        "default_behavior": {"origin": "web",
                             "viewer_protocol_policy": "redirect-to-https"}}
reqs = [{"op": "txn_begin"},
        {"op": "txn_put", "kind": "certificate", "name": "shop-ec", "object": cert},
        {"op": "txn_put", "kind": "distribution", "name": "shop", "object": dist},
        {"op": "txn_commit", "generation": int(gen)}]
json.dump(reqs, open(out, "w"))
EOF
}

txn_batch "$TMP_DIR/good.json" 5 shop-ec
dp_ctl_json --batch "$TMP_DIR/good.json" >"$TMP_DIR/good.out" 2>&1
rc=$?
check "txn commit of generation 5: exit $rc" [ "$rc" = 0 ]
check "txn_commit answers generation 5" grep -q '"ok":true,"generation":5' "$TMP_DIR/good.out"
check "status: generation 5, 1 distribution, 1 certificate" \
	[ "$(q status 'r["generation"], r["distributions"], r["certificates"]')" = "(5, 1, 1)" ]

log "checks: an inconsistent transaction is refused, generation 5 keeps running"
txn_batch "$TMP_DIR/bad.json" 6 ghost-ec
dp_ctl_json --batch "$TMP_DIR/bad.json" >"$TMP_DIR/bad.out" 2>&1
rc=$?
check "txn naming a missing certificate: exit $rc (want 1)" [ "$rc" = 1 ]
reason=$(grep '^error: ' "$TMP_DIR/bad.out" | tail -n 1)
check "the refusal names the distribution and the missing certificate: ${reason#error: }" \
	grep -q 'generation 6 refused: distribution "shop": .*"ghost-ec".*not in the transaction' <<<"$reason"
check "status still reports generation 5" [ "$(q status 'r["generation"]')" = 5 ]
check "closing a connection aborts its transaction" \
	[ "$(dp_ctl_json txn_put kind=certificate name=x 'object={}' --expr 'r["ok"]' 2>/dev/null)" = False ]

log "checks: ticket keys"
K1=$(printf '11%.0s' {1..16})
K2=$(printf '22%.0s' {1..16})
S=$(printf 'ab%.0s' {1..64})
keys="[{\"id\":\"$K1\",\"secret\":\"$S\",\"encrypt\":false},{\"id\":\"$K2\",\"secret\":\"$S\",\"encrypt\":true}]"
check "tickets_set with 2 keys" [ "$(q tickets_set "keys=$keys" 'r["keys"]')" = 2 ]
check "tickets_get lists both, $K2 encrypting, and no secret" \
	[ "$(q tickets_get '[(k["id"], k["encrypt"]) for k in r["keys"]], "secret" in str(r)')" = "([('$K1', False), ('$K2', True)], False)" ]
bad="[{\"id\":\"$K1\",\"secret\":\"$S\",\"encrypt\":true},{\"id\":\"$K2\",\"secret\":\"$S\",\"encrypt\":true}]"
check "tickets_set with two encrypting keys is refused" \
	grep -q "exactly one key must encrypt" <<<"$(q tickets_set "keys=$bad" 'r["error"]' 2>/dev/null)"
check "status: 2 ticket keys" [ "$(q status 'r["ticket_keys"]')" = 2 ]

log "checks: OCSP staples"
der=$(head -c 300 /dev/urandom | base64 -w0)
nu=$(($(date +%s) + 3600))
check "staple_set" [ "$(q staple_set "fingerprint=$FP" cert=shop-ec "der=$der" "next_update=$nu" 'r["ok"]')" = True ]
check "staples_get lists it: 300 bytes for $FP" \
	[ "$(q staples_get '" ".join("%s/%s/%d" % (i["fingerprint"], i["cert"], i["bytes"]) for i in r["items"])')" = "$FP/shop-ec/300" ]
check "status: 1 staple" [ "$(q status 'r["staples"]')" = 1 ]
check "staple_set of an expired response is refused" \
	[ "$(q staple_set "fingerprint=$FP" cert=shop-ec "der=$der" next_update=1000 'r["ok"]' 2>/dev/null)" = False ]
check "staple_del" [ "$(q staple_del "fingerprint=$FP" 'r["ok"]')" = True ]
check "staples_get is empty" [ "$(q staples_get 'len(r["items"])')" = 0 ]
check "staple_del again is refused" \
	[ "$(q staple_del "fingerprint=$FP" 'r["ok"]' 2>/dev/null)" = False ]

log "checks: protocol abuse gets an error and a close; others are served"
# A long-lived client (the control plane's shape) asks for status every
# 0.25 s on one connection while the abuse runs, and ping keeps going.
dp_ctl_json status --repeat 48 --interval 0.25 --expr 'r["ok"]' \
	>"$TMP_DIR/parallel.out" 2>&1 &
par_pid=$!
viewer ping -c 40 -i 0.25 -W 2 "$DP_ADDR" >"$TMP_DIR/abuse-ping.log" 2>&1 &
ping_pid=$!

# raw_case DESCRIPTION HEX NEEDLE [--hold S]: the reply to HEX is an error
# mentioning NEEDLE, and the connection is closed after it.
raw_case() {
	local what=$1 hex=$2 needle=$3 out
	shift 3
	out=$(timeout 20 "$PY" "$CTLCLIENT" "$DP_SOCK" --raw "$hex" "$@")
	if grep -q '"ok":false' <<<"$out" && grep -qi -- "$needle" <<<"$out" &&
		[ "$(tail -n 1 <<<"$out")" = CLOSED ]; then
		pass "$what: error and close"
	else
		fail "$what: got '$out' (want an error mentioning '$needle', then CLOSED)"
	fi
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

raw_case "HTTP request instead of a frame" "$(hex $'GET / HTTP/1.0\r\n\r\n')" magic
raw_case "bad magic" "524d505801000000000000027b7d" magic
raw_case "version 2" "524d504302000000000000027b7d" version
raw_case "length 0x7fffffff" "524d5043010000007fffffff" ""
raw_case "a JSON array body" "524d504301000000000000025b5d" object
raw_case "invalid JSON body" "524d504301000000000000037b7b7b" ""
# Half a frame that never completes: the server gives up after 5 s.
t0=$SECONDS
raw_case "half a frame left hanging" "524d5043010000000000006400$(hex '{"op":')" "incomplete" --timeout 12
took=$((SECONDS - t0))
check "the half frame was dropped after about 5 s (took $took s)" \
	test "$took" -ge 4 -a "$took" -le 9
out=$(dp_ctl_json --batch <(echo '[{"op":"no_such_op"},{"op":"status"}]') 2>&1)
ok=0
[ "$(grep -c '"ok":true' <<<"$out")" = 1 ] && grep -q 'unknown op \\"no_such_op\\"' <<<"$out" && ok=1
check "an unknown op is an error but the connection stays usable" [ "$ok" = 1 ]

wait "$par_pid"
rc=$?
n=$(grep -c True "$TMP_DIR/parallel.out")
check "parallel client: exit $rc, $n of 48 status answers" test "$rc" = 0 -a "$n" = 48
wait "$ping_pid"
loss=$(ping_loss "$TMP_DIR/abuse-ping.log")
check "ping during the abuse: ${loss:-?}% loss" [ "$loss" = 0 ]

log "checks: at most 64 connections at a time"
out=$(timeout 20 "$PY" - "$DP_SOCK" "$CTLCLIENT" <<'EOF'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("ctlclient", sys.argv[2])
cc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cc)
held = [cc.connect(sys.argv[1], 10) for _ in range(64)]
# Every held connection is served...
for s in held:
    s.sendall(cc.frame({"op": "status"}))
ok = sum(1 for s in held if cc.recv_frame(s)["ok"])
# ...and the next one is turned away with a sentence.
extra = cc.connect(sys.argv[1], 10)
r = cc.recv_frame(extra)
print(ok, r["ok"], r["error"])
EOF
)
check "64 connections served, the 65th refused: $out" \
	grep -q '^64 False .*already serves 64 control connections' <<<"$out"
status_ok() { [ "$(q status 'r["ok"]' 2>/dev/null)" = True ]; }
check "connections are free again once closed" poll_wait 5 status_ok

log "checks: who may use the socket"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
out=$(as_nobody timeout 10 "$PY" "$TMP_DIR/ctlclient.py" "$DP_SOCK" status 2>&1)
rc=$?
ok=0
[ "$rc" = 3 ] && grep -qi "permission denied" <<<"$out" && ok=1
check "uid 65534 outside the group: cannot connect (exit $rc, '$out')" [ "$ok" = 1 ]
chmod 0666 "$DP_SOCK"
out=$(as_nobody timeout 10 "$PY" "$TMP_DIR/ctlclient.py" "$DP_SOCK" status 2>&1)
rc=$?
ok=0
[ "$rc" = 1 ] && grep -q "uid 65534" <<<"$out" && ok=1
check "socket opened to all: SO_PEERCRED refuses uid 65534 with a framed error (exit $rc, '$out')" [ "$ok" = 1 ]
chmod 0660 "$DP_SOCK"
gid=$(getent group "$CTL_GROUP" | cut -d: -f3)
out=$(setpriv --reuid=65534 --regid="$gid" --clear-groups timeout 10 "$PY" \
	"$TMP_DIR/ctlclient.py" "$DP_SOCK" status --expr 'r["generation"]' 2>&1)
check "a member of --control-group $CTL_GROUP is served ('$out')" [ "$out" = 5 ]
check "status still answers as root" [ "$(q status 'r["generation"]')" = 5 ]

# Leave a staple, a ring and a snapshot behind: the exit frees them (the
# sanitizer build, run with RAMPART_BUILD, reports what it does not).
check "staple_set before stopping" \
	[ "$(q staple_set "fingerprint=$FP" cert=shop-ec "der=$der" "next_update=$nu" 'r["ok"]')" = True ]
dp_stop TERM
check "clean exit after the abuse (status ${DP_RC:-?})" [ "${DP_RC:-1}" = 0 ]
test_exit
