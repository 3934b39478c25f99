# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers for tests that run the control plane next to the dataplane;
# sourced after lib.sh. The control plane runs in the root namespace (it only
# speaks Unix sockets to the dataplane and HTTP to OCSP responders on
# loopback) with its state and socket under $TMP_DIR.

CP_BIN=$RAMPART_BUILD/controlplane/rampart-controlplane
CTL_BIN=$RAMPART_BUILD/tools/rampartctl/rampartctl
CP_PID=
CP_RC=
CP_LAUNCHES=0
CP_STATE=
CP_SOCK=
CP_ERR=
# Set to a namespace to run the control plane there (OCSP tests put it next
# to their responder, on that namespace's own loopback).
CP_NETNS=

# cp_start [EXTRA ARGS...]: start rampart-controlplane against $DP_SOCK and
# wait for its socket to answer `status`. Dies if it never does.
cp_start() {
	CP_LAUNCHES=$((CP_LAUNCHES + 1))
	CP_STATE=${CP_STATE:-$TMP_DIR/state}
	CP_SOCK=${CP_SOCK:-$TMP_DIR/cp.sock}
	CP_ERR=$TMP_DIR/cp.$CP_LAUNCHES.err
	local pre=()
	[ -n "$CP_NETNS" ] && pre=(ip netns exec "$CP_NETNS")
	"${pre[@]}" "$CP_BIN" --state-dir "$CP_STATE" --socket "$CP_SOCK" \
		--dataplane "$DP_SOCK" "$@" </dev/null >"$TMP_DIR/cp.$CP_LAUNCHES.out" 2>"$CP_ERR" &
	CP_PID=$!
	BG_PIDS+=("$CP_PID")
	poll_wait 15 rctl status || {
		cat "$CP_ERR" >&2
		die "rampart-controlplane did not answer on $CP_SOCK"
	}
	log "rampart-controlplane up (pid $CP_PID)"
}

# cp_stop [SIGNAL]: stop the control plane, CP_RC its exit status.
cp_stop() {
	local sig=${1:-TERM}
	[ -n "$CP_PID" ] || return 0
	kill -"$sig" "$CP_PID" 2>/dev/null
	poll_wait 10 proc_exited "$CP_PID" || kill -KILL "$CP_PID" 2>/dev/null
	wait "$CP_PID" 2>/dev/null
	CP_RC=$?
	CP_PID=
}

# rctl ARGS...: rampartctl against the test's control plane, quiet on stderr.
rctl() { timeout 60 "$CTL_BIN" --socket "$CP_SOCK" "$@" 2>>"$TMP_DIR/rctl.err"; }

# rctl_dp ARGS...: rampartctl straight to the dataplane's socket.
rctl_dp() { timeout 30 "$CTL_BIN" --dataplane-socket "$DP_SOCK" "$@" 2>>"$TMP_DIR/rctl.err"; }

# cp_dp_gen_is GEN: the dataplane runs generation GEN.
cp_dp_gen_is() { [ "$(rctl_dp --json status | jget - 'j["generation"]')" = "$1" ]; }

# cp_apply FILE: `rampartctl apply -f FILE`, then wait until the dataplane
# runs the generation it committed. Fails, with the control plane's
# sentence logged, when it is refused or the dataplane does not get there.
cp_apply() {
	local gen
	rctl --json apply -f "$1" >"$TMP_DIR/apply.json" || {
		log "apply $1: $(tail -n 1 "$TMP_DIR/rctl.err")"
		return 1
	}
	gen=$(jget "$TMP_DIR/apply.json" 'j["generation"]')
	poll_wait 10 cp_dp_gen_is "$gen" || {
		log "the dataplane did not reach generation $gen"
		return 1
	}
}

# jget JSON_FILE_OR_- PYEXPR: evaluate PYEXPR with `j` bound to the JSON
# document and print the result (empty and status 1 when it raises).
jget() {
	"${PYTHON:-/usr/bin/python3}" -c '
import json, sys
src = sys.argv[1]
j = json.load(sys.stdin if src == "-" else open(src))
try:
    v = eval(sys.argv[2])
except Exception:
    sys.exit(1)
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
' "$1" "$2"
}

# make_test_pki DIR [KEYTYPE]: a root CA, an intermediate CA and a leaf for
# test.example.com signed through `openssl ca` (so it can be revoked), the
# leaf naming $OCSP_URL (if set) as its OCSP responder. Files: root.pem,
# int.pem, int.key, leaf.pem, leaf.key, chain.pem (leaf + intermediate),
# int-db/index.txt.
make_test_pki() {
	local d=$1 kt=${2:-ec}
	mkdir -p "$d/int-db"
	(
		cd "$d" || exit 1
		newkey() { # file
			if [ "$kt" = rsa ]; then
				openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
			else
				openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
			fi
		}
		newkey root.key && openssl req -x509 -new -key root.key -days 30 \
			-subj "/CN=Rampart Test Root" -out root.pem \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign || exit 1
		newkey int.key && openssl req -new -key int.key \
			-subj "/CN=Rampart Test Intermediate" -out int.csr || exit 1
		printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' >int.ext
		openssl x509 -req -in int.csr -CA root.pem -CAkey root.key \
			-CAcreateserial -days 30 -extfile int.ext -out int.pem || exit 1
		: >int-db/index.txt
		echo 1000 >int-db/serial
		cat >ca.cnf <<CNF
[ca]
default_ca = int
[int]
dir = $d/int-db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $d/int.pem
private_key = $d/int.key
default_md = sha256
default_days = 10
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:test.example.com,DNS:*.test.example.com
${OCSP_URL:+authorityInfoAccess = OCSP;URI:$OCSP_URL}
CNF
		newkey leaf.key && openssl req -new -key leaf.key \
			-subj "/CN=test.example.com" -out leaf.csr || exit 1
		openssl ca -batch -config ca.cnf -extensions leaf -in leaf.csr \
			-out leaf.pem -notext || exit 1
		cat leaf.pem int.pem >chain.pem
	) >"$d/pki.log" 2>&1
}
