#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# rampart-controlplane against a real dataplane, driven with rampartctl:
#   - a certificate import (openssl-made ECDSA chain) and a distribution
#     apply reach the dataplane: its own status shows the same generation;
#     get/describe show them, describe never shows the key, state.json
#     holds no key in clear and every state file is 0600;
#   - deleting a certificate a distribution uses is refused, naming it;
#   - tickets rotate: a new encrypting id, the old one stays as decrypt,
#     on the control plane and on the dataplane;
#   - a dataplane restart (new instance, empty) is noticed and everything
#     is pushed again: generation and ticket keys come back;
#   - with the control plane stopped the dataplane keeps its generation;
#   - kill -9 of the control plane during a loop of applies: after a
#     restart the state loads and shows the last acknowledged version (or
#     a later one that was in flight);
#   - garbage, an oversized length, a non-object body and a half frame on
#     the control plane's socket each get one error and a close, and the
#     daemon keeps serving;
#   - an unprivileged user is refused by the socket's mode, and by
#     SO_PEERCRED when the mode is opened.

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
cp_start

# ctl_err ARGS...: rampartctl with stdout+stderr in $TMP_DIR/ctl.out and the
# exit status in CTL_RC.
CTL_RC=
ctl_err() {
	timeout 60 "$CTL_BIN" --socket "$CP_SOCK" "$@" >"$TMP_DIR/ctl.out" 2>&1
	CTL_RC=$?
}

# cpq OP [KEY=VALUE...] EXPR: a raw request to the control plane, EXPR
# evaluated over the response r.
cpq() {
	local op=$1
	shift
	local expr=${*: -1}
	set -- "${@:1:$#-1}"
	timeout 15 "$PY" "$CTLCLIENT" "$CP_SOCK" "$op" "$@" --expr "$expr"
}

# dpq OP EXPR: the same against the dataplane.
dpq() { dp_ctl_json "$1" --expr "$2"; }

# lacks ERE FILE...: no line of the files matches.
lacks() { ! grep -qiE "$@"; }

dist_json() { # COMMENT FILE
	cat >"$2" <<EOF
{
  "name": "shop",
  "comment": "$1",
  "aliases": ["test.example.com", "www.test.example.com"],
  "certificates": { "ecdsa": "test-ec" },
  "origins": [ { "id": "web", "domain": "origin.example.com", "address": "192.0.2.80" } ],
  "default_behavior": { "origin": "web" }
}
EOF
}

cp_gen() { rctl --json status | jget - 'j["generation"]'; }
dp_gen() { rctl_dp --json status | jget - 'j["generation"]'; }
dp_gen_is() { [ "$(dp_gen)" = "$1" ]; }
# dp_field_is NAME VALUE: the control plane's view of the dataplane.
dp_field_is() { [ "$(rctl --json status | jget - 'j["dataplane"]["'"$1"'"]')" = "$2" ]; }

# ---------------------------------------------------------------- objects

log "checks: certificate import and a distribution reach the dataplane"
ctl_err cert import --name test-ec --cert "$PKI/chain.pem" --key "$PKI/leaf.key" --ca "$PKI/root.pem"
check "cert import: exit $CTL_RC (want 0)" [ "$CTL_RC" = 0 ]
ctl_err cert import --name test-ec --cert "$PKI/chain.pem" --key "$PKI/leaf.key" --ca "$PKI/root.pem"
check "cert import again without --replace: exit $CTL_RC (want 1)" [ "$CTL_RC" = 1 ]
check "  ... says to use --replace" grep -q 'certificate "test-ec" already exists; use --replace' "$TMP_DIR/ctl.out"
ctl_err cert import --name wrong-key --cert "$PKI/chain.pem" --key "$PKI/int.key" --ca "$PKI/root.pem"
check "cert import with the wrong key: exit $CTL_RC (want 1)" [ "$CTL_RC" = 1 ]
check "  ... names the certificate and the mismatch" \
	grep -q 'certificate "wrong-key": the private key does not match' "$TMP_DIR/ctl.out"

dist_json "v0" "$TMP_DIR/dist.json"
rctl --json apply -f "$TMP_DIR/dist.json" >"$TMP_DIR/apply.json"
check "apply: created" [ "$(jget "$TMP_DIR/apply.json" 'j["action"]')" = created ]
GEN=$(jget "$TMP_DIR/apply.json" 'j["generation"]')
check "apply: generation $GEN is the control plane's" [ "$GEN" = "$(cp_gen)" ]
rctl --json apply -f "$TMP_DIR/dist.json" >"$TMP_DIR/apply.json"
check "apply of the same distribution: unchanged, generation still $GEN" \
	[ "$(jget "$TMP_DIR/apply.json" 'j["action"], j["generation"]')" = "('unchanged', $GEN)" ]
check "the dataplane reports generation $GEN" poll_wait 10 dp_gen_is "$GEN"
check "the dataplane holds 1 distribution and 1 certificate" \
	[ "$(rctl_dp --json status | jget - 'j["distributions"], j["certificates"]')" = "(1, 1)" ]
