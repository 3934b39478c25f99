#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# rampartctl against no daemon and against a fake one: help at every level,
# usage errors (exit 2), unreadable files (exit 2), no daemon (exit 3 with
# the socket named), refusals (exit 1 with the daemon's sentence), tables
# and --json from canned answers, the shape of the requests it sends, a
# daemon that answers garbage or nothing (exit 3), and bash completion.
# Needs no root and no dataplane: the fake daemon is a small python3
# script speaking the framing of docs/CONTROL.md.

source "$(dirname "$0")/lib.sh"

CTL=$RAMPART_BUILD/tools/rampartctl/rampartctl
COMPLETION=$REPO_ROOT/tools/rampartctl/rampartctl.bash
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 not installed"
[ -x "$CTL" ] || die "$CTL not found: build first (meson setup build && ninja -C build)"
TMP_DIR=$(mktemp -d "/tmp/rampart-$TEST_NAME.XXXXXX") || die "mktemp failed"
SOCK=$TMP_DIR/cp.sock
REQS=$TMP_DIR/requests.jsonl
ANSWERS=$TMP_DIR/answers.json
OUT=$TMP_DIR/out
ERR=$TMP_DIR/err
RC=

# ---------------------------------------------------------------- helpers

# ctl ARGS...: run rampartctl against $SOCK; stdout, stderr and the exit
# status land in $OUT, $ERR and $RC.
ctl() {
	timeout 20 "$CTL" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# expect RC DESCRIPTION ARGS...: run ctl ARGS and check the exit status.
expect() {
	local want=$1 what=$2
	shift 2
	ctl "$@"
	if [ "$RC" -eq "$want" ]; then
		pass "$what: exit $RC"
	else
		fail "$what: exit $RC, expected $want (rampartctl $*)"
		sed 's/^/        stderr: /' "$ERR" | head -n 5
	fi
}

# has FILE TEXT: FILE contains TEXT (fixed string).
has() { grep -qF -- "$2" "$1"; }

check_has() {
	local file=$1 text=$2
	if has "$file" "$text"; then
		pass "$(basename "$file") mentions '$text'"
	else
		fail "$(basename "$file") lacks '$text'"
		sed 's/^/        | /' "$file" | head -n 10
	fi
}

# The fake control plane logs each request as one JSON line and, in MODE
# json, answers with the first of answers.json[op:name], [op:kind], [op]
# (re-read per request). MODE bare answers {"ok": true} to anything,
# garbage an HTTP error instead of a frame, silent nothing at all.
cat >"$TMP_DIR/fake_daemon.py" <<'EOF'
import json, os, socket, struct, sys

path, mode, reqlog, answers = sys.argv[1:5]

def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return None
        b += d
    return b

def frame(obj):
    body = json.dumps(obj).encode()
    return b"RMPC" + bytes([1, 0, 0, 0]) + struct.pack(">I", len(body)) + body

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".tmp")
os.rename(path + ".tmp", path)
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    while True:
        hdr = recv_exact(c, 12)
        if hdr is None:
            break
        if hdr[:4] != b"RMPC" or hdr[4] != 1 or hdr[5:8] != b"\0\0\0":
            c.sendall(frame({"ok": False, "error": "fake: bad header"}))
            break
        (n,) = struct.unpack(">I", hdr[8:12])
        req = json.loads(recv_exact(c, n))
        with open(reqlog, "a") as f:
            f.write(json.dumps(req) + "\n")
        if mode == "garbage":
            c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nnot a frame\n")
            break
        if mode == "silent":
            held.append(c)
            break
        if mode == "bare":
            c.sendall(frame({"ok": True}))
            continue
        with open(answers) as f:
            table = json.load(f)
        name = req.get("name") or (req.get("object") or {}).get("name")
        resp = {"ok": False, "error": "fake: no answer"}
        for key in ("%s:%s" % (req.get("op"), name),
                    "%s:%s" % (req.get("op"), req.get("kind")), req.get("op")):
            if key in table:
                resp = table[key]
                break
        c.sendall(frame(resp))
    if mode != "silent":
        c.close()
