#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (as root) to the point where cellblock runs and its tests pass:
# Debian packages (bubblewrap only for bench:sandbox comparisons, debootstrap for language images,
# chromium for the web pages' browser tests, openssl for the Redis TLS test's certificates,
# libpython3.11-testsuite for the compatibility suite, qemu-system-x86 busybox-static cpio e2fsprogs
# xz-utils for the cgroup v2 VM of `npm run test:v2`), npm dependencies, the native addon, the web pages. Each step is skipped when already done,
# so `npm start` and `npm test` can call this every time at little cost.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(redis-server libseccomp-dev g++ make python3 pkg-config clang-format debootstrap bubblewrap chromium
  openssl libpython3.11-testsuite qemu-system-x86 busybox-static cpio e2fsprogs xz-utils)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  # The Debian package starts a system redis on 6379; cellblock runs its own, so leave that one alone.
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# npm ci runs `prepare`, which builds the addon and the web pages; build them here too when sources
# changed since (each script does nothing when its output is up to date).
node scripts/build-native.mjs

# The playground and status pages (web/ → web/dist, served by the API); skipped when up to date.
node scripts/build-web.mjs
