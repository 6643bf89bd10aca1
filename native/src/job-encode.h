// Builds the job message (job-message.h) that the supervisor sends cellblock-init after READY.
#ifndef CELLBLOCK_JOB_ENCODE_H
#define CELLBLOCK_JOB_ENCODE_H

#include "job-message.h"

#include <string>
#include <vector>

namespace cellblock {

struct JobRequest {
    unsigned uid = 0, gid = 0;
    std::string cwd;
    std::vector<sb_job_rlimit> rlimits;
    std::vector<std::string> argv, env;
};

// The whole message, header included; "" with err set when it is over a bound of job-message.h
// (the reader would refuse it).
std::string encodeJob(const JobRequest &job, std::string &err);

} // namespace cellblock
#endif
