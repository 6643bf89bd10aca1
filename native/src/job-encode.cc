#include "job-encode.h"

#include <cstring>

namespace cellblock {

namespace {
void put32(std::string &out, uint32_t v) {
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}
void put64(std::string &out, uint64_t v) {
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}
void putString(std::string &out, const std::string &s) {
    out.append(s.c_str(), strlen(s.c_str()) + 1); // up to an embedded NUL, as execve would see it
}
} // namespace

std::string encodeJob(const JobRequest &job, std::string &err) {
    if (job.argv.empty() || job.rlimits.size() > SB_JOB_MAX_RLIMITS || job.argv.size() > SB_JOB_MAX_STRINGS ||
        job.env.size() > SB_JOB_MAX_STRINGS) {
        err = "the job's argv, environment or rlimits are over the job message's bounds";
        return "";
    }
    std::string body;
    put32(body, job.uid);
    put32(body, job.gid);
    put32(body, static_cast<uint32_t>(job.argv.size()));
    put32(body, static_cast<uint32_t>(job.env.size()));
    put32(body, static_cast<uint32_t>(job.rlimits.size()));
    for (const auto &r : job.rlimits) {
        put32(body, r.resource);
        put32(body, 0);
        put64(body, r.soft);
        put64(body, r.hard);
    }
    putString(body, job.cwd);
    for (const auto &a : job.argv)
        putString(body, a);
    for (const auto &e : job.env)
        putString(body, e);
    if (body.size() > SB_JOB_MAX_BYTES) {
        err = "the job's argv and environment are over " + std::to_string(SB_JOB_MAX_BYTES) + " bytes";
        return "";
    }
    std::string msg;
    put32(msg, SB_JOB_MAGIC);
    put32(msg, static_cast<uint32_t>(body.size()));
    return msg + body;
}

} // namespace cellblock
