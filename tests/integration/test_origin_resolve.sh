#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Origin addresses resolved by the control plane (docs/CONTROL.md, "Origin
# addresses"), against a real dataplane and a real DNS server: a small
# authoritative server written here in Python, on 127.0.0.1 at a free port,
# that c-ares in rampart-controlplane queries (--dns-server), so nothing
# depends on the machine's /etc/hosts or network.
#   - a distribution with an origin named by domain only: after apply the
#     domain is resolved, a new generation carries the addresses, the
#     dataplane takes it (same generation, in sync) and rampartctl describe
#     shows the addresses and their expiry; an origin with its own address
#     is never looked up;
#   - a changed answer with a short TTL is noticed and pushed as a new
#     generation; the same answer re-resolved pushes nothing;
#   - a failing name server (SERVFAIL): the last good addresses are kept
#     and still pushed, the failure is shown (describe, the log) and
#     retried with a doubling delay; a recovery clears it;
#   - a restarted control plane pushes the addresses it saved while the
#     name server does not answer at all;
#   - the dataplane parses the member: a malformed one pushed straight to
#     its socket refuses the generation, naming the JSON path.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cp_lib.sh"

PY=${PYTHON:-/usr/bin/python3}

require_env
require_cmd openssl
[ -x "$CP_BIN" ] || die "$CP_BIN not found: build first"
[ -x "$CTL_BIN" ] || die "$CTL_BIN not found: build first"

setup_topology
dp_start 1
make_test_pki "$TMP_DIR/pki" ec || die "cannot make the test PKI (see $TMP_DIR/pki/pki.log)"
PKI=$TMP_DIR/pki

NAME=origin.rampart.test
ZONE=$TMP_DIR/zone.json
QLOG=$TMP_DIR/dns.log

# zone JSON: what the name server answers from now on (re-read per query).
zone() { printf '%s\n' "$1" >"$ZONE.tmp" && mv "$ZONE.tmp" "$ZONE"; }

cat >"$TMP_DIR/dns.py" <<'EOF'
# An authoritative DNS server for one test: A records from a JSON zone file
# re-read on every query. {"name": {"a": [...], "ttl": N}} answers,
# {"name": {"rcode": N}} fails with that rcode, {"name": {"drop": true}}
# never answers, any other name is NXDOMAIN. Each query is logged as
# "NAME QTYPE". The port it bound is written to argv[2].
import json, os, socket, struct, sys

zone_path, port_file, log_path = sys.argv[1:4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)

def qname(msg, off):
    labels = []
    while msg[off] != 0:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace").lower())
        off += 1 + n
    return ".".join(labels), off + 1

while True:
    msg, peer = s.recvfrom(4096)
    try:
        qid, flags = struct.unpack("!HH", msg[:4])
        name, off = qname(msg, 12)
        qtype, = struct.unpack("!H", msg[off:off + 2])
        question = msg[12:off + 4]
    except Exception:
        continue
    with open(log_path, "a") as f:
        f.write("%s %d\n" % (name, qtype))
    try:
        with open(zone_path) as f:
            rr = json.load(f).get(name)
    except Exception:
        rr = None
    answers, rcode = [], 0
    if rr is None:
        rcode = 3
    elif rr.get("drop"):
        continue
    elif "rcode" in rr:
        rcode = rr["rcode"]
    elif qtype == 1:
        for a in rr["a"]:
            answers.append(struct.pack("!HHHIH", 0xc00c, 1, 1, rr["ttl"], 4)
                           + socket.inet_aton(a))
    # QR, AA, RD copied, RA.
    hdr = struct.pack("!HHHHHH", qid, 0x8480 | (flags & 0x0100) | rcode,
                      1, len(answers), 0, 0)
    s.sendto(hdr + question + b"".join(answers), peer)
EOF

zone '{"'$NAME'": {"a": ["198.51.100.7"], "ttl": 1}}'
: >"$QLOG"
"$PY" "$TMP_DIR/dns.py" "$ZONE" "$TMP_DIR/dns.port" "$QLOG" 2>"$TMP_DIR/dns.err" &
BG_PIDS+=("$!")
poll_wait 10 test -s "$TMP_DIR/dns.port" || die "the test DNS server did not start"
DNS_PORT=$(cat "$TMP_DIR/dns.port")
log "test name server on 127.0.0.1:$DNS_PORT"

# The TTL floor at 1 s (5 by default) keeps the test short; the answers
# below have TTL 1.
CP_ARGS=(--dns-server "127.0.0.1:$DNS_PORT" --resolve-min-ttl 1)
cp_start "${CP_ARGS[@]}"

