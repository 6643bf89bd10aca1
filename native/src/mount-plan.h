// Builds the mount plan of one run (the ordered list of sb_op the container's init executes) from
// the already-validated spec. Runs in the parent, before clone: allocation is fine here.
#ifndef CELLBLOCK_MOUNT_PLAN_H
#define CELLBLOCK_MOUNT_PLAN_H

#include "sandbox.h"

#include <deque>
#include <string>
#include <vector>

namespace cellblock {

// 0 missing, 1 directory, 2 anything else (symlinks followed).
int sourceKind(const std::string &path);

struct BindRequest {
    std::string source;
    std::string target;
    bool writable;
    int kind; // sourceKind(source) when the request was made
    bool operator==(const BindRequest &o) const {
        return source == o.source && target == o.target && writable == o.writable;
    }
    // The same mount point and flags, whatever the source: one hand-over serves the other.
    bool sameShape(const BindRequest &o) const {
        return target == o.target && writable == o.writable && kind == o.kind && kind != 0;
    }
};

struct MountRequest {
    bool hostLayout;       // zero-build layout from the host's /usr, /bin, /lib*
    std::string imagePath; // otherwise: a complete root filesystem directory
    std::vector<BindRequest> binds;
    unsigned long long tmpfsBytes;
    std::string newRoot; // mount point of the new root in the init's mount namespace
    std::string hostname;
    unsigned jobUid, jobGid; // named "runner" in the generated /etc/passwd and /etc/group
    // Equal requests build equal plans: a container made ahead for one serves the other.
    bool operator==(const MountRequest &o) const {
        return hostLayout == o.hostLayout && imagePath == o.imagePath && binds == o.binds &&
               tmpfsBytes == o.tmpfsBytes && newRoot == o.newRoot && hostname == o.hostname &&
               jobUid == o.jobUid && jobGid == o.jobGid;
    }
    // A container made ahead with its binds left for the go (hand-over) serves every request of
    // this shape: equal but for the binds' sources. Only requests whose binds can be handed over.
    bool sameShape(const MountRequest &o) const;
    // Every bind can be handed over: at most SB_HANDED_MAX, none on or under another's target
    // (a mount point inside another bind would not exist before that bind is there).
    bool handable() const;
};

class MountPlan {
  public:
    // Returns an empty string, or an error naming the offending path.
    // With bindsAtGo, the caller binds' mount points are made but nothing is bound on them (they
    // are handed over at the job's go: hand-over.c).
    std::string build(const MountRequest &req, bool bindsAtGo = false);
    const std::vector<sb_op> &ops() const {
        return ops_;
    }

  private:
    const char *keep(std::string s);
    void add(sb_op_kind kind, std::string step, const std::string &src, const std::string &dst,
             const std::string &data = "", unsigned long flags = 0);
    void hostRoot(const MountRequest &req);
    void etc(const MountRequest &req);
    void dev(const MountRequest &req);
    void proc(const MountRequest &req);
    std::string binds(const MountRequest &req, bool bindsAtGo);
    void mkdirs(const std::string &root, const std::string &path);

    std::deque<std::string> strings_; // stable storage for every pointer in ops_
    std::vector<sb_op> ops_;
};

} // namespace cellblock
#endif
