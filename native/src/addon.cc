// N-API glue, kept thin: configure() once per process (seccomp compiled, cgroup layout recorded),
// run(spec) per container. Each run gets a dedicated native thread (never the libuv pool: a run
// blocks for its whole wall time) and resolves a promise through a thread-safe function. The spec
// arrives already validated and normalized by native/run-sandbox.ts.
#include "mount-plan.h"
#include "slot-runner.h"
#include "seccomp-policy.h"
#include "supervise.h"

#include <napi.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

namespace cellblock {
namespace {

struct Host {
    bool configured = false;
    sb_cgroup_host cgroups{};
    sb_seccomp seccomp{-1, 0, 0};
    int initFd = -1; // sealed memfd holding cellblock-init
    std::string newRoot;
    std::string hostname;
    int capLastCap = 40;
    int ncpus = 1;
    bool prewarm = false;
};
Host g_host;

struct RunState {
    struct sb_run run {};
    MountPlan plan;
    std::vector<std::string> argvStore, envStore;
    std::vector<char *> argv, envp;
    std::string stdinData;
    std::mutex mu;
    int cancelFd = -1;
    bool done = false;
    Napi::Promise::Deferred deferred;
    Napi::ThreadSafeFunction tsfn;
    explicit RunState(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}

    // Once the report is out, only the cancel() closure still holds this state, until V8 collects
    // it; V8 does not see native memory, so let go of the bulk (mount plan, argv, env, stdin) now
    // rather than let RSS grow between collections.
    void trim() {
        plan = MountPlan();
        std::vector<std::string>().swap(argvStore);
        std::vector<std::string>().swap(envStore);
        std::vector<char *>().swap(argv);
        std::vector<char *>().swap(envp);
        std::string().swap(stdinData);
    }
};

std::string str(const Napi::Object &o, const char *key) {
    return o.Get(key).As<Napi::String>().Utf8Value();
}
double num(const Napi::Object &o, const char *key) {
    return o.Get(key).As<Napi::Number>().DoubleValue();
}
std::vector<std::string> strings(const Napi::Object &o, const char *key) {
    Napi::Array a = o.Get(key).As<Napi::Array>();
    std::vector<std::string> out;
    for (uint32_t i = 0; i < a.Length(); i++)
        out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    return out;
}

std::string stepName(const RunState &s) {
    int step = s.run.setup_step;
    if (step >= 0 && step < static_cast<int>(s.plan.ops().size())) return s.plan.ops()[step].step;
    switch (step) {
    case SB_STEP_WAIT_GO:
        return "wait for the parent";
    case SB_STEP_FDS:
        return "close inherited descriptors";
    case SB_STEP_IDS_ROOT:
        return "become root of the user namespace";
    case SB_STEP_UNSHARE_CGROUP:
        return "unshare the cgroup namespace";
    case SB_STEP_MAKE_PRIVATE:
        return "make mounts private";
    case SB_STEP_PIVOT:
        return "pivot_root into the new root";
    case SB_STEP_DETACH_OLD_ROOT:
        return "detach the old root";
    case SB_STEP_CHDIR_ROOT:
        return "make the root read-only";
    case SB_STEP_HOSTNAME:
        return "set the hostname";
    case SB_STEP_SPAWN_PAYLOAD:
        return "spawn the payload";
    case SB_STEP_SETSID:
        return "setsid";
    case SB_STEP_STDIO:
        return "set up stdio";
    case SB_STEP_RLIMITS:
        return "set rlimits";
    case SB_STEP_CAPS:
        return "drop capabilities";
    case SB_STEP_IDS_JOB:
        return "switch to the job's uid/gid";
    case SB_STEP_CWD:
        return "chdir to the working directory";
    case SB_STEP_NO_NEW_PRIVS:
        return "set no_new_privs";
    case SB_STEP_SECCOMP:
        return "install the seccomp filter";
    case SB_STEP_EXEC:
        return "execve " + s.argvStore[0];
    default:
        return "prepare the container";
    }
}

Napi::Value buffer(Napi::Env env, sb_buf &b) {
    if (!b.data) return Napi::Buffer<char>::New(env, 0);
    char *data = b.data;
    b.data = nullptr;
    return Napi::Buffer<char>::New(env, data, b.len, [](Napi::Env, char *p) { free(p); });
}

Napi::Object report(Napi::Env env, RunState &s) {
    const struct sb_run &r = s.run;
    Napi::Object o = Napi::Object::New(env);
    o.Set("status", static_cast<int>(r.status));
    o.Set("stop", static_cast<int>(r.stop));
    o.Set("exitCode", r.exit_code);
    o.Set("signal", r.signal);
    o.Set("stdout", buffer(env, s.run.out));
    o.Set("stderr", buffer(env, s.run.err));
    o.Set("stdoutTruncated", r.out.truncated != 0);
    o.Set("stderrTruncated", r.err.truncated != 0);
    o.Set("wallNs", static_cast<double>(r.wall_ns));
    Napi::Object phases = Napi::Object::New(env);
    for (int i = 0; i < SB_PHASE_N; i++)
        phases.Set(sb_phase_names[i], static_cast<double>(r.phase_ns[i]) / 1e6);
    o.Set("phasesMs", phases);
    o.Set("cpuNs", static_cast<double>(r.stats.cpu_ns));
    o.Set("userNs", static_cast<double>(r.stats.user_ns));
    o.Set("systemNs", static_cast<double>(r.stats.system_ns));
    o.Set("peakBytes", static_cast<double>(r.stats.peak_bytes));
    o.Set("oomKills", static_cast<double>(r.stats.oom_kills));
    o.Set("pidsMaxHits", static_cast<double>(r.stats.pids_max_hits));
    if (r.status == SB_SETUP_ERROR) {
        o.Set("setupStep", r.setup_step >= 0 ? stepName(s) : std::string(r.setup_msg));
        o.Set("setupErrno", r.setup_errno);
        o.Set("setupMessage", std::string(r.setup_msg));
    }
    return o;
}

SlotConfig slotConfig() {
    return SlotConfig{&g_host.cgroups, g_host.seccomp.fd, g_host.initFd, g_host.prewarm};
}

// On the slot's thread: run, then hand the report to JS.
void execute(const std::shared_ptr<RunState> &s, sb_standby &standby) {
    sb_execute(&standby, &s->run);
    {
        std::lock_guard<std::mutex> lock(s->mu);
        s->done = true;
        close(s->cancelFd);
        s->cancelFd = -1;
    }
    auto *keep = new std::shared_ptr<RunState>(s);
    s->tsfn.BlockingCall(keep, [](Napi::Env env, Napi::Function, std::shared_ptr<RunState> *p) {
        std::shared_ptr<RunState> st = *p;
        delete p;
        st->deferred.Resolve(report(env, *st));
        free(st->run.out.data);
        free(st->run.err.data);
        st->run.out.data = st->run.err.data = nullptr;
        st->trim();
    });
    s->tsfn.Release();
}

// Copies the init binary into a sealed memfd: the container execs it from there, so nothing the
// job can reach (not even /proc/1/exe) leads to a writable host file (CVE-2019-5736).
int sealedCopy(const std::string &path) {
    int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (src < 0) return -1;
    int fd = memfd_create("cellblock-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    char buf[65536];
    ssize_t n = 0;
    while (fd >= 0 && (n = read(src, buf, sizeof buf)) > 0)
        if (write(fd, buf, static_cast<size_t>(n)) != n) n = -1;
    int saved = errno;
    close(src);
    if (fd >= 0 &&
        (n < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)) {
        saved = errno;
        close(fd);
        fd = -1;
    }
    errno = saved;
    return fd;
}

Napi::Value Configure(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Napi::Object cfg = info[0].As<Napi::Object>();
    Host h;
    if (sb_cgroup_host_init(&h.cgroups, static_cast<int>(num(cfg, "cgroupVersion"))) < 0) {
        Napi::Error::New(env, "cellblock sandbox: cgroup version must be 1 or 2")
            .ThrowAsJavaScriptException();
        return env.Undefined();
    }
    Napi::Array parents = cfg.Get("cgroupParents").As<Napi::Array>();
    for (uint32_t i = 0; i < parents.Length() && i < SB_CG_N; i++)
        snprintf(h.cgroups.parent[i], SB_CG_PATH, "%s",
                 parents.Get(i).As<Napi::String>().Utf8Value().c_str());
    h.newRoot = str(cfg, "newRoot");
    h.hostname = str(cfg, "hostname");
    h.capLastCap = static_cast<int>(num(cfg, "capLastCap"));
    h.ncpus = static_cast<int>(num(cfg, "ncpus"));
    h.prewarm = cfg.Get("prewarm").As<Napi::Boolean>().Value();
    if (g_host.seccomp.fd < 0) {
        char err[256];
        if (sb_seccomp_compile(&h.seccomp, err, sizeof err) < 0) {
            Napi::Error::New(env, err).ThrowAsJavaScriptException();
            return env.Undefined();
        }
    } else {
        h.seccomp = g_host.seccomp;
    }
    h.initFd = g_host.initFd >= 0 ? g_host.initFd : sealedCopy(str(cfg, "initPath"));
    if (h.initFd < 0) {
        Napi::Error::New(env, "load cellblock-init from " + str(cfg, "initPath") + ": " + strerror(errno))
            .ThrowAsJavaScriptException();
        return env.Undefined();
    }
    h.configured = true;
    g_host = h;
    forEachSlotRunner([](SlotRunner &runner) { runner.configure(slotConfig()); });
    return Napi::Number::New(env, h.seccomp.refine_len + h.seccomp.main_len);
}

Napi::Value Run(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!g_host.configured) {
        Napi::Error::New(env, "cellblock sandbox: configure() was not called").ThrowAsJavaScriptException();
        return env.Undefined();
    }
    Napi::Object spec = info[0].As<Napi::Object>();
    auto s = std::make_shared<RunState>(env);
    struct sb_run &r = s->run;

    MountRequest mreq;
    mreq.hostLayout = str(spec, "rootfsKind") == "host";
    mreq.imagePath = str(spec, "rootfsPath");
    mreq.tmpfsBytes = static_cast<unsigned long long>(num(spec, "tmpfsBytes"));
    mreq.newRoot = g_host.newRoot;
    mreq.hostname = g_host.hostname;
    Napi::Array binds = spec.Get("binds").As<Napi::Array>();
    for (uint32_t i = 0; i < binds.Length(); i++) {
        Napi::Object b = binds.Get(i).As<Napi::Object>();
        mreq.binds.push_back(
            {str(b, "source"), str(b, "target"), b.Get("writable").As<Napi::Boolean>().Value()});
    }
    std::string planErr = s->plan.build(mreq);

    // cellblock-init's argv (enum sb_init_arg), then the payload's; fd entries are filled by sb_run.
    const double cpuMs = num(spec, "cpuTimeMs");
    const auto lim = [&](const char *key) {
        return std::to_string(static_cast<unsigned long long>(num(spec, key)));
    };
    // RLIMIT_CPU is a backstop only: the cgroup watch acts first.
    const std::string cpuSoft = std::to_string(static_cast<unsigned long long>(cpuMs / 1000.0) + 2);
    const std::string rlimits =
        std::to_string(RLIMIT_CORE) + ":0:0," + std::to_string(RLIMIT_FSIZE) + ":" + lim("fileSizeBytes") +
        ":" + lim("fileSizeBytes") + "," + std::to_string(RLIMIT_NOFILE) + ":" + lim("openFiles") + ":" +
        lim("openFiles") + "," + std::to_string(RLIMIT_STACK) + ":" + lim("stackBytes") + ":" +
        lim("stackBytes") + "," + std::to_string(RLIMIT_CPU) + ":" + cpuSoft + ":" + cpuSoft + "," +
        std::to_string(RLIMIT_MSGQUEUE) + ":65536:65536";
    s->argvStore = {"cellblock-init",
                    "",
                    "",
                    "",
                    "",
                    "",
                    std::to_string(g_host.seccomp.fd),
                    std::to_string(g_host.seccomp.refine_len),
                    std::to_string(g_host.seccomp.main_len),
                    "1000",
                    "1000",
                    std::to_string(g_host.capLastCap),
                    str(spec, "cwd"),
                    rlimits};
    Napi::Array argv = spec.Get("argv").As<Napi::Array>();
    for (uint32_t i = 0; i < argv.Length(); i++)
        s->argvStore.push_back(argv.Get(i).As<Napi::String>().Utf8Value());
    Napi::Array envv = spec.Get("env").As<Napi::Array>();
    for (uint32_t i = 0; i < envv.Length(); i++)
        s->envStore.push_back(envv.Get(i).As<Napi::String>().Utf8Value());
    for (auto &a : s->argvStore)
        s->argv.push_back(a.data());
    s->argv.push_back(nullptr);
    for (auto &e : s->envStore)
        s->envp.push_back(e.data());
    s->envp.push_back(nullptr);
    Napi::Buffer<char> in = spec.Get("stdin").As<Napi::Buffer<char>>();
    s->stdinData.assign(in.Data(), in.Length());

    sb_plan &p = r.plan;
    p.ops = s->plan.ops().data();
    p.n_ops = static_cast<int>(s->plan.ops().size());
    p.newroot = g_host.newRoot.c_str();
    p.hostname = g_host.hostname.c_str();
    p.seccomp_fd = g_host.seccomp.fd;
    p.init_fd = g_host.initFd;
    p.init_argv = s->argv.data();
    p.init_envp = s->envp.data();

    r.cg_host = &g_host.cgroups;
    r.cg_limits.memory_bytes = static_cast<uint64_t>(num(spec, "memoryBytes"));
    // PID 1 (cellblock-init) is one of the group's tasks: the job gets the whole count it asked for.
    r.cg_limits.pids = static_cast<uint64_t>(num(spec, "pids")) + 1;
    r.cg_limits.cpu_quota_percent = static_cast<unsigned>(num(spec, "cpuQuotaPercent"));
    r.cpu_limit_ns = static_cast<uint64_t>(cpuMs * 1e6);
    r.wall_limit_ns = static_cast<uint64_t>(num(spec, "wallTimeMs") * 1e6);
    r.output_limit = static_cast<size_t>(num(spec, "outputBytes"));
    r.stdin_data = s->stdinData.data();
    r.stdin_len = s->stdinData.size();
    r.host_id_base = static_cast<unsigned>(num(spec, "hostIdBase"));
    r.ncpus = g_host.ncpus;
    s->cancelFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r.cancel_fd = s->cancelFd;

    Napi::Promise promise = s->deferred.Promise();
    Napi::Function cancel = Napi::Function::New(env, [s](const Napi::CallbackInfo &ci) -> Napi::Value {
        std::lock_guard<std::mutex> lock(s->mu);
        if (!s->done && s->cancelFd >= 0) {
            uint64_t one = 1;
            if (write(s->cancelFd, &one, sizeof one) < 0) { /* a cancel is already pending */
            }
        }
        return ci.Env().Undefined();
    });
    Napi::Object handle = Napi::Object::New(env);
    handle.Set("promise", promise);
    handle.Set("cancel", cancel);

    if (!planErr.empty() || s->cancelFd < 0) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("status", static_cast<int>(SB_SETUP_ERROR));
        o.Set("setupStep", planErr.empty() ? "create the cancel eventfd" : "plan the mounts");
        o.Set("setupErrno", planErr.empty() ? errno : ENOENT);
        o.Set("setupMessage", planErr.empty() ? std::string(strerror(errno)) : planErr);
        if (s->cancelFd >= 0) close(s->cancelFd);
        s->done = true;
        s->deferred.Resolve(o);
        return handle;
    }
    s->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}),
                                            "cellblock-run", 0, 1);
    slotRunner(static_cast<int>(num(spec, "slot")), slotConfig())
        .post(r.host_id_base, [s](sb_standby &standby) { execute(s, standby); });
    return handle;
}

