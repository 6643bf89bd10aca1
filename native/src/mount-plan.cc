// The container's filesystem, as an ordered list of steps (bubblewrap's SetupOp idea):
//   root:   a small tmpfs holding the host layout (read-only binds of /usr, symlinks or binds for
//           /bin, /lib*, a generated /etc with a few host files bound in), or a read-only bind of
//           an image directory;
//   /dev:   tmpfs with binds of null, zero, full, random, urandom, the fd symlinks, and a
//           size-capped /dev/shm; then read-only;
//   /tmp:   size- and inode-capped tmpfs;
//   binds:  the job's work dir and other caller binds;
//   /proc:  a fresh procfs of the new PID namespace, mounted before pivot_root (after it the kernel
//           refuses a proc mount in a user namespace), with kernel-information files masked,
//           /proc/sys and friends read-only, and nested user namespaces forbidden.
// No /sys and no cgroupfs are mounted at all.
#include "mount-plan.h"

#include "supervise.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cellblock {

namespace {

bool isSymlink(const std::string &path, std::string &target) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return false;
    char buf[4096];
    ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return false;
    target.assign(buf, static_cast<size_t>(n));
    return true;
}

// The job's user ("runner", the spec's job uid/gid) between root and the overflow id nobody.
std::string passwd(const MountRequest &req) {
    return "root:x:0:0:root:/root:/bin/sh\nrunner:x:" + std::to_string(req.jobUid) + ":" +
           std::to_string(req.jobGid) +
           ":cellblock job:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
}
std::string group(const MountRequest &req) {
    return "root:x:0:\nrunner:x:" + std::to_string(req.jobGid) + ":\nnogroup:x:65534:\n";
}
const char *const kHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
const char *const kNsswitch = "passwd: files\ngroup: files\nhosts: files\n";

// Host files a toolchain needs from /etc (the dynamic loader's cache, alternatives symlinks).
const char *const kHostEtc[] = {"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime"};
// Top-level host entries next to /usr: mirrored as symlinks on merged-/usr systems, else bound.
const char *const kHostTop[] = {"bin", "sbin", "lib", "lib64", "lib32", "libx32"};

// /proc files that describe the host kernel or other tenants (containerd's masked paths).
const char *const kMaskFiles[] = {"kcore",       "keys",          "key-users", "timer_list",   "timer_stats",
                                  "sched_debug", "latency_stats", "kallsyms",  "kpagecount",   "kpageflags",
                                  "kpagecgroup", "vmallocinfo",   "config.gz", "pagetypeinfo", "slabinfo"};
// Host-wide information no runtime needs (issue 9 item 10): the host's boot and identity, its
// load and task count, disk and interrupt activity, other tenants' file locks. Read empty. Kept:
// meminfo, cpuinfo, stat, uptime, which runtimes read for memory and CPU counts.
const char *const kMaskHostInfo[] = {"cmdline",     "sys/kernel/random/boot_id",
                                     "interrupts",  "softirqs",
                                     "loadavg",     "vmstat",
                                     "zoneinfo",    "buddyinfo",
                                     "diskstats",   "partitions",
                                     "swaps",       "locks",
                                     "schedstat",   "iomem",
                                     "ioports",     "modules",
                                     "devices",     "mdstat",
                                     "misc",        "consoles",
                                     "execdomains", "dma",
                                     "fb",          "cgroups"};
const char *const kMaskDirs[] = {"acpi", "asound", "scsi", "firmware", "driver", "tty", "pressure"};
const char *const kReadOnly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};

} // namespace

int sourceKind(const std::string &path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return 0;
    return S_ISDIR(st.st_mode) ? 1 : 2;
}

bool MountRequest::handable() const {
    if (binds.size() > SB_HANDED_MAX) return false;
    const auto within = [](const std::string &inner, const std::string &outer) {
        return inner == outer || outer == "/" ||
               (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
                inner[outer.size()] == '/');
    };
    for (size_t i = 0; i < binds.size(); i++)
        for (size_t j = 0; j < binds.size(); j++)
            if (i != j && within(binds[i].target, binds[j].target)) return false;
    return true;
}

