#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The systemd units as meson renders them: systemd-analyze accepts them, the
# control plane is ordered after the dataplane and both restart on failure,
# both share /run/rampart without one removing it under the other, and the
# state directory is private.

source "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
UNIT_DIR=$RAMPART_BUILD/tools/systemd
DP_UNIT=$UNIT_DIR/rampart-dataplane.service
CP_UNIT=$UNIT_DIR/rampart-controlplane.service
[ -f "$DP_UNIT" ] && [ -f "$CP_UNIT" ] || die "units not rendered in $UNIT_DIR (build first)"

TMP_DIR=$(mktemp -d)
trap 'rm -rf "$TMP_DIR"' EXIT

# Point ExecStart at the binaries of this build: verify wants them to exist.
for u in "$DP_UNIT" "$CP_UNIT"; do
	sed -e "s#^ExecStart=[^ ]*/rampart-dataplane#ExecStart=$RAMPART_BUILD/dataplane/rampart-dataplane#" \
	    -e "s#^ExecStart=[^ ]*/rampart-controlplane#ExecStart=$RAMPART_BUILD/controlplane/rampart-controlplane#" \
		"$u" >"$TMP_DIR/$(basename "$u")"
done

out=$(systemd-analyze verify "$TMP_DIR"/rampart-*.service 2>&1)
check "systemd-analyze verify accepts both units${out:+: $out}" test -z "$out"

unit_value() { # unit key: every value of key
	awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print }' "$1"
}
check "control plane ordered after the dataplane" \
	grep -q 'rampart-dataplane.service' <<<"$(unit_value "$CP_UNIT" After)"
for u in "$DP_UNIT" "$CP_UNIT"; do
	n=$(basename "$u")
	check "$n restarts on failure" test "$(unit_value "$u" Restart)" = on-failure
	check "$n keeps /run/rampart when it stops (shared with the other daemon)" \
		test "$(unit_value "$u" RuntimeDirectoryPreserve)" = yes
	check "$n: /run/rampart is 0750" test "$(unit_value "$u" RuntimeDirectoryMode)" = 0750
done
check "dataplane reads EAL and port options from /etc/rampart/dataplane.env" \
	grep -q '^EnvironmentFile=/etc/rampart/dataplane.env' "$DP_UNIT"
check "dataplane ExecStart passes the env's EAL and dataplane arguments" \
	grep -q '\$RAMPART_EAL_ARGS -- \$RAMPART_DATAPLANE_ARGS' "$DP_UNIT"
check "state directory is private (0700)" \
	test "$(unit_value "$CP_UNIT" StateDirectoryMode)" = 0700
check "control plane uses /var/lib/rampart" grep -q -- '--state-dir /var/lib/rampart' "$CP_UNIT"
check "no unrendered @VARIABLES@ remain" \
	bash -c "! grep -q '@[A-Z]*@' '$DP_UNIT' '$CP_UNIT'"

test_exit
