#!/usr/bin/env bash
# run-in-v2-vm.sh - run one command inside a throw-away QEMU VM whose Linux
# kernel has a pure cgroup v2 (unified) hierarchy, with a host directory
# shared into the VM at the same absolute path.
#
#   usage: run-in-v2-vm.sh HOST_DIR CMD [ARGS...]
#
#   e.g.   run-in-v2-vm.sh "$PWD" npm test
#          run-in-v2-vm.sh /src/proj sh -c 'cat /sys/fs/cgroup/cgroup.controllers'
#
# CMD runs as root with HOST_DIR as its working directory and stdin from
# /dev/null.  Its exit status becomes this script's exit status; its stdout
# and stderr are streamed to this script's stdout and stderr (they travel as
# files on a 9p share, so output is binary-safe and nothing is lost at
# power-off).  Status 125 = the VM itself failed (console log is printed to
# stderr), 124 = timeout, 2 = usage error.
#
# What the VM looks like:
#   * kernel: Debian's stock linux-image-amd64 (apt-get download + dpkg -x),
#     booted with "systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all", so no
#     v1 controller can be bound; everything is on cgroup2.
#   * a tiny busybox initramfs loads the virtio/ext4/9p modules (they are =m
#     in Debian's kernel), mounts the root image, a control share and HOST_DIR,
#     then switch_root's into the image.  (A real root, not a chroot:
#     unshare(CLONE_NEWUSER) fails with EPERM inside a chroot.)
#   * root fs: `debootstrap --variant=minbase` + python3-minimal, procps,
#     util-linux, packed into an ext4 image with `mkfs.ext4 -d`.  The host's
#     `node` binary (plus any shared lib it needs that the image lacks) is
#     copied to /usr/local/bin/node, and npm/npx (if installed next to node)
#     to /usr/local/lib/node_modules/npm.  The image is attached with
#     snapshot=on: the VM may write to /, every run starts from the pristine
#     image.
#   * PID 1 mounts cgroup2 on /sys/fs/cgroup (nsdelegate,memory_recursiveprot
#     like systemd) and enables every available controller (cpuset cpu io
#     memory hugetlb pids rdma misc) in the root's cgroup.subtree_control.
#     CMD runs in the root cgroup unless V2VM_CGROUP names a child cgroup.
#   * tmpfs on /tmp, /run, /dev/shm; devpts; mqueue; loopback up; no network.
#   * HOST_DIR is shared with 9p (security_model=none: guest root's
#     chown/chmod act directly on the host files).  It is mounted at the same
#     path, so it must not be a system directory of the image (/usr, /etc...).
#
# Accelerator: KVM is used only when the CPU advertises vmx/svm.  On a
# PVM-based host (/dev/kvm present, no vmx/svm flag) a stock, non-PVM kernel
# does not boot usefully under -accel kvm (guest code is emulated instruction
# by instruction and hits unsupported instructions), so TCG is used there.
#
# Environment knobs (all optional):
#   V2VM_CACHE    cache dir (kernel, initramfs, rootfs)   default /var/lib/cellblock/v2vm
#   V2VM_ACCEL    auto | tcg | kvm                        default auto
#   V2VM_CPUS     vCPUs                                   default $(nproc)
#   V2VM_MEM      guest RAM, MiB                          default 2048
#   V2VM_TIMEOUT  seconds before the VM is killed         default 3600
#   V2VM_MACHINE  q35 | pc                                default q35
#   V2VM_CPU      qemu -cpu model under TCG               default max
#   V2VM_SUITE    Debian suite for the image              default bookworm
#   V2VM_MIRROR   Debian mirror for debootstrap           default: the first one in the
#                 machine's apt sources
#   V2VM_PKGS     extra packages (comma-separated) for debootstrap --include
#   V2VM_NODE     node binary to copy into the image      default `command -v node`
#                 (with npm/npx from <prefix>/lib/node_modules/npm; "none" = no node)
#   V2VM_PASSENV  names of host environment variables to export to CMD
#   V2VM_CGROUP   cgroup path (e.g. /job) to run CMD in   default: the root cgroup
#   V2VM_APPEND   extra kernel command-line arguments (e.g. loglevel=7)
#   V2VM_VERBOSE  1 = print the VM console log after the run
#   V2VM_REBUILD  1 = rebuild kernel, initramfs and image
# The image is rebuilt automatically when V2VM_SUITE/V2VM_PKGS or the node
# binary change, the initramfs when this script or busybox change.
#
# Host requirements: root, Debian-like apt (for the kernel package and any
# missing tools), ~250 MB in V2VM_CACHE.  Missing tools are installed with
#   apt-get install --no-install-recommends qemu-system-x86 busybox-static \
#     cpio e2fsprogs debootstrap xz-utils
set -euo pipefail
# cellblock: one block, parsed whole before it runs (bash reads a script as it goes, and a run lasts
# 20 minutes: an edit or a checkout meanwhile would otherwise be executed from the middle).
{
die() { echo "run-in-v2-vm: $*" >&2; exit 125; }
log() { echo "run-in-v2-vm: $*" >&2; }

[ $# -ge 2 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
SHARE=$(cd "$1" && pwd -P) || die "cannot access $1"
shift
case "$SHARE" in
  /|/bin|/bin/*|/sbin|/sbin/*|/lib|/lib/*|/lib64|/lib64/*|/usr|/usr/*|/etc|/etc/*|\
  /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|/run|/run/*|/tmp)
    die "$SHARE would hide part of the VM's own filesystem; share a project directory";;
esac
[ "$(id -u)" = 0 ] || die "must run as root"

CACHE=${V2VM_CACHE:-/var/lib/cellblock/v2vm}
SUITE=${V2VM_SUITE:-bookworm}
apt_mirror() {  # the first Debian mirror configured for apt on this machine (deb822 or one-line)
  local m
  m=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2; exit}')
  [ -n "$m" ] || m=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '{for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}')
  printf '%s' "$m"
}
MIRROR=${V2VM_MIRROR:-$(apt_mirror)}
[ -n "$MIRROR" ] || { echo "run-in-v2-vm: no Debian mirror in the apt sources; set V2VM_MIRROR" >&2; exit 2; }
# cellblock: the host languages and the tests' own programs (python3 with its whole stdlib, gcc/g++ for the C
# language, redis-server for the service smoke test) must exist in the VM's own root.
PKGS=python3,procps,util-linux,gcc,g++,libc6-dev,redis-server,uidmap${V2VM_PKGS:+,$V2VM_PKGS}
CPUS=${V2VM_CPUS:-$(nproc)}
MEM=${V2VM_MEM:-2048}
TIMEOUT=${V2VM_TIMEOUT:-3600}
NODE=${V2VM_NODE:-$(command -v node || echo none)}
[ "$NODE" = none ] || NODE=$(readlink -f "$NODE")
mkdir -p "$CACHE"

# ---------------------------------------------------------------- host tools
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
# A *static* busybox is needed: it runs in the initramfs and as stage-2 PID 1.
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
  need_pkgs+=(busybox-static)
fi
command -v cpio        >/dev/null || need_pkgs+=(cpio)
command -v mkfs.ext4   >/dev/null || need_pkgs+=(e2fsprogs)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v xz          >/dev/null || need_pkgs+=(xz-utils)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${need_pkgs[@]}" >&2 || die "apt-get install failed (run apt-get update first?)"
fi

# Serialise cache builds between concurrent jobs (runs themselves are parallel).
exec 9>"$CACHE/.lock"
flock 9
if [ "${V2VM_REBUILD:-0}" = 1 ]; then
  rm -rf "$CACHE/kernel" "$CACHE"/initrd-*.img "$CACHE/rootfs.img" "$CACHE/rootfs.key"
fi

# ------------------------------------------------------------------- kernel
if [ ! -e "$CACHE/kernel/.done" ]; then
  rm -rf "$CACHE/kernel"; mkdir -p "$CACHE/kernel"
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
         awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 (run apt-get update first?)"
  log "downloading $kpkg"
  ( cd "$CACHE/kernel" && apt-get download "$kpkg" >&2 2>/dev/null ) ||
    die "apt-get download $kpkg failed"
  dpkg -x "$CACHE"/kernel/*.deb "$CACHE/kernel/x"
  rm -f "$CACHE"/kernel/*.deb        # ~70 MB; only the image + ~20 modules are kept
  kver=${kpkg#linux-image-}
  cp "$CACHE/kernel/x/boot/vmlinuz-$kver" "$CACHE/kernel/vmlinuz"
  cp "$CACHE/kernel/x/boot/config-$kver" "$CACHE/kernel/config"
  mkdir -p "$CACHE/kernel/modules"
  # Dependencies first.  crc32c is not a symbol dependency of ext4 but ext4
  # needs it to mount a filesystem with metadata checksums.
  for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
           virtio_pci virtio_blk virtio_rng crc16 mbcache jbd2 crc32c_generic \
           crc32c-intel ext4 netfs fscache 9pnet 9pnet_virtio 9p; do
    f=$(find "$CACHE/kernel/x/lib/modules/$kver" -name "$m.ko" | head -n1)
    [ -n "$f" ] || continue          # built in (=y) in this kernel version
    cp "$f" "$CACHE/kernel/modules/"
    echo "$m" >> "$CACHE/kernel/modules/order"
  done
  rm -rf "$CACHE/kernel/x"
  # Uncompressed ELF for direct PVH boot (Debian kernels have CONFIG_PVH=y):
  # under TCG this saves ~5 s per boot (emulated SeaBIOS + xz decompression).
  # If the extraction fails, the bzImage is booted instead.
  # (pipefail off here: head and xz --single-stream close their input early.)
  off=$(set +o pipefail; LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$CACHE/kernel/vmlinuz" |
        head -n1 | cut -d: -f1)
  if [ -n "$off" ] &&
     (set +o pipefail; tail -c +$((off + 1)) "$CACHE/kernel/vmlinuz" |
        xz -dc --single-stream > "$CACHE/kernel/vmlinux" 2>/dev/null) &&
     [ "$(head -c4 "$CACHE/kernel/vmlinux" | tail -c3)" = ELF ]; then
    rm -f "$CACHE/kernel/vmlinuz"
  else
    rm -f "$CACHE/kernel/vmlinux"
  fi
  echo "$kver" > "$CACHE/kernel/.done"
fi
kernel=$CACHE/kernel/vmlinux
[ -e "$kernel" ] || kernel=$CACHE/kernel/vmlinuz

# --------------------------------------------------------------- initramfs
# Stage 1 = /init (busybox sh, PID 1): load modules, mount the root image, the
# control share and HOST_DIR, switch_root into the image with stage 2 as the
# new PID 1.  Stage 2 runs CMD, writes its exit status to the control share
# and powers off.
ikey=$(cat "$0" /bin/busybox "$CACHE/kernel/.done" | sha256sum | cut -c1-12)
initrd=$CACHE/initrd-$ikey.img
if [ ! -e "$initrd" ]; then
  rm -f "$CACHE"/initrd-*.img
  ird=$(mktemp -d); trap 'rm -rf "$ird"' EXIT
  mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/modules}
  cp /bin/busybox "$ird/bin/busybox"
  cp "$CACHE"/kernel/modules/* "$ird/lib/modules/"
  cat > "$ird/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "v2vm stage1: $*"; poweroff -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko || true; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext4 /dev/vda /newroot || fail "cannot mount the root image"
mount -t tmpfs -o mode=0755,size=50% tmpfs /newroot/run
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp   # before HOST_DIR: it may be under /tmp
mkdir -p /newroot/run/v2vm
mount -t 9p -o trans=virtio,version=9p2000.L v2vmctl /newroot/run/v2vm ||
  fail "cannot mount the control share"
. /newroot/run/v2vm/env                          # defines SHARE and CGROUP
mkdir -p "/newroot$SHARE"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 v2vmshare "/newroot$SHARE" ||
  fail "cannot mount $SHARE"
cp /bin/busybox /newroot/run/busybox
cp /stage2 /newroot/run/stage2
mount --move /proc /newroot/proc
mount --move /sys  /newroot/sys
mount --move /dev  /newroot/dev
exec switch_root /newroot /run/busybox sh /run/stage2
EOF
  cat > "$ird/stage2" <<'EOF'
BB=/run/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
. /run/v2vm/env
$BB mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
  $BB mount -t cgroup2 cgroup2 /sys/fs/cgroup
ctrls=$($BB cat /sys/fs/cgroup/cgroup.controllers)
for c in $ctrls; do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || true; done
$BB mkdir -p /dev/pts /dev/shm /dev/mqueue
$BB mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
$BB ln -sf pts/ptmx /dev/ptmx
$BB mount -t tmpfs -o mode=1777 tmpfs /dev/shm
$BB mount -t mqueue mqueue /dev/mqueue
for f in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
  [ -e "/dev/${f%%:*}" ] || $BB ln -s "${f#*:}" "/dev/${f%%:*}"
done
$BB hostname v2vm
# cellblock: vitest and the service listen on "localhost"; debootstrap writes no hosts file
$BB grep -qs localhost /etc/hosts || printf '127.0.0.1 localhost\n::1 localhost\n' >> /etc/hosts
$BB ip link set lo up
if [ -n "$CGROUP" ]; then
  $BB mkdir -p "/sys/fs/cgroup$CGROUP" && echo $$ > "/sys/fs/cgroup$CGROUP/cgroup.procs"
fi
echo "v2vm: cgroup.controllers: $ctrls" > /dev/console
echo "v2vm: stage2 start uptime $($BB cut -d' ' -f1 /proc/uptime)" > /dev/console
cd "$SHARE"
/bin/bash /run/v2vm/cmd </dev/null >/run/v2vm/stdout 2>/run/v2vm/stderr
echo $? > /run/v2vm/rc.tmp
$BB mv /run/v2vm/rc.tmp /run/v2vm/rc
echo "v2vm: command done uptime $($BB cut -d' ' -f1 /proc/uptime)" > /dev/console
$BB sync
$BB poweroff -f
EOF
  chmod +x "$ird/init"
  ( cd "$ird" && find . | cpio -o -H newc --quiet ) | gzip -1 > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$ird"; trap - EXIT
fi

# ------------------------------------------------------------------ rootfs
NPMDIR=$(dirname "$(dirname "$NODE")")/lib/node_modules/npm
rkey="$SUITE $PKGS $( [ "$NODE" = none ] || stat -c '%n %s %Y' "$NODE" \
      "$NPMDIR/package.json" 2>/dev/null | tr '\n' ' ')"
if [ ! -e "$CACHE/rootfs.img" ] || [ "$(cat "$CACHE/rootfs.key" 2>/dev/null)" != "$rkey" ]; then
  rm -f "$CACHE/rootfs.img"
  rfs=$(mktemp -d "$CACHE/rootfs.XXXXXX"); trap 'rm -rf "$rfs"' EXIT
  log "debootstrap --variant=minbase $SUITE (about 2 minutes) ..."
  debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$rfs" "$MIRROR" \
    > "$CACHE/debootstrap.log" 2>&1 ||
    die "debootstrap failed, see $CACHE/debootstrap.log"
  if [ "$NODE" != none ]; then
    install -D -m 0755 "$NODE" "$rfs/usr/local/bin/node"
    # cellblock: the sandbox's "host" root is /usr of the VM, where programs expect /usr/bin/node
    [ -e "$rfs/usr/bin/node" ] || ln -s ../local/bin/node "$rfs/usr/bin/node"
    for lib in $(ldd "$NODE" | awk '$3 ~ /^\// {print $3}'); do
      [ -e "$rfs$lib" ] || { mkdir -p "$rfs$(dirname "$lib")"; cp -L "$lib" "$rfs$lib"; }
    done
    # npm/npx, if they sit next to node (<prefix>/lib/node_modules/npm)
    if [ -f "$NPMDIR/bin/npm-cli.js" ]; then
      mkdir -p "$rfs/usr/local/lib/node_modules"
      cp -a "$NPMDIR" "$rfs/usr/local/lib/node_modules/npm"
      ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rfs/usr/local/bin/npm"
      ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rfs/usr/local/bin/npx"
    fi
  fi
  # apt caches and lists, docs, man pages, locales are of no use in the VM
  rm -rf "$rfs"/var/cache/apt/* "$rfs"/var/lib/apt/lists/* \
         "$rfs"/usr/share/doc/* "$rfs"/usr/share/man/* "$rfs"/usr/share/locale/*
  mkdir -p "$rfs/run" "$rfs/sys/fs/cgroup"
  size_mb=$(( $(du -sm "$rfs" | cut -f1) * 5 / 4 + 64 ))
  mkfs.ext4 -q -F -L v2vmroot -d "$rfs" "$CACHE/rootfs.img.tmp" "${size_mb}M" >&2
  mv "$CACHE/rootfs.img.tmp" "$CACHE/rootfs.img"
  echo "$rkey" > "$CACHE/rootfs.key"
  rm -rf "$rfs"; trap - EXIT
fi
flock -u 9

# ------------------------------------------------------ accelerator, machine
accel=${V2VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
  if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then accel=kvm; else accel=tcg; fi
fi
# shellcheck disable=SC2054  # the commas are qemu option syntax
case "$accel" in
  # -arch-capabilities: without it qemu aborted here ("failed to set MSR 0x10a")
  kvm) accel_args=(-accel kvm -cpu host,-arch-capabilities) ;;
  tcg) accel_args=(-accel tcg,thread=multi -cpu "${V2VM_CPU:-max}") ;;
  *)   die "V2VM_ACCEL must be auto, kvm or tcg" ;;
esac
case "${V2VM_MACHINE:-q35}" in
  q35|pc) machine=${V2VM_MACHINE:-q35} ;;
  # (-machine microvm was tried: under TCG its guest hangs at TSC calibration)
  *)      die "V2VM_MACHINE must be q35 or pc" ;;
esac

# ---------------------------------------------------------------------- run
ctl=$(mktemp -d /tmp/v2vm-ctl.XXXXXX)
qpid='' tailpids=()
# shellcheck disable=SC2317  # invoked from the EXIT trap
cleanup() {
  # timeout(1) passes TERM on to qemu, so a cancelled job leaves no VM behind
  if [ -n "$qpid" ]; then kill -TERM "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null; fi
  if [ ${#tailpids[@]} -gt 0 ]; then kill "${tailpids[@]}" 2>/dev/null; fi
  rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
{
  printf 'SHARE=%q\n' "$SHARE"
  printf 'CGROUP=%q\n' "${V2VM_CGROUP:-}"
} > "$ctl/env"
{
  for v in ${V2VM_PASSENV:-}; do
    [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
  done
  printf '%q ' "$@"; echo
} > "$ctl/cmd"
: > "$ctl/stdout"; : > "$ctl/stderr"

# -nodefaults: no NIC, VGA, floppy or cdrom.  ttyS0 (kernel console) goes
# to console.log.  snapshot=on: writes to / go to a temporary overlay (in
# $TMPDIR or /var/tmp) that qemu deletes on exit.
timeout --foreground -s KILL "$TIMEOUT" qemu-system-x86_64 \
  "${accel_args[@]}" -machine "$machine" -smp "$CPUS" -m "$MEM" \
  -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init mitigations=off \
systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all ${V2VM_APPEND:-}" \
  -drive "file=$CACHE/rootfs.img,if=none,id=root,format=raw,snapshot=on" \
  -device virtio-blk-pci,drive=root \
  -device virtio-rng-pci \
  -fsdev "local,id=fsctl,path=$ctl,security_model=none" \
  -device virtio-9p-pci,fsdev=fsctl,mount_tag=v2vmctl \
  -fsdev "local,id=fsshare,path=$SHARE,security_model=none" \
  -device virtio-9p-pci,fsdev=fsshare,mount_tag=v2vmshare \
  -serial "file:$ctl/console.log" </dev/null >"$ctl/qemu.log" 2>&1 &
qpid=$!
# Stream CMD's output while it runs; each tail exits after qemu has exited
# and it has printed the rest of its file.
tail -s 0.2 --pid="$qpid" -n +1 -f "$ctl/stdout" &       tailpids+=($!)
tail -s 0.2 --pid="$qpid" -n +1 -f "$ctl/stderr" >&2 &   tailpids+=($!)
rc=0; wait "$qpid" || rc=$?
qpid=''
wait "${tailpids[@]}" 2>/dev/null || true
tailpids=()

[ "${V2VM_VERBOSE:-0}" = 1 ] && cat "$ctl/console.log" "$ctl/qemu.log" >&2
if [ -s "$ctl/rc" ]; then
  exit "$(cat "$ctl/rc")"
fi
if [ "$rc" = 137 ]; then
  log "timeout after ${TIMEOUT}s; console log follows"
  cat "$ctl/console.log" >&2
  exit 124
fi
log "VM failed (qemu exit status $rc); console log follows"
cat "$ctl/console.log" "$ctl/qemu.log" >&2
exit 125
}