EOF

FAKE_PID=
fake_start() { # fake_start MODE
	fake_stop
	rm -f "$SOCK" "$REQS"
	: >"$REQS"
	"$PY" "$TMP_DIR/fake_daemon.py" "$SOCK" "$1" "$REQS" "$ANSWERS" \
		2>"$TMP_DIR/fake.log" &
	FAKE_PID=$!
	BG_PIDS+=("$FAKE_PID")
	poll_wait 10 test -S "$SOCK" || die "fake daemon did not start"
}
fake_stop() {
	[ -n "$FAKE_PID" ] && kill_wait "$FAKE_PID"
	FAKE_PID=
}

# req_check N PYTHON-EXPR: the Nth request (1-based) logged by the fake
# daemon satisfies EXPR, in which r is the request.
req_check() {
	local n=$1 expr=$2
	if "$PY" - "$REQS" "$n" "$expr" <<'EOF'; then
import json, sys
lines = open(sys.argv[1]).read().splitlines()
n = int(sys.argv[2])
if len(lines) < n:
    sys.exit("only %d requests logged" % len(lines))
r = json.loads(lines[n - 1])
if not eval(sys.argv[3]):
    sys.exit("request %d: %s" % (n, json.dumps(r)[:300]))
EOF
		pass "request $n: $expr"
	else
		fail "request $n does not satisfy: $expr"
	fi
}

nreqs() { wc -l <"$REQS"; }

# ---------------------------------------------------------------- help

log "checks: help at every level"
expect 0 "--help" --help
for c in status stats apply get describe delete "cert import" \
	"truststore create" "tickets rotate" "tickets status" "ocsp status" \
	"ocsp refresh" version; do
	has "$OUT" "$c" || fail "top-level help does not list '$c'"
done
pass "top-level help lists every command"
expect 0 "help" help
check_has "$OUT" "cert import"
expect 0 "cert --help" cert --help
check_has "$OUT" "import"
expect 0 "tickets --help" tickets --help
check_has "$OUT" "rotate"
check_has "$OUT" "status"
expect 0 "ocsp -h" ocsp -h
check_has "$OUT" "refresh"
expect 0 "cert import --help" cert import --help
for f in --name --cert --key --ca --replace; do
	has "$OUT" "$f" || fail "cert import --help does not list $f"
done
pass "cert import --help lists its options"
expect 0 "truststore create --help" truststore create --help
check_has "$OUT" "--crl"
expect 0 "stats --help" stats --help
check_has "$OUT" "--watch"
expect 0 "help get" help get
check_has "$OUT" "truststores"
expect 0 "get --help" get --help

log "checks: usage errors exit 2 and say where to look"
expect 2 "unknown command" frobnicate
check_has "$ERR" "unknown command 'frobnicate'"
check_has "$ERR" "try: rampartctl --help"
expect 2 "unknown subcommand" cert frobnicate
check_has "$ERR" "try: rampartctl cert --help"
expect 2 "missing subcommand" tickets
expect 2 "unknown option" get certs --bogus
check_has "$ERR" "--bogus"
check_has "$ERR" "try: rampartctl get --help"
expect 2 "unknown global option" --bogus status
expect 2 "unknown kind" get widgets
expect 2 "describe without a name" describe cert
expect 2 "cert import without --cert" cert import --name x --key /etc/hostname
check_has "$ERR" "--cert"
expect 2 "truststore create without --ca" truststore create --name t
check_has "$ERR" "--ca"
expect 2 "apply without -f" apply
check_has "$ERR" "--filename"
expect 2 "option missing its value" cert import --name x --key k --cert
expect 2 "--dataplane-socket with a control-plane command" \
	--dataplane-socket "$SOCK" get certs
expect 2 "bad --timeout" --timeout soon status
expect 2 "bad --watch period" stats --watch 0

