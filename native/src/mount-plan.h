// Builds the mount plan of one run (the ordered list of sb_op the container's init executes) from
// the already-validated spec. Runs in the parent, before clone: allocation is fine here.
#ifndef CELLBLOCK_MOUNT_PLAN_H
#define CELLBLOCK_MOUNT_PLAN_H

#include "sandbox.h"

#include <deque>
#include <string>
#include <vector>

namespace cellblock {

struct BindRequest {
    std::string source;
    std::string target;
    bool writable;
    bool operator==(const BindRequest &o) const {
        return source == o.source && target == o.target && writable == o.writable;
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
};

class MountPlan {
  public:
    // Returns an empty string, or an error naming the offending path.
    std::string build(const MountRequest &req);
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
    std::string binds(const MountRequest &req);
    void mkdirs(const std::string &root, const std::string &path);

    std::deque<std::string> strings_; // stable storage for every pointer in ops_
    std::vector<sb_op> ops_;
};

} // namespace cellblock
#endif