check "rampartctl status: connected and in sync" \
	[ "$(rctl --json status | jget - 'j["dataplane"]["connected"], j["dataplane"]["in_sync"]')" = "(True, True)" ]

rctl --json get certs >"$TMP_DIR/certs.json"
check "get certs: test-ec, ECDSA P-256, used by shop" \
	[ "$(jget "$TMP_DIR/certs.json" 'str([(i["name"], i["key_type"], i["used_by"]) for i in j["items"]])')" = "[('test-ec', 'ECDSA P-256', ['shop'])]" ]
rctl --json describe cert test-ec >"$TMP_DIR/desc.json"
check "describe cert: the leaf's SANs" \
	[ "$(jget "$TMP_DIR/desc.json" 'str(sorted(j["object"]["sans"]))')" = "['*.test.example.com', 'test.example.com']" ]
check "describe cert: no key" lacks 'PRIVATE KEY|key_pem|key_sealed' "$TMP_DIR/desc.json"
check "describe distribution: the normalised form (defaults filled)" \
	[ "$(rctl --json describe distribution shop | jget - 'j["object"]["comment"], j["object"]["enabled"], j["object"]["tls"]["security_policy"]')" = "('v0', True, 'TLSv1.2_2021')" ]
check "state.json holds no key in clear" lacks 'PRIVATE KEY' "$CP_STATE/state.json"
modes=$(stat -c '%a %n' "$CP_STATE" "$CP_STATE"/state.json "$CP_STATE"/tickets.json "$CP_STATE"/master.key | awk '{ print $1 }' | tr '\n' ' ')
check "state dir 700, state files 600 ($modes)" [ "$modes" = "700 600 600 600 " ]

log "checks: deleting what is in use is refused"
ctl_err delete cert test-ec
check "delete cert test-ec: exit $CTL_RC (want 1)" [ "$CTL_RC" = 1 ]
check "  ... names the distribution that uses it" \
	grep -q 'certificate "test-ec" is used by distribution(s) shop; change or delete them first' "$TMP_DIR/ctl.out"
check "  ... and the certificate is still there" [ "$(rctl --json get certs | jget - 'len(j["items"])')" = 1 ]

# ---------------------------------------------------------------- tickets

log "checks: ticket key rotation"
OLD=$(rctl --json tickets status | jget - '[k["id"] for k in j["keys"] if k["role"] == "encrypt"][0]')
check "one encrypting ticket key before rotation ($OLD)" [ -n "$OLD" ]
rctl --json tickets rotate >"$TMP_DIR/rot.json"
NEW=$(jget "$TMP_DIR/rot.json" '[k["id"] for k in j["keys"] if k["role"] == "encrypt"][0]')
check "tickets rotate: a new encrypting id ($NEW)" test -n "$NEW" -a "$NEW" != "$OLD"
check "  ... the old id stays as decrypt" \
	[ "$(jget "$TMP_DIR/rot.json" 'str([k["role"] for k in j["keys"] if k["id"] == "'"$OLD"'"])')" = "['decrypt']" ]
check "  ... pushed" [ "$(jget "$TMP_DIR/rot.json" 'j["pushed"]')" = true ]
dp_keys() { dpq tickets_get 'str(sorted((k["id"], k["encrypt"]) for k in r["keys"]))'; }
want_keys=$("$PY" -c "print(sorted([('$NEW', True), ('$OLD', False)]))")
check "the dataplane encrypts with $NEW and still decrypts $OLD" [ "$(dp_keys)" = "$want_keys" ]

# ---------------------------------------------------------------- restarts

log "checks: a dataplane restart is noticed and everything pushed again"
OLD_INST=$(rctl_dp --json status | jget - 'j["instance"]')
dp_stop TERM || fail "the dataplane did not stop"
check "while the dataplane is down: status says not connected" \
	poll_wait 10 dp_field_is connected false
dist_json "while-down" "$TMP_DIR/dist.json"
rctl --json apply -f "$TMP_DIR/dist.json" >"$TMP_DIR/apply.json"
check "apply while the dataplane is down: committed, pushed false" \
	[ "$(jget "$TMP_DIR/apply.json" 'j["action"], j["pushed"]')" = "('updated', False)" ]
GEN=$(jget "$TMP_DIR/apply.json" 'j["generation"]')
dp_start 1
check "new dataplane instance" [ "$(rctl_dp --json status | jget - 'j["instance"]')" != "$OLD_INST" ]
check "the new dataplane gets generation $GEN within 15 s" poll_wait 15 dp_gen_is "$GEN"
dp_has_keys() { [ "$(dp_keys)" = "$want_keys" ]; }
check "  ... and the ticket keys" poll_wait 10 dp_has_keys