log "checks: unreadable files exit 2 before anything is sent"
printf 'x\n' >"$TMP_DIR/key.pem"
expect 2 "missing --cert file" cert import --name x --cert "$TMP_DIR/nope.pem" \
	--key "$TMP_DIR/key.pem"
check_has "$ERR" "cannot read $TMP_DIR/nope.pem: No such file or directory"
expect 2 "directory as --key" cert import --name x --key "$TMP_DIR" \
	--cert "$TMP_DIR/key.pem"
check_has "$ERR" "cannot read $TMP_DIR"
printf '\x30\x82\x01\x00\x00binary' >"$TMP_DIR/der.crt"
expect 2 "DER file as --ca" truststore create --name t --ca "$TMP_DIR/der.crt"
check_has "$ERR" "expected PEM text"
expect 2 "apply -f missing file" apply -f "$TMP_DIR/nope.json"
check_has "$ERR" "cannot read $TMP_DIR/nope.json"
printf '{"name": "shop",' >"$TMP_DIR/bad.json"
expect 2 "apply -f invalid JSON" apply -f "$TMP_DIR/bad.json"
check_has "$ERR" "bad.json: line"
printf '"shop"' >"$TMP_DIR/str.json"
expect 2 "apply -f a JSON string" apply -f "$TMP_DIR/str.json"

log "checks: no daemon"
expect 3 "no control plane" status
check_has "$ERR" "cannot connect to $SOCK"
check_has "$ERR" "No such file or directory"
RAMPART_SOCKET=$TMP_DIR/env.sock timeout 20 "$CTL" get certs >"$OUT" 2>"$ERR"
RC=$?
check "RAMPART_SOCKET picks the socket (exit 3 naming it)" \
	test "$RC" -eq 3 -a -n "$(grep -F "$TMP_DIR/env.sock" "$ERR")"
expect 3 "no dataplane" --dataplane-socket "$TMP_DIR/dp.sock" stats
check_has "$ERR" "cannot connect to $TMP_DIR/dp.sock"

# ---------------------------------------------------------------- fake daemon