cp_gen() { rctl --json status | jget - 'j["generation"]'; }
dp_gen() { rctl_dp --json status | jget - 'j["generation"]'; }
in_sync() { [ "$(rctl --json status | jget - 'j["dataplane"]["in_sync"]')" = true ]; }
# res EXPR: EXPR over the resolution item r of origin "web" (jget prints a
# lone list, bool or None as JSON, a tuple as Python does).
res() {
	rctl --json describe distribution shop |
		jget - "(lambda r: ($1))([x for x in j['resolution'] if x['origin'] == 'web'][0])"
}
res_is() { [ "$(res "$1")" = "$2" ]; }
queries() { grep -c "^$1 " "$QLOG"; }
queries_above() { [ "$(queries "$1")" -gt "$2" ]; }
# synced_at GEN: the control plane and the dataplane both hold GEN.
synced_at() { [ "$(cp_gen)" = "$1" ] && [ "$(dp_gen)" = "$1" ] && in_sync; }

# ---------------------------------------------------------------- apply

log "checks: an origin named by domain only is resolved and pushed"
rctl cert import --name test-ec --cert "$PKI/chain.pem" --key "$PKI/leaf.key" \
	--ca "$PKI/root.pem" >/dev/null || die "cert import failed"
cat >"$TMP_DIR/dist.json" <<EOF
{
  "name": "shop",
  "aliases": ["test.example.com"],
  "certificates": { "ecdsa": "test-ec" },
  "origins": [
    { "id": "web", "domain": "$NAME" },
    { "id": "fixed", "domain": "fixed.rampart.test", "address": "192.0.2.80" }
  ],
  "default_behavior": { "origin": "web" }
}
EOF
rctl --json apply -f "$TMP_DIR/dist.json" >"$TMP_DIR/apply.json"
GEN_APPLY=$(jget "$TMP_DIR/apply.json" 'j["generation"]')
check "apply: created (generation $GEN_APPLY)" \
	[ "$(jget "$TMP_DIR/apply.json" 'j["action"]')" = created ]
check "describe: web resolves to 198.51.100.7" \
	poll_wait 10 res_is 'r["status"], r["addresses"]' "('ok', ['198.51.100.7'])"
GEN1=$((GEN_APPLY + 1))
check "the addresses made generation $GEN1, which the dataplane holds" \
	poll_wait 10 synced_at "$GEN1"
check "describe: ttl 1, expires = resolved_at + ttl, no error" \
	res_is 'r["ttl"], r["expires"] - r["resolved_at"], r["failures"], r["last_error"]' "(1, 1, 0, None)"
check "describe: only the origin without an address is listed" \
	[ "$(rctl --json describe distribution shop | jget - '[r["origin"] for r in j["resolution"]]')" = '["web"]' ]
check "describe: the object itself stays what apply takes (no resolved member)" \
	[ "$(rctl --json describe distribution shop | jget - '"resolved" in json.dumps(j["object"])')" = false ]
rctl describe distribution shop >"$TMP_DIR/describe.txt"
check "rampartctl describe (text) shows the address and its expiry" \
	grep -Eq '^ +addresses: +198\.51\.100\.7$' "$TMP_DIR/describe.txt"
check "  ... with expires as a time" grep -Eq '^ +expires: +20[0-9-]+T' "$TMP_DIR/describe.txt"
check "the origin with its own address is never looked up" \
	[ "$(queries fixed.rampart.test)" = 0 ]
check "only A queries (the dataplane is IPv4)" \
	[ "$(awk '$2 != 1' "$QLOG" | wc -l)" = 0 ]
check "resolved.json in the state directory holds the address" \
	grep -q 198.51.100.7 "$CP_STATE/resolved.json"

log "checks: the same answer again pushes nothing"
n=$(queries "$NAME")
check "re-resolved at the TTL (twice more)" poll_wait 10 queries_above "$NAME" $((n + 1))
check "  ... and the generation is still $GEN1" synced_at "$GEN1"

log "checks: a changed answer is pushed as a new generation"
zone '{"'$NAME'": {"a": ["198.51.100.9", "198.51.100.8"], "ttl": 1}}'
check "describe: the new addresses, sorted" \
	poll_wait 10 res_is 'r["addresses"]' '["198.51.100.8", "198.51.100.9"]'
GEN2=$((GEN1 + 1))
check "generation $GEN2 on both sides" poll_wait 10 synced_at "$GEN2"
check "the log names the change" \
	grep -q 'msg="origin addresses changed" domain=origin.rampart.test addresses="198.51.100.8,198.51.100.9"' "$CP_ERR"

