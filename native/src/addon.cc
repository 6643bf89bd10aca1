// N-API glue, kept thin: configure() once per process (seccomp compiled, cgroup layout recorded),
// run(spec) per container. A run goes to its slot's native thread (never the libuv pool: a run
// blocks for its whole wall time) and resolves a promise through a thread-safe function. The spec
// arrives already validated and normalized by native/build-native-spec.ts, policy included (ids,
// rlimits, the cgroup's pids.max): here it is only unpacked.
#include "host-files.h"
#include "id-map.h"
#include "job-encode.h"
#include "mount-plan.h"
#include "slot-runner.h"
#include "seccomp-policy.h"

#include <seccomp.h>
#include "supervise.h"

#include <napi.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <fcntl.h>
#include <malloc.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
    bool handOver = false; // made-ahead containers get their caller binds at go (hand-over.c)
};
Host g_host;

struct RunState {
    struct sb_run run {};
    MountRequest mounts;
    MountPlan plan;
    std::string program; // argv[0], to name a failed exec
    std::string jobMessage;
    std::string stdinData;
    std::mutex mu;
    int cancelFd = -1;
    int signalW = -1, signalR = -1; // a live run's signal pipe (run.signal_fd is signalR)
    bool done = false;
    Napi::Promise::Deferred deferred;
    Napi::ThreadSafeFunction tsfn; // chunks and the report travel through this one: in order
    Napi::FunctionReference onOutput;
    explicit RunState(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}

    // Under mu, once the run is over: no signal() may write to a closed descriptor.
    void closeRunFds() {
        int *fds[] = {&cancelFd, &signalW, &signalR, &run.stdin_src_fd};
        for (int *fd : fds)
            if (*fd >= 0) close(*fd), *fd = -1;
    }