// Discards every slot's idle standby container; resolves when all are gone (tests, shutdown).
Napi::Value ReleaseStandbys(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
    std::vector<SlotRunner *> runners;
    forEachSlotRunner([&](SlotRunner &r) { runners.push_back(&r); });
    if (runners.empty()) {
        deferred->Resolve(env.Undefined());
        return deferred->Promise();
    }
    auto tsfn =
        Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}),
                                      "cellblock-release", 0, runners.size());
    auto left = std::make_shared<std::atomic<size_t>>(runners.size());
    for (SlotRunner *r : runners) {
        r->release([tsfn, left, deferred]() mutable {
            if (--*left == 0) {
                auto *keep = new std::shared_ptr<Napi::Promise::Deferred>(deferred);
                tsfn.BlockingCall(
                    keep, [](Napi::Env e, Napi::Function, std::shared_ptr<Napi::Promise::Deferred> *p) {
                        (*p)->Resolve(e.Undefined());
                        delete p;
                    });
            }
            tsfn.Release();
        });
    }
    return deferred->Promise();
}

// Tests only: run the real cgroup code against fixture directories (no cgroupfs needed).
// {op: "create" | "stats", version, parent | parents (one per v1 controller), name, limits,
//  attachPid?}
Napi::Value CgroupFixture(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Napi::Object a = info[0].As<Napi::Object>();
    sb_cgroup_host host{};
    if (sb_cgroup_host_init(&host, static_cast<int>(num(a, "version"))) < 0)
        throw Napi::TypeError::New(env, "cgroupFixture: version must be 1 or 2");
    const std::vector<std::string> parents =
        a.Has("parents") ? strings(a, "parents") : std::vector<std::string>{str(a, "parent")};
    for (size_t i = 0; i < SB_CG_N; i++)
        snprintf(host.parent[i], SB_CG_PATH, "%s", parents[std::min(i, parents.size() - 1)].c_str());
    sb_cg_fixture_mode = 1;
    Napi::Object out = Napi::Object::New(env);
    sb_cgroup cg{};
    char err[256] = "";
    if (str(a, "op") == "create") {
        sb_cgroup_limits lim{static_cast<uint64_t>(num(a, "memoryBytes")),
                             static_cast<uint64_t>(num(a, "pids")),
                             static_cast<unsigned>(num(a, "cpuQuotaPercent"))};
        int rc = sb_cgroup_create(&host, str(a, "name").c_str(), &cg, err, sizeof err);
        if (rc == 0) rc = sb_cgroup_set_limits(&cg, &lim, err, sizeof err);
        if (rc == 0 && a.Has("attachPid"))
            rc = sb_cgroup_attach(&cg, static_cast<pid_t>(num(a, "attachPid")), err, sizeof err);
        out.Set("rc", rc);
        out.Set("error", std::string(err));
        if (cg.cpu_fd >= 0) close(cg.cpu_fd);
    } else {
        sb_cgroup_open_existing(&host, str(a, "name").c_str(), &cg);
        sb_cgroup_stats st{};
        sb_cgroup_read_stats(&cg, &st);
        out.Set("cpuNs", static_cast<double>(st.cpu_ns));
        out.Set("userNs", static_cast<double>(st.user_ns));
        out.Set("systemNs", static_cast<double>(st.system_ns));
        out.Set("peakBytes", static_cast<double>(st.peak_bytes));
        out.Set("oomKills", static_cast<double>(st.oom_kills));
        out.Set("memoryMaxHits", static_cast<double>(st.memory_max_hits));
        out.Set("pidsMaxHits", static_cast<double>(st.pids_max_hits));
    }
    sb_cg_fixture_mode = 0;
    return out;
}

} // namespace
} // namespace cellblock

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
    exports.Set("configure", Napi::Function::New(env, cellblock::Configure));
    exports.Set("run", Napi::Function::New(env, cellblock::Run));
    exports.Set("cgroupFixture", Napi::Function::New(env, cellblock::CgroupFixture));
    exports.Set("releaseStandbys", Napi::Function::New(env, cellblock::ReleaseStandbys));
    return exports;
}

NODE_API_MODULE(cellblock_addon, InitAddon)