cat >"$TMP_DIR/certs.json" <<'EOF'
{"ok": true, "items": [
  {"name": "shop-ec", "key_type": "ECDSA P-256",
   "sans": ["shop.example.com", "www.shop.example.com", "cdn.example.com"],
   "issuer": "CN=Example CA 2, O=Example", "not_before": 1767225600,
   "not_after": 1798761600, "fingerprint": "ab01", "used_by": ["shop"]},
  {"name": "spare-rsa", "key_type": "RSA 2048", "sans": ["spare.example.com"],
   "issuer": "CN=Example CA 2", "not_before": 1767225600,
   "not_after": 1767312000, "fingerprint": "cd02", "used_by": []}
]}
EOF
"$PY" - "$TMP_DIR/certs.json" "$ANSWERS" <<'EOF'
import json, sys
certs = json.load(open(sys.argv[1]))
ans = {
  "get": certs,
  "get:distributions": {"ok": True, "items": [
      {"name": "shop", "comment": "storefront", "enabled": True,
       "aliases": ["shop.example.com", "*.cdn.example.com"],
       "certificates": {"ecdsa": "shop-ec", "rsa": "shop-rsa"}, "origins": 2},
      {"name": "blog", "comment": "", "enabled": False,
       "aliases": ["blog.example.com"], "certificates": {"rsa": "blog-rsa"},
       "origins": 1}]},
  "get:truststores": {"ok": True, "items": [
      {"name": "partners", "cas": 2, "revoked": 3, "crl": True, "used_by": ["shop"]}]},
  "delete": {"ok": False, "error": "certificate \"x\" is used by distribution \"shop\""},
  "delete:old": {"ok": True, "generation": 8},
  "describe": {"ok": True, "object": {"name": "shop-ec", "key_type": "ECDSA P-256",
      "sans": ["shop.example.com"], "not_after": 1798761600,
      "chain_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}},
  "cert_import": {"ok": True, "generation": 5, "cert": certs["items"][0]},
  "truststore_create": {"ok": True, "generation": 6},
  "apply": {"ok": True, "generation": 7, "name": "a", "action": "created"},
  "apply:b": {"ok": False, "error": "distribution \"b\": $.origins[1].verify.mode: \"strictest\" is not one of strict, full, pinned"},
  "status": {"ok": True, "version": "9.9.9", "uptime_s": 7380,
      "state_dir": "/var/lib/rampart", "generation": 12,
      "dataplane": {"connected": True, "socket": "/run/rampart/dataplane.sock",
          "in_sync": True, "generation": 12, "instance": "5eed",
          "uptime_s": 60, "lcores": 2, "last_error": None}},
  "stats": {"ok": True, "lcores": [
      {"lcore": 1, "counters": {"rx_packets": 10, "tx_packets": 4, "ip_bad": 0}},
      {"lcore": 2, "counters": {"rx_packets": 5, "tx_packets": 0, "ip_bad": 0}}],
      "total": {"rx_packets": 15, "tx_packets": 4, "ip_bad": 0}},
  "tickets_status": {"ok": True, "keys": [
      {"id": "00112233445566778899aabbccddeeff", "role": "encrypt", "created": 1767225600},
      {"id": "ffeeddccbbaa99887766554433221100", "role": "decrypt", "created": 1767222000}],
      "period_s": 3600, "next_rotation": 1767229200},
  "ocsp_status": {"ok": True, "items": [
      {"cert": "shop-ec", "fingerprint": "ab01", "responder": "http://ocsp.example.com",
       "status": "good", "this_update": 1767225600, "next_update": 1767830400,
       "next_refresh": 1767229200, "stapled": True, "last_error": None}]},
  "ocsp_refresh": {"ok": True, "items": []},
  "tickets_rotate": {"ok": True, "keys": [
      {"id": "00112233445566778899aabbccddeeff", "role": "encrypt", "created": 1767225600}]},
}
json.dump(ans, open(sys.argv[2], "w"))
EOF

fake_start json

log "checks: a refusal is exit 1 with the daemon's sentence"
expect 1 "delete a certificate in use" delete cert x
if [ "$(cat "$ERR")" = 'rampartctl: certificate "x" is used by distribution "shop"' ]; then
	pass "stderr is exactly the daemon's sentence"
else
	fail "stderr: $(cat "$ERR")"
fi
check "nothing on stdout after a refusal" test ! -s "$OUT"
req_check 1 'r == {"op": "delete", "kind": "cert", "name": "x"}'
expect 0 "delete an unused certificate" delete certificate old
check_has "$OUT" 'certificate "old" deleted (generation 8)'
req_check 2 'r == {"op": "delete", "kind": "cert", "name": "old"}'

log "checks: get certs as a table and as JSON"
expect 0 "get certs" get certs
req_check 3 'r == {"op": "get", "kind": "certs"}'
if head -n 1 "$OUT" | grep -Eq '^NAME +TYPE +SANS +ISSUER +EXPIRES +USED-BY$'; then
	pass "header row: NAME TYPE SANS ISSUER EXPIRES USED-BY"
else
	fail "header row: $(head -n 1 "$OUT")"
fi
check "two certificate rows" test "$(wc -l <"$OUT")" -eq 3
check_has "$OUT" "shop-ec"
check_has "$OUT" "ECDSA P-256"
check_has "$OUT" "2027-01-01T00:00:00Z"
check_has "$OUT" "Example CA 2"
check_has "$OUT" "spare-rsa"
# Columns line up: every row has USED-BY where the header has it.
col=$(head -n 1 "$OUT" | awk '{ print index($0, "USED-BY") }')
check "USED-BY column aligned" test "$(sed -n 2p "$OUT" | cut -c "$col"-)" = shop
expect 0 "--json get certs" --json get certs
if "$PY" - "$OUT" "$TMP_DIR/certs.json" <<'EOF'; then
import json, sys
out = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))
del want["ok"]
sys.exit(0 if out == want and list(out["items"][0]) == list(want["items"][0]) else 1)
EOF
	pass "--json prints the response without \"ok\", members in order"
