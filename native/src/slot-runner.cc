#include "slot-runner.h"

#include <atomic>
#include <csignal>
#include <map>
#include <thread>
#include <unistd.h>
#include <vector>

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

void blockSignals() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr); // signals belong to Node's threads, not ours
}

} // namespace

SlotRunner::SlotRunner(int slot, const SlotConfig &config) : slot_(slot), config_(config) {
    // All live as long as the process; the preparer and the spare's thread are also the parents
    // PR_SET_PDEATHSIG watches for the containers they make.
    std::thread([this] { runLoop(); }).detach();
    std::thread([this] { prepareLoop(); }).detach();
    std::thread([this] { reapLoop(); }).detach();
    std::thread([this] { spareLoop(); }).detach();
}

std::string SlotRunner::nextName() {
    return std::to_string(getpid()) + "-s" + std::to_string(slot_) + "-" + std::to_string(g_seq.fetch_add(1));
}

// A failure is not returned: the standby carries it (ready = 0, setup_msg) to the run that gets it.
// Made ahead (ahead set) and failing there, it is made again the ordinary way.
SlotRunner::Standby SlotRunner::make(const sb_ids &ids, const SlotConfig &config, const MountRequest *ahead) {
    Standby made(new Made());
    (void)sb_prepare(&made->sb, config.cgroups, nextName().c_str(), &ids, &config.init);
    if (!ahead || !made->sb.ready) return made;
    made->mounts = *ahead;
    made->handOver = config.handOver && ahead->handable();
    if (goAhead(*made)) return made;
    discard(made);
    return make(ids, config, nullptr);
}

// The second stage ahead: made's container mounted as made.mounts asks, its init started and
// waiting for its job. False when that failed (the standby is then not ready).
bool SlotRunner::goAhead(Made &made) {
    return made.plan.build(made.mounts, made.handOver).empty() &&
           sb_go_ahead(&made.sb, made.plan.ops().data(), static_cast<int>(made.plan.ops().size()),
                       made.mounts.newRoot.c_str(), made.mounts.hostname.c_str()) == 0;
}

bool SlotRunner::fits(const Made &made, const sb_ids &ids, const MountRequest &mounts) {
    return sb_ids_equal(&made.sb.ids, &ids) &&
           (!made.sb.ahead || (made.handOver ? made.mounts.sameShape(mounts) : made.mounts == mounts));
}

bool SlotRunner::same(const MountRequest &a, const MountRequest &b) const {
    return config_.handOver && a.handable() ? a.sameShape(b) : a == b;
}

void SlotRunner::discard(Standby &standby) {
    if (standby && standby->sb.ready) sb_discard(&standby->sb);
    standby.reset();
}

void SlotRunner::configure(const SlotConfig &config) {
    Standby old, spare;
    {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !preparing_ && !makingSpare_; });
        old = std::move(stock_); // made with the old configuration
        spare = std::move(spare_);
        config_ = config;
    }
    discard(old);
    discard(spare);
}

// Under mu_. In a stream of repeated requests the next run's container waits made ahead in
// stock_, and its successor's first stage is made now rather than during that run: beside a run,
// the clone competes with it for this host's two cores, and on cgroup v1 the attach may wait for
// an RCU grace period (~10-20 ms, one attach in seven or so here) that then delays the run after;
// made a run earlier, it has a whole run and two pauses to do so.
bool SlotRunner::spareDue() const {
    return config_.prewarm && streaming_ && stock_ && stock_->sb.ahead && !spare_ && !makingSpare_ &&
           !wanted_;
}

void SlotRunner::prepareLoop() {
    blockSignals();
    for (;;) {
        std::unique_lock<std::mutex> lock(mu_);
        const auto aheadDue = [this] { return aheadMounts_ && stock_ && !stock_->sb.ahead; };
        cv_.wait(lock, [&] { return ((wanted_ && !stock_) || aheadDue()) && !g_exiting; });
        if (aheadDue()) {
            // The second stage: the waiting standby (cgroup, clone, attach done during the run)
            // is mounted and its init started, now that the run has ended.
            Standby made = std::move(stock_);
            made->mounts = *aheadMounts_;
            made->handOver = config_.handOver && made->mounts.handable();
            aheadMounts_.reset();
            preparing_ = true;
            lock.unlock();
            if (!goAhead(*made)) discard(made); // the next run makes its own
            lock.lock();
            preparing_ = false;
            if (made && made->sb.ready && !stock_ && !g_exiting) stock_ = std::move(made);
            cv_.notify_all();
            lock.unlock();
            discard(made);
            continue;
        }
        const sb_ids ids = wantedIds_;
        const std::optional<MountRequest> mounts = wantedMounts_;
        const SlotConfig config = config_;
        wanted_ = false;
        preparing_ = true;
        lock.unlock();
        Standby made = make(ids, config, mounts ? &*mounts : nullptr);
        lock.lock();
        preparing_ = false;
        if (made->sb.ready && !stock_ && !g_exiting) stock_ = std::move(made);
        cv_.notify_all();
        lock.unlock();
        discard(made); // failed or not needed any more (a no-op when moved into stock_)
    }
}

// The spare's own thread (spareDue()), so that the preparer is free for the next container's
// second stage while a spare's attach waits.
void SlotRunner::spareLoop() {
    blockSignals();
    for (;;) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return spareDue() && !g_exiting; });
        const sb_ids ids = stock_->sb.ids;
        const SlotConfig config = config_;
        makingSpare_ = true;
        lock.unlock();
        Standby made = make(ids, config, nullptr);
        lock.lock();
        makingSpare_ = false;
        if (made->sb.ready && !g_exiting) {
            if (!stock_)
                stock_ = std::move(made); // a run took stock_ meanwhile: this is the next one
            else if (!spare_)
                spare_ = std::move(made);
        }
        cv_.notify_all();
        lock.unlock();
        discard(made);
    }
}