    // Once the report is out, only the cancel() closure still holds this state, until V8 collects
    // it; V8 does not see native memory, so let go of the bulk (mount plan, argv, env, stdin) now
    // rather than let RSS grow between collections.
    void trim() {
        plan = MountPlan();
        mounts = MountRequest();
        std::string().swap(jobMessage);
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

// The failing step's name: a mount op names its own; the later steps are named in SB_STEPS.
std::string stepName(const RunState &s) {
    const int step = s.run.setup_step;
    if (step >= 0 && step < static_cast<int>(s.plan.ops().size())) return s.plan.ops()[step].step;
    if (step < SB_STEP_FIRST || step >= SB_STEP_END) return "prepare the container";
    std::string name = sb_step_names[step - SB_STEP_FIRST];
    return step == SB_STEP_EXEC ? name + " " + s.program : name;
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
    o.Set("status", sb_status_names[r.status]);
    o.Set("stop", sb_stop_names[r.stop]);
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
    o.Set("madeAhead", r.made_ahead != 0);
    o.Set("cpuNs", static_cast<double>(r.stats.cpu_ns));
    o.Set("userNs", static_cast<double>(r.stats.user_ns));
    o.Set("systemNs", static_cast<double>(r.stats.system_ns));
    o.Set("peakBytes", static_cast<double>(r.stats.peak_bytes));
    o.Set("oomKills", static_cast<double>(r.stats.oom_kills));
    o.Set("pidsMaxHits", static_cast<double>(r.stats.pids_max_hits));
    if (r.blocked_syscall_seen) {
        /* libseccomp's arch tokens are the AUDIT_ARCH values the kernel reports. */
        char *name = seccomp_syscall_resolve_num_arch(r.blocked_syscall_arch, r.blocked_syscall_nr);
        o.Set("blockedSyscall", name ? std::string(name) : "#" + std::to_string(r.blocked_syscall_nr));
        free(name);
    }
    if (r.status == SB_SETUP_ERROR) {
        o.Set("setupStep", r.setup_step >= 0 ? stepName(s) : std::string(r.setup_msg));
        o.Set("setupErrno", r.setup_errno);
        o.Set("setupMessage", std::string(r.setup_msg));
    }
    return o;
}

SlotConfig slotConfig() {
    const sb_init_config init{g_host.seccomp.fd, g_host.initFd, g_host.seccomp.refine_len,
                              g_host.seccomp.main_len, g_host.capLastCap};
    return SlotConfig{&g_host.cgroups, init, g_host.prewarm, g_host.handOver};
}

// On the slot's thread: run, hand the report to JS, then end the container.
void execute(const std::shared_ptr<RunState> &s, sb_standby &standby) {
    sb_execute(&standby, &s->run);
    {
        std::lock_guard<std::mutex> lock(s->mu);
        s->done = true;
        s->closeRunFds();
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
        st->onOutput.Reset();
    });
    s->tsfn.Release();
    // The report is on its way; the slot runner tears the container down (slot-runner.h).
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
    h.cgroups.clone_into_cgroup = cfg.Get("cloneIntoCgroup").As<Napi::Boolean>().Value();
    // Rootless mode (id-map.h): "root", "single" or "subid" with the helpers' paths.
    const std::string idMap = str(cfg, "idMap");
    const enum sb_id_map_mode mode = idMap == "subid"    ? SB_IDMAP_SUBID
                                     : idMap == "single" ? SB_IDMAP_SINGLE
                                                         : SB_IDMAP_ROOT;
    if ((idMap != "root" && mode == SB_IDMAP_ROOT) ||
        sb_id_map_configure(mode, str(cfg, "newuidmap").c_str(), str(cfg, "newgidmap").c_str()) < 0) {
        Napi::Error::New(
            env, "cellblock sandbox: idMap must be root, single or subid (subid: absolute helper paths)")
            .ThrowAsJavaScriptException();
        return env.Undefined();
    }
    h.handOver = cfg.Get("handOver").ToBoolean().Value() && sb_hand_over_supported();
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

// RLIMIT_* by the names the TS front uses (RLIMIT_RESOURCES in native/addon.ts): the numbers
// differ between architectures, the names do not.
const struct {
    const char *name;
    int resource;
} kRlimits[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int rlimitResource(const std::string &name) {
    for (const auto &r : kRlimits)
        if (name == r.name) return r.resource;
    return -1;
}

// spec.rlimits ([{resource, soft, hard}]) as the job message's entries.
std::vector<sb_job_rlimit> unpackRlimits(const Napi::Env &env, const Napi::Object &spec) {
    Napi::Array list = spec.Get("rlimits").As<Napi::Array>();
    std::vector<sb_job_rlimit> out;
    for (uint32_t i = 0; i < list.Length(); i++) {
        Napi::Object l = list.Get(i).As<Napi::Object>();
        const std::string name = str(l, "resource");
        const int resource = rlimitResource(name);
        if (resource < 0) throw Napi::TypeError::New(env, "cellblock sandbox: unknown rlimit " + name);
        out.push_back({static_cast<uint32_t>(resource), static_cast<uint64_t>(num(l, "soft")),
                       static_cast<uint64_t>(num(l, "hard"))});
    }
    return out;
}

MountRequest unpackMounts(const Napi::Object &spec, const sb_ids &ids) {
    MountRequest m;
    m.jobUid = ids.job_uid;
    m.jobGid = ids.job_gid;
    m.hostLayout = str(spec, "rootfsKind") == "host";
    m.imagePath = str(spec, "rootfsPath");
    m.tmpfsBytes = static_cast<unsigned long long>(num(spec, "tmpfsBytes"));
    m.newRoot = g_host.newRoot;
    m.hostname = g_host.hostname;
    Napi::Array binds = spec.Get("binds").As<Napi::Array>();
    for (uint32_t i = 0; i < binds.Length(); i++) {
        Napi::Object b = binds.Get(i).As<Napi::Object>();
        const std::string source = str(b, "source");
        m.binds.push_back(
            {source, str(b, "target"), b.Get("writable").As<Napi::Boolean>().Value(), sourceKind(source)});
    }
    return m;
}

// The job message for cellblock-init (job-message.h): ids, cwd, rlimits, the program's argv and
// environment. Returns "" or what is wrong.
std::string unpackProgram(const Napi::Env &env, const Napi::Object &spec, RunState &s) {
    JobRequest job;
    job.uid = s.run.ids.job_uid;
    job.gid = s.run.ids.job_gid;
    job.cwd = str(spec, "cwd");
    job.rlimits = unpackRlimits(env, spec);
    job.argv = strings(spec, "argv");
    job.env = strings(spec, "env");
    s.program = job.argv.empty() ? "" : job.argv[0];
    std::string err;
    s.jobMessage = encodeJob(job, err);
    Napi::Buffer<char> in = spec.Get("stdin").As<Napi::Buffer<char>>();
    s.stdinData.assign(in.Data(), in.Length());
    return err;
}

sb_ids unpackIds(const Napi::Object &spec) {
    const auto u = [&](const char *key) { return static_cast<unsigned>(num(spec, key)); };
    return sb_ids{u("hostIdBase"), u("idCount"), u("jobUid"), u("jobGid")};
}

// spec.io ({readBps, writeBps, readIops, writeIops, devices: [[major, minor]…]}), absent = none.
void unpackIo(const Napi::Object &spec, sb_io_limits &io) {
    io = sb_io_limits{};
    if (!spec.Has("io")) return;
    Napi::Object o = spec.Get("io").As<Napi::Object>();
    io.read_bps = static_cast<uint64_t>(num(o, "readBps"));
    io.write_bps = static_cast<uint64_t>(num(o, "writeBps"));
    io.read_iops = static_cast<uint64_t>(num(o, "readIops"));
    io.write_iops = static_cast<uint64_t>(num(o, "writeIops"));
    Napi::Array devices = o.Get("devices").As<Napi::Array>();
    for (uint32_t i = 0; i < devices.Length() && io.n_devices < SB_IO_MAX_DEVICES; i++) {
        Napi::Array d = devices.Get(i).As<Napi::Array>();
        io.devices[io.n_devices].major = d.Get(0u).As<Napi::Number>().Uint32Value();
        io.devices[io.n_devices].minor = d.Get(1u).As<Napi::Number>().Uint32Value();
        io.n_devices++;
    }
}

// What fsize-evidence.c needs: RLIMIT_FSIZE (from spec.rlimits) and where the job can write files,
// relative to the container's root: its tmpfs dirs and its writable binds.
void unpackWriteDirs(const Napi::Object &spec, sb_run &r) {
    Napi::Array list = spec.Get("rlimits").As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
        Napi::Object l = list.Get(i).As<Napi::Object>();
        if (str(l, "resource") == "fsize") r.fsize_limit = static_cast<uint64_t>(num(l, "hard"));
    }
    std::vector<std::string> dirs{"tmp", "dev/shm"};
    Napi::Array binds = spec.Get("binds").As<Napi::Array>();
    for (uint32_t i = 0; i < binds.Length(); i++) {
        Napi::Object b = binds.Get(i).As<Napi::Object>();
        if (b.Get("writable").As<Napi::Boolean>().Value()) dirs.push_back(str(b, "target").substr(1));
    }
    for (const auto &d : dirs) {
        if (r.n_write_dirs == SB_WRITE_DIRS || d.size() >= sizeof r.write_dirs[0]) continue;
        snprintf(r.write_dirs[r.n_write_dirs++], sizeof r.write_dirs[0], "%s", d.c_str());
    }
}

void unpackLimits(const Napi::Object &spec, sb_run &r) {
    r.cg_limits.memory_bytes = static_cast<uint64_t>(num(spec, "memoryBytes"));
    r.cg_limits.pids = static_cast<uint64_t>(num(spec, "pidsMax"));
    r.cg_limits.cpu_quota_percent = static_cast<unsigned>(num(spec, "cpuQuotaPercent"));
    unpackIo(spec, r.cg_limits.io);
    r.cpu_limit_ns = static_cast<uint64_t>(num(spec, "cpuTimeMs") * 1e6);
    r.wall_limit_ns = static_cast<uint64_t>(num(spec, "wallTimeMs") * 1e6);
    r.output_limit = static_cast<size_t>(num(spec, "outputBytes"));
    r.ncpus = g_host.ncpus;
}

// Points the run's plan at what RunState holds (stable from here on: nothing is added to it).
void fillPlan(RunState &s) {
    sb_plan &p = s.run.plan;
    p.ops = s.plan.ops().data();
    p.n_ops = static_cast<int>(s.plan.ops().size());
    p.newroot = g_host.newRoot.c_str();
    p.hostname = g_host.hostname.c_str();
    p.seccomp_fd = g_host.seccomp.fd;
    p.init_fd = g_host.initFd;
    s.run.job_msg = s.jobMessage.data();
    s.run.job_len = s.jobMessage.size();
    s.run.stdin_data = s.stdinData.data();
    s.run.stdin_len = s.stdinData.size();
}

// {promise, cancel}: cancel() makes the run's cancel eventfd readable, once the run has one.
Napi::Object runHandle(Napi::Env env, const std::shared_ptr<RunState> &s) {
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
    handle.Set("promise", s->deferred.Promise());
    handle.Set("cancel", cancel);
    if (s->signalW < 0) return handle;
    // signal(n): one byte for the supervisor, which relays it once the program runs. A full pipe
    // (a client sending thousands of signals) drops the excess.
    handle.Set("signal", Napi::Function::New(env, [s](const Napi::CallbackInfo &ci) -> Napi::Value {
                   const auto sig = static_cast<unsigned char>(ci[0].As<Napi::Number>().Uint32Value());
                   std::lock_guard<std::mutex> lock(s->mu);
                   if (!s->done && s->signalW >= 0 && write(s->signalW, &sig, 1) < 0) { /* dropped */
                   }
                   return ci.Env().Undefined();
               }));
    return handle;
}

// A run that fails before it reaches its slot resolves at once, as a setup_error naming the step.
void resolveEarly(Napi::Env env, RunState &s, const char *step, int err, const std::string &message) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("status", sb_status_names[SB_SETUP_ERROR]);
    o.Set("setupStep", step);
    o.Set("setupErrno", err);
    o.Set("setupMessage", message);
    s.done = true;
    s.closeRunFds();
    s.deferred.Resolve(o);
}

// On the supervising thread: one piece of output, queued on the run's thread-safe function ahead
// of its report. Bounded by the output cap (the supervisor passes only what it keeps).
struct Chunk {
    RunState *state; // alive until the report, which is queued after every chunk
    int stream;
    std::string data;
};

void outputChunk(void *ctx, int stream, const char *data, size_t len) {
    auto *state = static_cast<RunState *>(ctx);
    auto *chunk = new Chunk{state, stream, std::string(data, len)};
    napi_status st = state->tsfn.NonBlockingCall(chunk, [](Napi::Env env, Napi::Function, Chunk *c) {
        std::unique_ptr<Chunk> own(c);
        if (env == nullptr || c->state->onOutput.IsEmpty()) return; // tearing down
        c->state->onOutput.Call({Napi::Number::New(env, c->stream),
                                 Napi::Buffer<char>::Copy(env, c->data.data(), c->data.size())});
    });
    if (st != napi_ok) delete chunk;
}

// spec.onOutput: a callback per piece of output. A live run (spec.live) also gets a stdin pipe
// whose write end goes to JS (stdinFd, which JS owns) and a pipe of signal bytes. Returns "" or
// what failed.
std::string openLive(const Napi::Object &spec, RunState &s, int &stdinW) {
    s.run.stdin_src_fd = s.run.signal_fd = -1;
    stdinW = -1;
    if (spec.Get("onOutput").IsFunction()) {
        s.onOutput = Napi::Persistent(spec.Get("onOutput").As<Napi::Function>());
        s.run.on_output = outputChunk;
        s.run.output_ctx = &s;
    }
    if (!spec.Get("live").ToBoolean().Value()) return "";
    int in[2], sig[2];
    if (pipe2(in, O_CLOEXEC) < 0) return std::string("create the stdin pipe: ") + strerror(errno);
    if (pipe2(sig, O_CLOEXEC | O_NONBLOCK) < 0 || fcntl(in[0], F_SETFL, O_NONBLOCK) < 0) {
        const std::string err = std::string("create the signal pipe: ") + strerror(errno);
        close(in[0]);
        close(in[1]);
        return err;
    }
    s.run.stdin_src_fd = in[0];
    stdinW = in[1];
    s.signalR = s.run.signal_fd = sig[0];
    s.signalW = sig[1];
    return "";
}

// run(spec): unpacks the spec (built by native/build-native-spec.ts) and queues the run on its slot.
Napi::Value Run(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!g_host.configured) {
        Napi::Error::New(env, "cellblock sandbox: configure() was not called").ThrowAsJavaScriptException();
        return env.Undefined();
    }
    Napi::Object spec = info[0].As<Napi::Object>();
    auto s = std::make_shared<RunState>(env);
    s->run.ids = unpackIds(spec);
    s->mounts = unpackMounts(spec, s->run.ids);
    const std::string planErr = s->plan.build(s->mounts);
    const std::string jobErr = unpackProgram(env, spec, *s);
    unpackLimits(spec, s->run);
    unpackWriteDirs(spec, s->run);
    fillPlan(*s);
    int stdinW = -1;
    const std::string liveErr = openLive(spec, *s, stdinW);
    Napi::Object handle = runHandle(env, s);
    if (stdinW >= 0) handle.Set("stdinFd", stdinW);
    if (!liveErr.empty()) {
        resolveEarly(env, *s, "open the live run's pipes", EMFILE, liveErr);
        return handle;
    }
    if (!planErr.empty()) {
        resolveEarly(env, *s, "plan the mounts", ENOENT, planErr);
        return handle;
    }
    if (!jobErr.empty()) {
        resolveEarly(env, *s, "encode the job message", E2BIG, jobErr);
        return handle;
    }
    s->cancelFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->cancelFd < 0) {
        const int err = errno;
        resolveEarly(env, *s, "create the cancel eventfd", err, strerror(err));
        return handle;
    }
    s->run.cancel_fd = s->cancelFd;
    s->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}),
                                            "cellblock-run", 0, 1);
    slotRunner(static_cast<int>(num(spec, "slot")), slotConfig())
        .post(s->run.ids, s->mounts, [s](sb_standby &standby) { execute(s, standby); });
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