else
	fail "--json output differs from the daemon's response"
fi
expect 0 "global option after the command" get truststores --json
req_check 5 'r == {"op": "get", "kind": "truststores"}'
check_has "$OUT" '"revoked": 3'
expect 0 "get truststores" get truststores
if head -n 1 "$OUT" | grep -Eq '^NAME +CAS +CRL +REVOKED +USED-BY$' &&
	grep -Eq '^partners +2 +yes +3 +shop$' "$OUT"; then
	pass "truststores table"
else
	fail "truststores table:"; sed 's/^/        | /' "$OUT"
fi
expect 0 "get distributions" get dists
req_check 7 'r == {"op": "get", "kind": "distributions"}'
if head -n 1 "$OUT" | grep -Eq '^NAME +ALIASES +CERTS +ORIGINS +ENABLED +COMMENT$' &&
	grep -Eq '^shop +shop.example.com,\*.cdn.example.com +shop-ec,shop-rsa +2 +yes +storefront$' "$OUT" &&
	grep -Eq '^blog +blog.example.com +blog-rsa +1 +no +-$' "$OUT"; then
	pass "distributions table"
else
	fail "distributions table:"; sed 's/^/        | /' "$OUT"
fi

log "checks: request shapes"
printf -- '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n' >"$TMP_DIR/chain.pem"
printf -- '-----BEGIN PRIVATE KEY-----\nMIGkey\n-----END PRIVATE KEY-----\n' >"$TMP_DIR/key.pem"
printf -- '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n' >"$TMP_DIR/ca.pem"
printf -- '-----BEGIN X509 CRL-----\nMIIBcrl\n-----END X509 CRL-----\n' >"$TMP_DIR/crl.pem"
n=$(nreqs)
expect 0 "cert import" cert import --name shop-ec --cert "$TMP_DIR/chain.pem" \
	--key "$TMP_DIR/key.pem"
check_has "$OUT" 'certificate "shop-ec" imported (generation 5)'
req_check $((n + 1)) "r == {'op': 'cert_import', 'name': 'shop-ec', 'cert_pem': open('$TMP_DIR/chain.pem').read(), 'key_pem': open('$TMP_DIR/key.pem').read(), 'replace': False}"
expect 0 "cert import --ca --replace" cert import --replace -n shop-ec \
	--cert "$TMP_DIR/chain.pem" --key "$TMP_DIR/key.pem" --ca "$TMP_DIR/ca.pem"
req_check $((n + 2)) "r['replace'] is True and r['ca_pem'] == open('$TMP_DIR/ca.pem').read()"
expect 0 "truststore create" truststore create --name partners \
	--ca "$TMP_DIR/ca.pem" --crl "$TMP_DIR/crl.pem"
req_check $((n + 3)) "r == {'op': 'truststore_create', 'name': 'partners', 'ca_pem': open('$TMP_DIR/ca.pem').read(), 'crl_pem': open('$TMP_DIR/crl.pem').read(), 'replace': False}"
expect 0 "describe" describe cert shop-ec
req_check $((n + 4)) 'r == {"op": "describe", "kind": "cert", "name": "shop-ec"}'
check_has "$OUT" "not_after:"
check_has "$OUT" "2027-01-01T00:00:00Z"
check_has "$OUT" "  -----BEGIN CERTIFICATE-----"
expect 0 "ocsp refresh --cert" ocsp refresh --cert shop-ec
req_check $((n + 5)) 'r == {"op": "ocsp_refresh", "cert": "shop-ec"}'
expect 0 "tickets rotate" tickets rotate
req_check $((n + 6)) 'r == {"op": "tickets_rotate"}'
check_has "$OUT" "ticket keys rotated"
check_has "$OUT" "00112233445566778899aabbccddeeff"

