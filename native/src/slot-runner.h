// One long-lived thread per worker slot runs that slot's containers one after another. With
// prewarm on, a second thread per slot creates the slot's next container (a standby: cgroup,
// namespaces, id maps, cgroup attach) while the current one runs or the slot is idle, for the ids
// of the slot's last run, so a run's critical path starts at "go": the attach is a cgroup
// migration, which on cgroup v1 waits for an RCU grace period (~10 ms here) whenever migrations
// are not frequent. Each container runs exactly one job.
//
// A used container is torn down after its report, off the critical path: by a third thread per
// slot (the reaper) when nothing but its init is left in it, so the slot's next run and the
// preparer's next container do not wait for PID 1's exit and the cgroup removal (0.3-8 ms here);
// on the slot's own thread, before its next run, when other processes of the job are still dying,
// so a next job on the slot's ids never shares their per-user kernel budgets with them.
//
// Made ahead all the way: when a slot's run has the same mount request as the run before it (a
// bench, a batch of one problem's tests), the preparer predicts the next run will too, and makes
// the next standby mounted, pivoted and read-only, with cellblock-init waiting for its job message
// and its payload parked, filters installed (sb_go_ahead()): cloned and attached during the run,
// mounted after it. With hand-over
// (SlotConfig::handOver, hand-over.c) "the same" means the same shape: the caller binds are left
// out of the container made ahead and mounted at the run's go, so jobs with their own work dirs
// (the worker's per-job /box) match. A run whose request differs gets a fresh container on its
// critical path (the made-ahead one is discarded after the run), and the prediction stops until
// requests repeat again, so a stream of different requests keeps today's standbys.
//
// The spare: in such a stream, while the next container waits made ahead, a fourth thread per
// slot makes the first stage (cgroup, clone, attach) of the one after it, which the next run's
// end then mounts. So a stream's slot holds two containers between runs, and a container's attach
// — on cgroup v1 an RCU grace period of 10-20 ms now and then — and its clone happen a run earlier
// and mostly between runs, not beside the run they would slow down. The spare is never more than
// a first stage (no mounts, no init), and only ever becomes a container made ahead: a run whose
// request the prediction missed ends the stream, and the spare is discarded with the made-ahead
// one (its mount namespace was copied from the host's a run or two earlier; the missed run binds
// its sources as they are now, in a container made for it).
#ifndef CELLBLOCK_SLOT_RUNNER_H
#define CELLBLOCK_SLOT_RUNNER_H

#include "mount-plan.h"
#include "supervise.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace cellblock {

struct SlotConfig {
    const sb_cgroup_host *cgroups;
    sb_init_config init;
    bool prewarm;
    bool handOver; // made-ahead containers take their caller binds at go (hand-over.c)
};

class SlotRunner {
  public:
    // Runs on the slot's thread with a container (ready, or failed with its message).
    using Task = std::function<void(sb_standby &)>;

    SlotRunner(int slot, const SlotConfig &config);
    // Runs task with a container prepared for ids and, if made ahead, for mounts (a standby made
    // for others is discarded after the task).
    void post(const sb_ids &ids, const MountRequest &mounts, Task task);
    // Discards the idle standby (waiting for one being made), then calls done on the slot thread.
    void release(std::function<void()> done);
    // At process exit: discard an idle standby from the calling thread, if it can do so at once.
    void discardAtExit();
    void configure(const SlotConfig &config);

  private:
    // A standby and, when made ahead, the mount plan it was made with.
    struct Made {
        sb_standby sb{};
        MountRequest mounts{};
        MountPlan plan;
        bool handOver = false; // made ahead with the binds' mount points only
    };
    using Standby = std::unique_ptr<Made>; // heap: the waiting child reads its plan in place
    void runLoop();
    void prepareLoop();
    void reapLoop();
    void spareLoop();
    // After its run: a container is torn down by the reaper thread when only its init is left,
    // else on the slot's thread before the slot's next run (see post()).
    void retire(Standby &used);
    Standby make(const sb_ids &ids, const SlotConfig &config, const MountRequest *ahead);
    static bool fits(const Made &made, const sb_ids &ids, const MountRequest &mounts);
    // Under mu_: one container made ahead for a would serve b (equal, or of one shape with hand-over).
    bool same(const MountRequest &a, const MountRequest &b) const;
    static bool goAhead(Made &made);
    void want(const sb_ids &ids, const std::optional<MountRequest> &mounts);
    bool spareDue() const;
    static void discard(Standby &standby);
    std::string nextName();

    const int slot_;
    std::mutex mu_; // guards everything below
    std::condition_variable cv_;
    SlotConfig config_;
    std::deque<std::function<void()>> queue_;
    Standby stock_;          // a ready container nobody has used (made for stock_->ids)
    bool preparing_ = false; // the preparer thread is making one
    // A second standby, its first stage only (cgroup, clone, attach), made for the run after
    // stock_'s while stock_ waits made ahead in a stream of repeated requests: see spareDue().
    Standby spare_;
    bool makingSpare_ = false; // its thread is making it (a run waits for it only with no other)
    bool streaming_ = false;   // the last run repeated the one before it (made ahead)
    bool wanted_ = false;      // the preparer should make one, for wantedIds_ (and wantedMounts_)
    sb_ids wantedIds_{};
    std::optional<MountRequest> wantedMounts_; // set: make it ahead with this plan
    std::optional<MountRequest> lastMounts_;   // the last run's request
    std::optional<MountRequest> aheadMounts_;  // set: make the waiting standby ahead with this plan
    std::deque<Standby> reap_;                 // used containers the reaper thread tears down
    bool reaping_ = false;                     // the reaper is tearing one down
};

// The runner for a slot, created (with its threads) on first use.
SlotRunner &slotRunner(int slot, const SlotConfig &config);
void forEachSlotRunner(const std::function<void(SlotRunner &)> &fn);

} // namespace cellblock
#endif