log "checks: the dataplane keeps serving its generation without the control plane"
cp_stop TERM
check "control plane exit status $CP_RC after SIGTERM (want 0)" [ "$CP_RC" = 0 ]
check "its socket is removed" [ ! -S "$CP_SOCK" ]
check "the dataplane still reports generation $GEN" dp_gen_is "$GEN"
check "  ... with its distribution" [ "$(rctl_dp --json status | jget - 'j["distributions"]')" = 1 ]
cp_start
check "after a restart the control plane is at generation $GEN" [ "$(cp_gen)" = "$GEN" ]
check "  ... and still in sync with the dataplane" \
	poll_wait 10 dp_field_is in_sync true
check "  ... with the same ticket keys" dp_has_keys

log "checks: kill -9 in the middle of a loop of applies"
ACKED=$TMP_DIR/acked
: >"$ACKED"
(
	for i in $(seq 1 400); do
		dist_json "loop-$i" "$TMP_DIR/loop-$i.json"
		timeout 20 "$CTL_BIN" --socket "$CP_SOCK" apply -f "$TMP_DIR/loop-$i.json" \
			>/dev/null 2>&1 || exit 0
		echo "$i" >>"$ACKED"
	done
) &
LOOP_PID=$!
BG_PIDS+=("$LOOP_PID")
TARGET=$((5 + RANDOM % 40))
acked_at_least() { [ "$(wc -l <"$ACKED")" -ge "$1" ]; }
poll_wait 60 acked_at_least "$TARGET" || fail "fewer than $TARGET applies acknowledged in 60 s"
cp_stop KILL
poll_wait 30 proc_exited "$LOOP_PID" || fail "the apply loop did not stop after the kill"
wait "$LOOP_PID" 2>/dev/null
LAST=$(tail -n 1 "$ACKED")
log "killed after $(wc -l <"$ACKED") acknowledged applies (target $TARGET), last loop-$LAST"
cp_start
got=$(rctl --json describe distribution shop | jget - 'j["object"]["comment"]')
n=${got#loop-}
check "after kill -9 the state loads and shows loop-$LAST or the one in flight (got $got)" \
	test -n "$LAST" -a \( "$n" = "$LAST" -o "$n" = "$((LAST + 1))" \)
check "no temporary file is left behind" [ ! -e "$CP_STATE/state.json.tmp" ]
GEN=$(cp_gen)
check "the dataplane catches up with generation $GEN" poll_wait 15 dp_gen_is "$GEN"

# ---------------------------------------------------------------- bad clients

log "checks: garbage on the control socket gets an error and a close"
raw() { timeout 20 "$PY" "$CTLCLIENT" "$CP_SOCK" --raw "$1" "${@:2}" >"$TMP_DIR/raw.out" 2>&1; }
raw_ok() { # DESCRIPTION
	if grep -q '"ok":false' "$TMP_DIR/raw.out" && grep -qx CLOSED "$TMP_DIR/raw.out"; then
		pass "$1: one error response, then closed"
	else
		fail "$1: $(tr '\n' ' ' <"$TMP_DIR/raw.out")"
	fi
}
raw "$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | od -An -tx1 | tr -d ' \n')"
raw_ok "HTTP request"
raw "524d504301000000ffffffff"
raw_ok "length 4 GiB"
raw "524d50430100000001000001"
raw_ok "length 16 MiB + 1"
raw "524d504301000000000000096e6f74206a736f6e21"
raw_ok "a body that is not JSON"
raw "524d504301000000000000025b5d"
raw_ok "a JSON array, not an object"
raw "524d504301000000000000" --timeout 10
raw_ok "a header cut short (times out after 5 s)"
cp_answers() { rctl status >/dev/null; }
check "the control plane still answers status" cp_answers
check "  ... and is still in sync" \
	[ "$(rctl --json status | jget - 'j["dataplane"]["in_sync"]')" = true ]

log "checks: who may use the control plane's socket"
# rampartctl as an unprivileged user outside the socket's group: the 0660
# mode refuses the connect; with the socket opened to everyone SO_PEERCRED
# still refuses, with a sentence naming the uid.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 0755 "$TMP_DIR"
out=$(as_nobody timeout 10 "$CTL_BIN" --socket "$CP_SOCK" status 2>&1)
rc=$?
ok=0
[ "$rc" = 3 ] && grep -qi "permission denied" <<<"$out" && ok=1
check "uid 65534: rampartctl cannot connect (exit $rc, '$out')" [ "$ok" = 1 ]
chmod 0666 "$CP_SOCK"
out=$(as_nobody timeout 10 "$CTL_BIN" --socket "$CP_SOCK" get certs 2>&1)
rc=$?
ok=0
[ "$rc" = 1 ] && grep -q "uid 65534" <<<"$out" && ok=1
check "socket opened to all: SO_PEERCRED refuses uid 65534 (exit $rc, '$out')" [ "$ok" = 1 ]
chmod 0660 "$CP_SOCK"
chmod 0700 "$TMP_DIR"
check "root is still served" cp_answers

cp_stop TERM
check "control plane exit status $CP_RC (want 0)" [ "$CP_RC" = 0 ]
check "no key in the control plane's logs" lacks 'PRIVATE KEY' "$TMP_DIR"/cp.*.err
test_exit
