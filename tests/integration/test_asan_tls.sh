#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The TLS concurrency and abuse tests again, on the ASan/UBSan build of all
# three programs (dataplane, control plane, rampartctl): many handshakes
# and resumptions while ticket keys rotate and staples are replaced every
# second, then garbage, truncated and oversized hellos and a handshake
# flood; then the origin TLS leg (sessions cached and resumed, every
# verification refusal, pooled connections). Every sanitizer report (errors at once, leaks at exit) goes to a
# log file here; the test fails if the inner tests fail or any report
# appears.

source "$(dirname "$0")/lib.sh"

ASAN_BUILD=${RAMPART_BUILD_ASAN:-$REPO_ROOT/build-asan}
[ -x "$ASAN_BUILD/dataplane/rampart-dataplane" ] ||
	skip "no sanitizer build at $ASAN_BUILD (tests/run-all makes one)"
require_env

REPORTS=$TMP_DIR/sanitizer
mkdir -p "$REPORTS"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/ubsan"

for t in test_tls_rotation_load test_tls_abuse test_origin_tls \
	 test_origin_tls_verify; do
	log "running $t on $ASAN_BUILD"
	if RAMPART_BUILD=$ASAN_BUILD bash "$(dirname "$0")/$t.sh" >"$TMP_DIR/$t.log" 2>&1; then
		pass "$t passes on the sanitizer build"
	else
		fail "$t fails on the sanitizer build"
		grep -E 'FAIL' "$TMP_DIR/$t.log" | head -20
	fi
done

reports=$(find "$REPORTS" -type f | wc -l)
if [ "$reports" -eq 0 ]; then
	pass "no sanitizer report from any program"
else
	fail "$reports sanitizer report(s)"
	for f in "$REPORTS"/*; do
		log "----- $f"
		sed -n '1,40p' "$f"
	done
fi
test_exit