bool MountRequest::sameShape(const MountRequest &o) const {
    if (!(hostLayout == o.hostLayout && imagePath == o.imagePath && tmpfsBytes == o.tmpfsBytes &&
          newRoot == o.newRoot && hostname == o.hostname && jobUid == o.jobUid && jobGid == o.jobGid &&
          binds.size() == o.binds.size() && handable() && o.handable()))
        return false;
    for (size_t i = 0; i < binds.size(); i++)
        if (!binds[i].sameShape(o.binds[i])) return false;
    return true;
}

const char *MountPlan::keep(std::string s) {
    strings_.push_back(std::move(s));
    return strings_.back().c_str();
}

void MountPlan::add(sb_op_kind kind, std::string step, const std::string &src, const std::string &dst,
                    const std::string &data, unsigned long flags) {
    sb_op op{};
    op.kind = kind;
    op.step = keep(std::move(step));
    op.src = keep(src);
    op.dst = keep(dst);
    op.data = keep(data);
    op.data_len = data.size();
    op.flags = flags;
    ops_.push_back(op);
}

void MountPlan::mkdirs(const std::string &root, const std::string &path) {
    for (size_t i = 1; i <= path.size(); i++)
        if (i == path.size() || path[i] == '/')
            add(SB_OP_MKDIR, "mkdir " + path.substr(0, i), "", root + path.substr(0, i));
}

void MountPlan::hostRoot(const MountRequest &req) {
    const std::string &r = req.newRoot;
    add(SB_OP_TMPFS, "mount the root tmpfs", "", r, "size=4m,nr_inodes=4096,mode=0755");
    add(SB_OP_MKDIR, "mkdir /usr", "", r + "/usr");
    add(SB_OP_BIND, "bind /usr read-only", "/usr", r + "/usr", "", MS_RDONLY);
    for (const char *name : kHostTop) {
        std::string host = std::string("/") + name, target;
        if (isSymlink(host, target)) {
            add(SB_OP_SYMLINK, "symlink " + host, "", r + host, target);
        } else if (sourceKind(host) == 1) {
            add(SB_OP_MKDIR, "mkdir " + host, "", r + host);
            add(SB_OP_BIND, "bind " + host + " read-only", host, r + host, "", MS_RDONLY);
        }
    }
    for (const char *dir : {"/proc", "/dev", "/tmp"})
        add(SB_OP_MKDIR, std::string("mkdir ") + dir, "", r + dir);
    etc(req);
}

void MountPlan::etc(const MountRequest &req) {
    const std::string e = req.newRoot + "/etc";
    add(SB_OP_MKDIR, "mkdir /etc", "", e);
    add(SB_OP_WRITE_FILE, "write /etc/passwd", "", e + "/passwd", passwd(req));
    add(SB_OP_WRITE_FILE, "write /etc/group", "", e + "/group", group(req));
    add(SB_OP_WRITE_FILE, "write /etc/hosts", "", e + "/hosts", kHosts);
    add(SB_OP_WRITE_FILE, "write /etc/hostname", "", e + "/hostname", req.hostname + "\n");
    add(SB_OP_WRITE_FILE, "write /etc/nsswitch.conf", "", e + "/nsswitch.conf", kNsswitch);
    add(SB_OP_WRITE_FILE, "write /etc/resolv.conf", "", e + "/resolv.conf", "");
    for (const char *name : kHostEtc) {
        std::string host = std::string("/etc/") + name;
        int kind = sourceKind(host);
        if (kind == 0) continue;
        add(kind == 1 ? SB_OP_MKDIR : SB_OP_MKFILE, "create mount point /etc/" + std::string(name), "",
            e + "/" + name);
        add(SB_OP_BIND, "bind " + host + " read-only", host, e + "/" + name, "", MS_RDONLY);
    }
}

