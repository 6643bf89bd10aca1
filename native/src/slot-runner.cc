#include "slot-runner.h"

#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <thread>
#include <unistd.h>

namespace cellblock {

namespace {
std::mutex g_runnersMu;
// Never destroyed: the slot threads are detached and outlive static destructors.
auto *g_runners = new std::map<int, std::unique_ptr<SlotRunner>>();
std::atomic<unsigned long> g_seq{0};
std::atomic<bool> g_exiting{false};

void discardAllAtExit() {
    g_exiting = true;
    forEachSlotRunner([](SlotRunner &r) { r.discardAtExit(); });
}
} // namespace

SlotRunner::SlotRunner(int slot, const SlotConfig &config) : slot_(slot), config_(config) {
    std::thread([this] { loop(); }).detach(); // lives as long as the process
}

void SlotRunner::configure(const SlotConfig &config) {
    std::lock_guard<std::mutex> lock(busyMu_);
    if (standby_.ready) sb_discard(&standby_); // made with the old configuration
    config_ = config;
}

std::string SlotRunner::nextName() {
    return std::to_string(getpid()) + "-s" + std::to_string(slot_) + "-" + std::to_string(g_seq.fetch_add(1));
}

void SlotRunner::prepare(unsigned hostIdBase) {
    if (standby_.ready && standbyBase_ != hostIdBase) sb_discard(&standby_);
    if (standby_.ready || g_exiting) return;
    sb_prepare(&standby_, config_.cgroups, nextName().c_str(), hostIdBase, config_.seccompFd, config_.initFd);
    standbyBase_ = hostIdBase;
}

void SlotRunner::post(unsigned hostIdBase, Task task) {
    {
        std::lock_guard<std::mutex> lock(queueMu_);
        queue_.push_back([this, hostIdBase, task] {
            std::lock_guard<std::mutex> busy(busyMu_);
            bool prewarmed = standby_.ready && standbyBase_ == hostIdBase;
            prepare(hostIdBase); // inline when nothing (suitable) was prepared ahead
            lastBase_ = hostIdBase;
            if (prewarmed) {
                // Created while the slot was idle: not this run's time.
                for (auto &ns : standby_.phase_ns)
                    ns = 0;
            }
            task(standby_);
            if (config_.prewarm) prepare(lastBase_);
        });
    }
    queueCv_.notify_one();
}

void SlotRunner::release(std::function<void()> done) {
    {
        std::lock_guard<std::mutex> lock(queueMu_);
        queue_.push_back([this, done] {
            {
                std::lock_guard<std::mutex> busy(busyMu_);
                if (standby_.ready) sb_discard(&standby_);
            }
            done();
        });
    }
    queueCv_.notify_one();
}

void SlotRunner::discardAtExit() {
    if (!busyMu_.try_lock()) return; // mid-run: PDEATHSIG and the next start-up's sweep clean up
    if (standby_.ready) sb_discard(&standby_);
    busyMu_.unlock();
}

void SlotRunner::loop() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr); // signals belong to Node's threads, not ours
    for (;;) {
        std::function<void()> next;
        {
            std::unique_lock<std::mutex> lock(queueMu_);
            queueCv_.wait(lock, [this] { return !queue_.empty(); });
            next = std::move(queue_.front());
            queue_.pop_front();
        }
        next();
    }
}

SlotRunner &slotRunner(int slot, const SlotConfig &config) {
    std::lock_guard<std::mutex> lock(g_runnersMu);
    static bool hooked = false;
    if (!hooked) {
        atexit(discardAllAtExit);
        hooked = true;
    }
    auto &runner = (*g_runners)[slot];
    if (!runner) runner = std::make_unique<SlotRunner>(slot, config);
    return *runner;
}

void forEachSlotRunner(const std::function<void(SlotRunner &)> &fn) {
    std::lock_guard<std::mutex> lock(g_runnersMu);
    for (auto &entry : *g_runners)
        fn(*entry.second);
}

} // namespace cellblock
