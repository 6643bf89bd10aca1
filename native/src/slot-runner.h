// One long-lived thread per worker slot runs that slot's containers one after another. With
// prewarm on, after each run it creates the next run's container (cgroup, namespaces, id maps,
// cgroup attach) while the slot is idle, so a run's critical path starts at "go". Each container
// is still used exactly once.
#ifndef CELLBLOCK_SLOT_RUNNER_H
#define CELLBLOCK_SLOT_RUNNER_H

#include "supervise.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace cellblock {

struct SlotConfig {
    const sb_cgroup_host *cgroups;
    int seccompFd;
    int initFd;
    bool prewarm;
};

class SlotRunner {
  public:
    // Runs on the slot's thread with a standby container (ready, or failed with its message).
    using Task = std::function<void(sb_standby &)>;

    SlotRunner(int slot, const SlotConfig &config);
    // Runs task with a container whose ids map to hostIdBase (a standby made for another base,
    // e.g. after configureSandbox changed uidBase, is discarded first).
    void post(unsigned hostIdBase, Task task);
    // Discards the idle standby (if any) on the slot's thread, then calls done there.
    void release(std::function<void()> done);
    // At process exit: discard an idle standby from the calling thread, if the slot is not busy.
    void discardAtExit();
    void configure(const SlotConfig &config);

  private:
    void loop();
    void prepare(unsigned hostIdBase);
    std::string nextName();

    const int slot_;
    SlotConfig config_;
    std::mutex queueMu_;
    std::condition_variable queueCv_;
    std::deque<std::function<void()>> queue_;
    std::mutex busyMu_; // held while the slot thread touches standby_
    sb_standby standby_{};
    unsigned standbyBase_ = 0; // hostIdBase the standby was made for
    unsigned lastBase_ = 0;    // of the last run: the next standby is made for it
};

// The runner for a slot, created (with its thread) on first use.
SlotRunner &slotRunner(int slot, const SlotConfig &config);
// Reconfigure every runner (configureSandbox called again) and discard their standbys at exit.
void forEachSlotRunner(const std::function<void(SlotRunner &)> &fn);

} // namespace cellblock
#endif