void MountPlan::dev(const MountRequest &req) {
    const std::string d = req.newRoot + "/dev";
    add(SB_OP_TMPFS, "mount tmpfs on /dev", "", d, "size=64k,nr_inodes=64,mode=0755");
    for (const char *node : {"null", "zero", "full", "random", "urandom"}) {
        std::string name = std::string("/dev/") + node;
        add(SB_OP_MKFILE, "create " + name, "", req.newRoot + name);
        add(SB_OP_BIND, "bind " + name, name, req.newRoot + name);
    }
    add(SB_OP_SYMLINK, "symlink /dev/fd", "", d + "/fd", "/proc/self/fd");
    add(SB_OP_SYMLINK, "symlink /dev/stdin", "", d + "/stdin", "/proc/self/fd/0");
    add(SB_OP_SYMLINK, "symlink /dev/stdout", "", d + "/stdout", "/proc/self/fd/1");
    add(SB_OP_SYMLINK, "symlink /dev/stderr", "", d + "/stderr", "/proc/self/fd/2");
    add(SB_OP_MKDIR, "mkdir /dev/shm", "", d + "/shm");
    std::string tmpfs = "size=" + std::to_string(req.tmpfsBytes) + ",nr_inodes=4096,mode=1777";
    add(SB_OP_TMPFS, "mount tmpfs on /dev/shm", "", d + "/shm", tmpfs);
    add(SB_OP_MOUNT_RO, "make /dev read-only", "", d);
    add(SB_OP_TMPFS, "mount tmpfs on /tmp", "", req.newRoot + "/tmp", tmpfs);
}

void MountPlan::proc(const MountRequest &req) {
    const std::string p = req.newRoot + "/proc";
    // hidepid=2 (invisible): the job sees only processes it could ptrace, i.e. its own. PID 1
    // (cellblock-init, uid 0 of the namespace: its argv names descriptors, rlimits, the payload)
    // is not even listed.
    add(SB_OP_PROC, "mount proc on /proc", "", p, "hidepid=2");
    // A per-user-namespace limit, set while we still hold capabilities in it: no nested user
    // namespaces, whatever the seccomp filter lets through.
    add(SB_OP_WRITE_SYSCTL, "forbid nested user namespaces", "", p + "/sys/user/max_user_namespaces", "0");
    // inotify instances and watches are per-user kernel memory (and a view of other tenants'
    // file opens, issue 9 item 4): a job needs a handful.
    add(SB_OP_WRITE_SYSCTL, "limit inotify instances", "", p + "/sys/user/max_inotify_instances", "32");
    add(SB_OP_WRITE_SYSCTL, "limit inotify watches", "", p + "/sys/user/max_inotify_watches", "8192");
    for (const char *f : kMaskFiles)
        add(SB_OP_MASK_FILE, std::string("mask /proc/") + f, "/dev/null", p + "/" + f);
    for (const char *f : kMaskHostInfo)
        add(SB_OP_MASK_FILE, std::string("mask /proc/") + f, "/dev/null", p + "/" + f);
    for (const char *f : kMaskDirs)
        add(SB_OP_MASK_DIR, std::string("mask /proc/") + f, "", p + "/" + f);
    for (const char *f : kReadOnly)
        add(SB_OP_REMOUNT_RO, std::string("make /proc/") + f + " read-only", "", p + "/" + f);
}

std::string MountPlan::binds(const MountRequest &req, bool bindsAtGo) {
    for (const BindRequest &b : req.binds) {
        // Handed over at go, the source is the job's (this request's may be gone by now).
        int kind = bindsAtGo ? b.kind : sourceKind(b.source);
        if (kind == 0) return "bind source " + b.source + " does not exist";
        if (req.hostLayout) {
            std::string parent = b.target.substr(0, b.target.rfind('/'));
            if (!parent.empty()) mkdirs(req.newRoot, parent);
            add(kind == 1 ? SB_OP_MKDIR : SB_OP_MKFILE, "create mount point " + b.target, "",
                req.newRoot + b.target);
        }
        if (bindsAtGo) continue; // hand-over.c binds it at the job's go
        add(SB_OP_BIND, "bind " + b.source + " on " + b.target + (b.writable ? "" : " read-only"), b.source,
            req.newRoot + b.target, "", b.writable ? 0 : MS_RDONLY);
    }
    return "";
}

std::string MountPlan::build(const MountRequest &req, bool bindsAtGo) {
    ops_.clear();
    strings_.clear();
    if (req.hostLayout) {
        hostRoot(req);
    } else {
        if (sourceKind(req.imagePath) != 1) return "image directory " + req.imagePath + " does not exist";
        add(SB_OP_BIND, "bind the image " + req.imagePath + " read-only", req.imagePath, req.newRoot, "",
            MS_RDONLY);
    }
    dev(req);
    std::string err = binds(req, bindsAtGo);
    if (!err.empty()) return err;
    proc(req);
    return "";
}

} // namespace cellblock