log "checks: apply"
cat >"$TMP_DIR/one.json" <<'EOF'
{"name": "a", "aliases": ["a.example.com"], "certificates": {"ecdsa": "shop-ec"},
 "origins": [{"id": "web", "domain": "o.example.com"}],
 "default_behavior": {"origin": "web"}}
EOF
n=$(nreqs)
expect 0 "apply -f one object" apply -f "$TMP_DIR/one.json"
check_has "$OUT" 'distribution "a" created (generation 7)'
req_check $((n + 1)) "r == {'op': 'apply', 'kind': 'distribution', 'object': json.load(open('$TMP_DIR/one.json'))}"
"$PY" -c '
import json, sys
a = json.load(open(sys.argv[1]))
b = dict(a, name="b"); c = dict(a, name="c")
json.dump([a, b, c], open(sys.argv[2], "w"))' "$TMP_DIR/one.json" "$TMP_DIR/three.json"
n=$(nreqs)
timeout 20 "$CTL" --socket "$SOCK" apply -f - <"$TMP_DIR/three.json" >"$OUT" 2>"$ERR"
RC=$?
check "apply of 3 with the 2nd refused: exit 1" test "$RC" -eq 1
check_has "$ERR" '$.origins[1].verify.mode'
check_has "$ERR" 'stopped at distribution 2 of 3 ("b")'
check_has "$OUT" 'distribution "a" created'
req_check $((n + 1)) "r['op'] == 'apply' and r['object']['name'] == 'a'"
req_check $((n + 2)) "r['op'] == 'apply' and r['object']['name'] == 'b'"
check "the 3rd distribution was not sent" test "$(nreqs)" -eq $((n + 2))

log "checks: status, stats, tickets, ocsp tables"
expect 0 "status" status
check_has "$OUT" "control plane:"
check_has "$OUT" "version:"
check_has "$OUT" "9.9.9"
check_has "$OUT" "2h03m"
check_has "$OUT" "dataplane:"
check_has "$OUT" "in_sync:"
expect 0 "status via --dataplane-socket" --dataplane-socket "$SOCK" status
req_check "$(nreqs)" 'r == {"op": "status"}'
expect 0 "stats" stats
check_has "$OUT" "rx_packets"
if has "$OUT" ip_bad; then fail "stats shows a zero counter by default"; else pass "stats hides zero counters"; fi
expect 0 "stats --all" stats --all
check_has "$OUT" "ip_bad"
expect 0 "stats --lcores" stats --lcores
check_has "$OUT" "LCORE1"
check_has "$OUT" "LCORE2"
if grep -Eq '^rx_packets +15 +10 +5$' "$OUT"; then
	pass "stats --lcores: total and per-lcore values"
else
	fail "stats --lcores: $(grep rx_packets "$OUT")"
fi
timeout --preserve-status -s INT 3 "$CTL" --socket "$SOCK" stats --watch 0.5 >"$OUT" 2>"$ERR"
RC=$?
check "stats --watch ends cleanly on SIGINT (exit $RC)" test "$RC" -eq 0
check_has "$OUT" "RATE/s"
check "stats --watch redrew (several samples)" \
	test "$(grep -c '^rx_packets' "$OUT")" -ge 3
# The fake's counters do not move: every rate after the first sample is 0.
check_has "$OUT" "0.0"
expect 0 "tickets status" tickets status
check_has "$OUT" "00112233445566778899aabbccddeeff"
check_has "$OUT" "encrypt"
check_has "$OUT" "2026-01-01T00:00:00Z"
check_has "$OUT" "next rotation:"
expect 0 "ocsp status" ocsp status
if head -n 1 "$OUT" | grep -Eq '^CERT +STATUS +THIS-UPDATE +NEXT-UPDATE +NEXT-REFRESH +STAPLED +ERROR$'; then
	pass "ocsp status header"