// Host files (host-files.c): removeTree(path) removes a work dir off the event loop whatever the
// job left in it; tryLock(path) / unlock(fd) hold the flock by which a worker claims a uid range.
// One walk of a host tree off the event loop (the libuv pool: it is short work, not a wait);
// resolves with the walk's result (bytes, or 0 for a removal).
class TreeWalkWorker : public Napi::AsyncWorker {
  public:
    using Walk = long long (*)(const char *, char *, size_t);
    TreeWalkWorker(Napi::Env env, Walk walk, const char *verb, std::string path)
        : Napi::AsyncWorker(env), walk_(walk), verb_(verb), path_(std::move(path)),
          deferred_(Napi::Promise::Deferred::New(env)) {}
    Napi::Promise Promise() {
        return deferred_.Promise();
    }
    void Execute() override {
        char err[512] = "";
        result_ = walk_(path_.c_str(), err, sizeof err);
        if (result_ < 0) SetError(std::string(verb_) + " " + path_ + ": " + err);
    }
    void OnOK() override {
        deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(result_)));
    }
    void OnError(const Napi::Error &e) override {
        deferred_.Reject(e.Value());
    }

  private:
    Walk walk_;
    const char *verb_;
    std::string path_;
    long long result_ = 0;
    Napi::Promise::Deferred deferred_;
};

