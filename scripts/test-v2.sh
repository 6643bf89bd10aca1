#!/usr/bin/env bash
# npm run test:v2: the sandbox on a real cgroup v2 kernel. This host may be cgroup v1 and cannot
# switch, so scripts/v2-vm.sh boots Debian's stock kernel with cgroup_no_v1=all in a throw-away
# QEMU VM (TCG: no usable KVM here) with this checkout shared over 9p, and scripts/v2-vm-suite.sh
# runs inside it: the self-check, the native tests and the smoke test as root, then the rootless
# runs as an ordinary user, in one boot. Exit status is the suite's, the first failing part's
# (124: timeout, 125: the VM failed).
#
#   V2_TESTS      test files or directories to run (default test/native)
#   V2_SMOKE      1 = also the service smoke test (test/service/smoke.test.ts; default 1)
#   V2_BENCH      1 = also bench/clone-into-cgroup.ts (default 0)
#   V2_TESTS=none skips the native tests run as root
#   V2_ROOTLESS   id mappings to run rootless in, in this order, in the same boot after the root
#                 parts: the self-check and the hostile-program files (V2_ROOTLESS_TESTS;
#                 scripts/v2-rootless.sh) again as an ordinary user with a delegated cgroup subtree
#                 (default "single subid"; none: not run)
#   V2_ROOTLESS_SMOKE  the modes of V2_ROOTLESS that also run the service smoke test with the
#                 worker rootless (default single; 1: every mode; 0: none)
#   V2VM_TIMEOUT  seconds before the VM is killed (default 4200: CI allows 90 minutes in all)
set -euo pipefail
# One block, parsed whole before it runs: bash reads a script as it goes, so an edit to this file
# during a 20-minute run would otherwise be executed from the middle.
{
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Compile the C fixtures here (seconds) rather than under emulation (minutes); the VM copies them.
mkdir -p var/v2vm
TMPDIR=$PWD/var/v2vm node --import tsx -e \
  'const m = await import("./test/native/_fixtures.ts"); m.fixturesDir();'
export V2_TESTS=${V2_TESTS:-test/native} V2_SMOKE=${V2_SMOKE:-1} V2_BENCH=${V2_BENCH:-0}
export V2_ROOTLESS=${V2_ROOTLESS:-single subid} V2_ROOTLESS_SMOKE=${V2_ROOTLESS_SMOKE:-single}
export V2VM_TIMEOUT=${V2VM_TIMEOUT:-4200} V2VM_PASSENV="V2_TESTS V2_SMOKE V2_BENCH V2_ROOTLESS V2_ROOTLESS_TESTS V2_ROOTLESS_SMOKE ${V2VM_PASSENV:-}"
started=$(date +%s)
status=0
bash scripts/v2-vm.sh "$PWD" bash scripts/v2-vm-suite.sh || status=$?
echo "test:v2: exit $status after $(($(date +%s) - started)) s (boot, tests and power-off)"
exit "$status"
}