# ---------------------------------------------------------------- failures

log "checks: a failing name server: the last good addresses are kept"
zone '{"'$NAME'": {"rcode": 2}}'
check "describe: stale, the last good addresses, the error" \
	poll_wait 10 res_is 'r["status"], r["addresses"], r["last_error"].startswith("cannot resolve origin.rampart.test: ")' \
	"('stale', ['198.51.100.8', '198.51.100.9'], True)"
log "  (last_error: $(res 'r["last_error"]'))"
check "failures accumulate" poll_wait 10 res_is 'r["failures"] >= 3' true
# With the 1 s floor the waits after failures 1, 2, 3 are 1, 2, 4 s.
check "the retry delay doubles: next_try_at - failed_at = 2^(failures-1)" \
	res_is 'r["next_try_at"] is None or r["next_try_at"] - r["failed_at"] == min(2 ** (r["failures"] - 1), 300)' true
check "the failure is logged, with the addresses kept" \
	grep -q 'msg="origin domain not resolved; keeping the last good addresses" domain=origin.rampart.test .*kept="198.51.100.8,198.51.100.9"' "$CP_ERR"
check "no new generation for a failure: still $GEN2, in sync" synced_at "$GEN2"

zone '{"'$NAME'": {"a": ["198.51.100.9", "198.51.100.8"], "ttl": 1}}'
check "recovery: ok again, failures 0, error cleared" \
	poll_wait 15 res_is 'r["status"], r["failures"], r["last_error"]' "('ok', 0, None)"
check "  ... the same addresses: still generation $GEN2" synced_at "$GEN2"
check "  ... logged" grep -q 'msg="origin domain resolves again" domain=origin.rampart.test' "$CP_ERR"

# ---------------------------------------------------------------- restart

log "checks: a restarted control plane pushes the saved addresses"
cp_stop TERM
check "control plane exit status $CP_RC (want 0)" [ "$CP_RC" = 0 ]
zone '{"'$NAME'": {"drop": true}}'
n=$(queries "$NAME")
cp_start "${CP_ARGS[@]}"
check "describe right after the restart: the saved addresses" \
	res_is 'r["addresses"]' '["198.51.100.8", "198.51.100.9"]'
check "the control plane is asking the silent name server" \
	poll_wait 10 queries_above "$NAME" "$n"
check "generation $GEN2 pushed again and in sync" poll_wait 10 synced_at "$GEN2"
check "a timeout counts as a failure, addresses kept" \
	poll_wait 20 res_is 'r["status"], "Timeout" in r["last_error"], r["addresses"]' \
	"('stale', True, ['198.51.100.8', '198.51.100.9'])"

# ---------------------------------------------------------------- dataplane

log "checks: the dataplane parses the resolved member"
FP=$(openssl x509 -in "$PKI/leaf.pem" -outform DER | sha256sum | cut -c1-64)
"$PY" - "$TMP_DIR/bad.json" "$PKI/chain.pem" "$PKI/leaf.key" "$FP" <<'EOF'
import json, sys
out, chain, key, fp = sys.argv[1:]
cert = {"chain_pem": open(chain).read(), "key_pem": open(key).read(),
        "key_type": "ECDSA P-256", "fingerprint": fp,
        "sans": ["test.example.com"]}
dist = {"name": "shop", "aliases": ["test.example.com"],
        "certificates": {"ecdsa": "test-ec"},
        "origins": [{"id": "web", "domain": "origin.rampart.test",
                     "resolved": {"addresses": ["198.51.100.300"], "ttl": 5,
                                  "resolved_at": 1}}],
        "default_behavior": {"origin": "web"}}
json.dump([{"op": "txn_begin"},
           {"op": "txn_put", "kind": "certificate", "name": "test-ec", "object": cert},
           {"op": "txn_put", "kind": "distribution", "name": "shop", "object": dist},
           {"op": "txn_commit", "generation": 999}], open(out, "w"))
EOF
dp_ctl_json --batch "$TMP_DIR/bad.json" >"$TMP_DIR/bad.out" 2>&1
check "a malformed resolved address is refused, naming the path" \
	grep -q 'origins\[0\].resolved.addresses item 0 is not an IPv4 address' "$TMP_DIR/bad.out"
check "  ... and the dataplane keeps generation $GEN2" [ "$(dp_gen)" = "$GEN2" ]

cp_stop TERM
check "control plane exit status $CP_RC (want 0)" [ "$CP_RC" = 0 ]
test_exit