Napi::Value queueWalk(const Napi::CallbackInfo &info, TreeWalkWorker::Walk walk, const char *verb) {
    auto *worker = new TreeWalkWorker(info.Env(), walk, verb, info[0].As<Napi::String>().Utf8Value());
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
}

Napi::Value RemoveTree(const Napi::CallbackInfo &info) {
    return queueWalk(
        info,
        [](const char *path, char *err, size_t len) -> long long { return sb_remove_tree(path, err, len); },
        "remove");
}

Napi::Value TreeBytes(const Napi::CallbackInfo &info) {
    return queueWalk(info, sb_tree_bytes, "measure");
}

Napi::Value TryLock(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), sb_try_lock(info[0].As<Napi::String>().Utf8Value().c_str()));
}

Napi::Value Unlock(const Napi::CallbackInfo &info) {
    close(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
}

// Tests only: run the real cgroup code against fixture directories (no cgroupfs needed).
// {op: "create" | "stats", version, parent | parents (one per v1 controller), name, limits,
//  io?, attachPid?}
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
                             static_cast<unsigned>(num(a, "cpuQuotaPercent")),
                             {}};
        unpackIo(a, lim.io);
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

// mkfifo(path, mode) → 0 or -errno. Node has no mkfifo; the worker makes the named pipes that
// connect an interactive problem's two sandboxes with it, in a dir it owns, before either runs.
Napi::Value MakeFifo(const Napi::CallbackInfo &info) {
    std::string path = info[0].As<Napi::String>();
    int rc = mkfifo(path.c_str(), static_cast<mode_t>(info[1].As<Napi::Number>().Int32Value()));
    return Napi::Number::New(info.Env(), rc == 0 ? 0 : -errno);
}