// Under mu_: asks the preparer for the next standby (made ahead with mounts, if set).
void SlotRunner::want(const sb_ids &ids, const std::optional<MountRequest> &mounts) {
    if (!config_.prewarm || g_exiting) return;
    wanted_ = true;
    wantedIds_ = ids;
    wantedMounts_ = mounts;
    cv_.notify_all();
}

void SlotRunner::post(const sb_ids &ids, const MountRequest &mounts, Task task) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back([this, ids, mounts, task] {
        Standby standby, stale, staleSpare;
        bool repeated = false;
        {
            std::unique_lock<std::mutex> lock(mu_);
            // One being made, or wanted and about to be, is the quickest to get: a second attach
            // would wait for the same grace period. So is one about to be made ahead for this
            // run's request: its mounts are what this run would otherwise do on its own path.
            cv_.wait(lock, [&] {
                const bool aheadDue =
                    aheadMounts_ && same(*aheadMounts_, mounts) && stock_ && !stock_->sb.ahead;
                return !preparing_ &&
                       (g_exiting || (!(wanted_ && !stock_) && !aheadDue && !(makingSpare_ && !stock_)));
            });
            aheadMounts_.reset();
            if (stock_ && fits(*stock_, ids, mounts)) {
                standby = std::move(stock_);
            } else {
                stale = std::move(stock_); // made for other ids (configureSandbox changed the uid
                                           // base) or, ahead, for another mount plan
                // The stream has ended. The spare is not used for this run: its mount namespace
                // is a copy of the host's from a run or more ago, and this run binds its sources
                // as they are now (a mount made on a bind source since would be missing).
                staleSpare = std::move(spare_);
            }
            // Two runs in a row with one request: predict a third (see the header).
            repeated = lastMounts_ && same(*lastMounts_, mounts);
            streaming_ = repeated;
            lastMounts_ = mounts;
            if (spare_) stock_ = std::move(spare_); // made ahead after this run, if it repeats
            // The next one is made while this one runs, unless the spare being made is it.
            if (!stock_ && !makingSpare_) want(ids, std::nullopt);
        }
        discard(staleSpare);
        // A stale plain standby costs little to discard; a stale made-ahead one (a whole
        // container) is discarded after the run, off its critical path.
        if (stale && !stale->sb.ahead) discard(stale);
        std::vector<sb_handed> handed; // this run's binds, for a container made ahead without them
        if (standby) {
            for (auto &ns : standby->sb.phase_ns)
                ns = 0; // made ahead: not this run's time
            if (standby->sb.ahead && standby->handOver)
                for (const BindRequest &b : mounts.binds)
                    handed.push_back({b.source.c_str(), b.target.c_str(), b.writable});
            standby->sb.handed = handed.data();
            standby->sb.n_handed = static_cast<int>(handed.size());
        } else {
            SlotConfig config;
            {
                std::lock_guard<std::mutex> lock(mu_);
                config = config_;
            }
            standby = make(ids, config, nullptr);
        }
        task(standby->sb);
        retire(standby);
        if (repeated) {
            // Made ahead in two stages: the clone and attach (the attach may wait ~10 ms for an
            // RCU grace period on v1) during the run, as any standby; its mounts and the init's
            // exec after it, because beside the job they slowed the job by more than they saved
            // (/bin/true's run phase ~1.1 -> ~1.9 ms on this 2-core host).
            std::lock_guard<std::mutex> lock(mu_);
            if (config_.prewarm && !g_exiting) aheadMounts_ = mounts;
            cv_.notify_all();
        }
        discard(stale);
    });
    cv_.notify_all();
}

void SlotRunner::retire(Standby &used) {
    const int tasks = used->sb.cg_created ? sb_cgroup_tasks(&used->sb.cg) : 0;
    if (tasks < 0 || tasks > 1) {
        (void)sb_teardown(&used->sb);
        used.reset();
        return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    // At most two waiting: a reaper that falls behind slows the slot down instead of piling up
    // dead containers.
    cv_.wait(lock, [this] { return reap_.size() < 2; });
    reap_.push_back(std::move(used));
    cv_.notify_all();
}

void SlotRunner::reapLoop() {
    blockSignals();
    for (;;) {
        Standby used;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return !reap_.empty(); });
            used = std::move(reap_.front());
            reap_.pop_front();
            reaping_ = true;
        }
        (void)sb_teardown(&used->sb);
        used.reset();
        std::lock_guard<std::mutex> lock(mu_);
        reaping_ = false;
        cv_.notify_all();
    }
}

void SlotRunner::release(std::function<void()> done) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back([this, done] {
        Standby old, spare;
        {
            std::unique_lock<std::mutex> lock(mu_);
            wanted_ = false;
            streaming_ = false;
            aheadMounts_.reset();
            cv_.wait(lock, [this] { return !preparing_ && !makingSpare_ && reap_.empty() && !reaping_; });
            old = std::move(stock_);
            spare = std::move(spare_);
        }
        discard(old);
        discard(spare);
        done();
    });
    cv_.notify_all();
}

void SlotRunner::discardAtExit() {
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock() || preparing_ || makingSpare_)
        return; // busy: PDEATHSIG and the next start-up's sweep clean up
    Standby old = std::move(stock_), spare = std::move(spare_);
    lock.unlock();
    discard(old);
    discard(spare);
}

void SlotRunner::runLoop() {
    blockSignals();
    for (;;) {
        std::function<void()> next;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return !queue_.empty(); });
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