else
	fail "ocsp status header: $(head -n 1 "$OUT")"
fi
check_has "$OUT" "good"
check_has "$OUT" "2026-01-08T00:00:00Z"

log "checks: bash completion"
complete_words() { # complete_words WORDS...: what completion offers for the last word
	PATH=$(dirname "$CTL"):$PATH RAMPART_SOCKET=$SOCK bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_rampartctl rampartctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$@" 2>/dev/null | sort | tr '\n' ' '
}
check "completes commands" test "$(complete_words rampartctl tick)" = "tickets "
check "completes subcommands" test "$(complete_words rampartctl ocsp '')" = "refresh status "
check "completes kinds" test "$(complete_words rampartctl get '')" = "certs distributions truststores "
check "completes flags" test "$(complete_words rampartctl cert import --re)" = "--replace "
: >"$TMP_DIR/complete-me.pem"
check "completes files after --key" \
	test "$(complete_words rampartctl cert import --key "$TMP_DIR/complete-")" = "$TMP_DIR/complete-me.pem "
check "completes names from the control plane" \
	test "$(complete_words rampartctl --socket "$SOCK" describe cert '')" = "shop-ec spare-rsa "

log "checks: answers with none of the expected members do not crash"
fake_start bare
for args in status stats "stats --lcores" "get certs" "get distributions" \
	"get truststores" "describe cert x" "delete truststore x" \
	"tickets status" "tickets rotate" "ocsp status" "ocsp refresh" version; do
	# shellcheck disable=SC2086
	ctl $args
	[ "$RC" -eq 0 ] || fail "rampartctl $args on a bare {\"ok\": true}: exit $RC"
done
pass "every command survives a bare {\"ok\": true}"

log "checks: a daemon that answers garbage or nothing"
fake_start garbage
expect 3 "garbage answer" get certs
check_has "$ERR" "$SOCK"
fake_start silent
start=$SECONDS
expect 3 "no answer within --timeout 1" --timeout 1 get certs
check_has "$ERR" "no response within 1 s"
check "gave up after about a second" test $((SECONDS - start)) -le 5
fake_stop

# With root and network namespaces, the same flag against the real
# dataplane's socket; the rest of this test needs neither.
can_run_dataplane() {
	local probe=rampart-probe-$SUFFIX
	[ "$(id -u)" -eq 0 ] && [ -x "$DP_BIN" ] || return 1
	command -v ip >/dev/null 2>&1 && command -v ethtool >/dev/null 2>&1 || return 1
	ip netns add "$probe" >/dev/null 2>&1 || return 1
	ip netns del "$probe" >/dev/null 2>&1
}
if can_run_dataplane; then
	log "checks: --dataplane-socket against rampart-dataplane"
	DP_SOCK=$TMP_DIR/dp.sock
	setup_topology
	dp_start 2
	expect 0 "dataplane status" --dataplane-socket "$DP_SOCK" status
	check_has "$OUT" "instance:"
	if grep -Eq '^ +PORT +NAME +RX-PACKETS' "$OUT" && grep -q 'net_af_packet0' "$OUT"; then
		pass "dataplane status shows its ports as a table"
	else
		fail "dataplane status ports:"; sed 's/^/        | /' "$OUT"
	fi
	wait_ping
	expect 0 "dataplane stats --lcores" --dataplane-socket "$DP_SOCK" stats --lcores
	if grep -Eq '^icmp_echo_in +[1-9][0-9]* ' "$OUT" && head -n 1 "$OUT" | grep -q LCORE; then
		pass "dataplane stats count the ping, per lcore"
	else
		fail "dataplane stats:"; sed 's/^/        | /' "$OUT"
	fi
	expect 2 "dataplane socket refuses control-plane commands" \
		--dataplane-socket "$DP_SOCK" tickets status
else
	log "(not root or no namespaces: --dataplane-socket against a real dataplane not checked)"
fi

test_exit
