#!/usr/bin/env bash
# Runs inside the cgroup v2 VM (scripts/v2-vm-suite.sh, once per mode in V2_ROOTLESS; both by
# default, single first, in the same boot after the root parts): the sandbox as an ordinary user,
# the way a rootless worker is deployed (docs/CGROUP-V2.md, "Rootless mode").
# As root it only prepares what an administrator or systemd would: a user, a cgroup subtree
# delegated to it (what Delegate=yes chowns), and for subid mode ranges in /etc/subuid and
# /etc/subgid. Then the self-check and the hostile-program tests run as that user; the container
# is still made by our own native code (setpriv only drops the test harness to the user).
#
#   $1                 subid or single
#   V2_ROOTLESS_TESTS  test files (default: the hostile-program ones below; none: skip them)
#   V2_ROOTLESS_SMOKE  1 = also the service smoke test (test/service/smoke.test.ts) with the
#                      service worker itself rootless (SANDBOX_ID_MAP=single in either mode: the
#                      worker runs single-id only, docs/CGROUP-V2.md "Rootless worker")
set -uo pipefail
{ # parsed whole before it runs
mode=$1
case "$mode" in subid | single) ;; *) echo "v2-rootless: mode must be subid or single, got '$mode'" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
user=cbrootless
id -u "$user" >/dev/null 2>&1 || useradd --uid 1500 --user-group --create-home --shell /bin/bash "$user"
home=$(getent passwd "$user" | cut -d: -f6)
if [ "$mode" = subid ]; then
  # 16 slots of 65536 ids (the tests use slots 6 to 9 and a crash slot above them).
  echo "$user:1000000:1048576" > /etc/subuid
  echo "$user:1000000:1048576" > /etc/subgid
fi
# The delegated subtree: the group, and the files systemd's Delegate=yes hands to the user. The
# controllers are enabled for its children by root, as systemd does for a delegated unit.
deleg=/sys/fs/cgroup/cellblock-rootless
mkdir -p "$deleg"
echo "+memory +pids +cpu" > /sys/fs/cgroup/cgroup.subtree_control
chown "$user:$user" "$deleg" "$deleg"/cgroup.procs "$deleg"/cgroup.subtree_control "$deleg"/cgroup.threads
# The harness lives in a leaf of the subtree (v2: no processes in a group with controllers enabled
# for its children); the worker's groups go beside it.
echo "+memory +pids +cpu" > "$deleg/cgroup.subtree_control"
mkdir -p "$deleg/harness"
chown -R "$user:$user" "$deleg/harness"
# Searchable by all (0755): each container's setup child, a subordinate id, mounts on the new-root
# mount point below it and binds the fixtures from it.
tmp=$(runuser -u "$user" -- mktemp -d /tmp/cellblock-rootless.XXXXXX)
chmod 0755 "$tmp"
# The fixtures were copied here by root (setuid copies included); the user reads them.
cp -a /tmp/cellblock-fixtures-* "$tmp"/ 2>/dev/null || true

up() { cut -d' ' -f1 /proc/uptime; }
status=0
as_user() {
  local name=$1 t0 rc
  shift
  t0=$(up)
  sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$deleg/harness" \
    setpriv --reuid="$user" --regid="$user" --init-groups \
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" TMPDIR="$tmp" CELLBLOCK_V2VM=1 \
    CELLBLOCK_CGROUP_ROOT="$deleg" CELLBLOCK_TEST_ID_MAP="$mode" "$@"
  rc=$?
  echo "v2 rootless ($mode): $name exit $rc in $(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.0f", b - a }') s"
  [ "$status" -ne 0 ] || status=$rc
}
echo "v2 rootless ($mode): user $(id "$user"), subtree $deleg"
as_user self-check node bin/cellblock-sandbox.mjs --self-check --cgroup-root "$deleg" --id-map "$mode"
# The limits and isolation files hold in both modes. filesystem-isolation and process-identity
# assert the job is uid 1000, which single mode gives up (docs/CGROUP-V2.md): rootless.test.ts
# asserts what single mode gives instead.
tests="test/native/time-limits.test.ts test/native/memory-limit.test.ts test/native/resource-limits.test.ts
  test/native/cross-job-isolation.test.ts test/native/network-isolation.test.ts"
if [ "$mode" = subid ]; then
  tests="$tests test/native/filesystem-isolation.test.ts test/native/process-identity.test.ts"
else
  tests="$tests test/native/rootless.test.ts"
fi
tests=${V2_ROOTLESS_TESTS:-$tests}
# shellcheck disable=SC2086  # a list of paths
# --configLoader runner: vitest's default bundles its config into node_modules, which is root's.
if [ "$tests" != none ]; then
  as_user "hostile-program tests" node node_modules/vitest/vitest.mjs run --configLoader runner ${V2_VITEST_TIMEOUTS:-} $tests
fi
if [ "${V2_ROOTLESS_SMOKE:-0}" = 1 ]; then
  as_user "service smoke test (rootless worker)" env SANDBOX_ID_MAP=single \
    node node_modules/vitest/vitest.mjs run --configLoader runner ${V2_VITEST_TIMEOUTS:-} test/service/smoke.test.ts
fi
exit "$status"
}