template <size_t N> Napi::Array nameList(Napi::Env env, const char *const (&names)[N]) {
    Napi::Array list = Napi::Array::New(env, N);
    for (size_t i = 0; i < N; i++)
        list.Set(static_cast<uint32_t>(i), names[i]);
    return list;
}

Napi::Array rlimitNames(Napi::Env env) {
    Napi::Array list = Napi::Array::New(env);
    for (const auto &r : kRlimits)
        list.Set(list.Length(), r.name);
    return list;
}

} // namespace
} // namespace cellblock

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
    // glibc gives each thread that mallocs an arena of its own, up to 8 per core, and keeps what
    // an arena once held: the slot threads (two per runner, interactor runners included) could
    // each grow one. Two arenas for every thread that starts from here on, so the worker's memory
    // does not scale with its runner count. bench:worker-rss (RSS after a full GC): flat over 8k
    // jobs with it (+0.6 MiB), ~2 MiB below the level without it.
    mallopt(M_ARENA_MAX, 2);
    exports.Set("configure", Napi::Function::New(env, cellblock::Configure));
    exports.Set("run", Napi::Function::New(env, cellblock::Run));
    exports.Set("cgroupFixture", Napi::Function::New(env, cellblock::CgroupFixture));
    exports.Set("releaseStandbys", Napi::Function::New(env, cellblock::ReleaseStandbys));
    exports.Set("removeTree", Napi::Function::New(env, cellblock::RemoveTree));
    exports.Set("treeBytes", Napi::Function::New(env, cellblock::TreeBytes));
    exports.Set("tryLock", Napi::Function::New(env, cellblock::TryLock));
    exports.Set("unlock", Napi::Function::New(env, cellblock::Unlock));
    exports.Set("mkfifo", Napi::Function::New(env, cellblock::MakeFifo));
    // The addon's own tables, so the TS front maps its reports by them (and a test holds the TS
    // unions to them).
    exports.Set("statusNames", cellblock::nameList(env, sb_status_names));
    exports.Set("stopNames", cellblock::nameList(env, sb_stop_names));
    exports.Set("phaseNames", cellblock::nameList(env, sb_phase_names));
    exports.Set("stepNames", cellblock::nameList(env, sb_step_names));
    exports.Set("rlimitNames", cellblock::rlimitNames(env));
    return exports;
}

NODE_API_MODULE(cellblock_addon, InitAddon)
