import os from "node:os";
import { type Request, type Response, Router } from "express";
import { JUDGE0_STATUSES, JUDGE0_VERSION } from "../../contract/judge0.ts";
import { QUEUE_NAME } from "../../contract/queue.ts";
import type { AppDeps } from "../app-deps.ts";
import { liveWorkers } from "../worker-registry.ts";
import { DEFAULT_EXTRACT_LIMITS } from "./additional-files.ts";
import { Judge0Error } from "./judge0-errors.ts";
import { languageDetail, listJudge0Languages } from "./judge0-languages.ts";
import { MAX_BATCH_SUBMISSIONS } from "./routes-submissions.ts";
import { judge0Maxima } from "./submission-input.ts";

// Judge0's informational routes. /config_info answers all 39 keys the Python SDK requires, each
// telling the truth about this server: defaults are the operator's run defaults, maxima are
// Judge0's lowered to our ceilings, and what we do not do (compiler options, per-process limits,
// network) says so. /workers describes our one shared queue and the live workers' slots.

export function configInfo({ config }: Pick<AppDeps, "config">) {
  const { run, ceilings } = config.limits;
  const maxRuns = Math.min(20, config.api.MAX_TESTS);
  const maxima = judge0Maxima(ceilings, maxRuns);
  return {
    maintenance_mode: false,
    enable_wait_result: true,
    enable_compiler_options: false,
    allowed_languages_for_compile_options: [] as string[],
    enable_command_line_arguments: true,
    enable_submission_delete: true,
    enable_callbacks: true,
    callbacks_max_tries: 3,
    callbacks_timeout: 5,
    enable_additional_files: true,
    max_queue_size: config.api.MAX_QUEUED_JOBS,
    cpu_time_limit: run.cpuTimeMs / 1000,
    max_cpu_time_limit: maxima.cpu_time_limit,
    cpu_extra_time: 0,
    max_cpu_extra_time: maxima.cpu_extra_time,
    wall_time_limit: run.wallTimeMs / 1000,
    max_wall_time_limit: maxima.wall_time_limit,
    memory_limit: Math.floor(run.memoryBytes / 1024),
    max_memory_limit: maxima.memory_limit,
    stack_limit: 64000,
    max_stack_limit: maxima.stack_limit,
    max_processes_and_or_threads: run.pids,
    max_max_processes_and_or_threads: maxima.max_processes_and_or_threads,
    enable_per_process_and_thread_time_limit: false,
    allow_enable_per_process_and_thread_time_limit: false,
    enable_per_process_and_thread_memory_limit: false,
    allow_enable_per_process_and_thread_memory_limit: false,
    max_file_size: 1024,
    max_max_file_size: maxima.max_file_size,
    number_of_runs: 1,
    max_number_of_runs: maxima.number_of_runs,
    redirect_stderr_to_stdout: false,
    max_extract_size: Math.floor(DEFAULT_EXTRACT_LIMITS.maxTotalBytes / 1024),
    enable_batched_submissions: true,
    max_submission_batch_size: MAX_BATCH_SUBMISSIONS,
    submission_cache_duration: 0,
    use_docs_as_homepage: false,
    allow_enable_network: false,
    enable_network: false,
  };
}

function systemInfo() {
  const cpus = os.cpus();
  return {
    Architecture: os.machine(),
    "CPU(s)": String(cpus.length),
    "Model name": cpus[0]?.model ?? "unknown",
    "Byte Order": os.endianness() === "LE" ? "Little Endian" : "Big Endian",
    Mem: `${Math.round(os.totalmem() / 1024 ** 2)}M`,
    Kernel: `${os.type()} ${os.release()}`,
  };
}

export function infoRoutes(deps: AppDeps): Router {
  const { config, redis, jobs, languages } = deps;
  const router = Router();

  router.get("/languages", async (_req, res) => {
    res.json((await listJudge0Languages(languages)).map(({ id, name }) => ({ id, name })));
  });

  router.get("/languages/all", async (_req, res) => {
    res.json(
      (await listJudge0Languages(languages)).map(({ id, name }) => ({ id, name, is_archived: false })),
    );
  });

  router.get("/languages/:id", async (req: Request<{ id: string }>, res: Response) => {
    const id = /^\d{1,9}$/.test(req.params.id) ? Number(req.params.id) : Number.NaN;
    const language = (await listJudge0Languages(languages)).find((l) => l.id === id);
    if (!language) throw Judge0Error.plain(404, `language with id ${req.params.id} doesn't exist`);
    res.json(languageDetail(language));
  });

  router.get("/statuses", (_req, res) => {
    res.json(JUDGE0_STATUSES);
  });

  router.get("/about", (_req, res) => {
    res.json({
      version: JUDGE0_VERSION,
      homepage: "https://judge0.com",
      source_code: "https://github.com/judge0/judge0",
      maintainer: "cellblock: a Judge0 CE 1.13.1-compatible API (see docs/COMPAT.md)",
    });
  });

  router.get("/version", (_req, res) => {
    res.type("text/plain").send(JUDGE0_VERSION);
  });

  router.get("/license", (_req, res) => {
    res
      .type("text/plain")
      .send("This server is cellblock, which speaks the Judge0 CE API; it contains no Judge0 code.\n");
  });

  router.get("/isolate", (_req, res) => {
    res
      .type("text/plain")
      .send("Programs run in cellblock's own sandbox (namespaces, seccomp, cgroups), not in isolate.\n");
  });

  router.get("/config_info", (_req, res) => {
    res.json(configInfo(deps));
  });

  router.get("/system_info", (_req, res) => {
    res.json(systemInfo());
  });

  router.get("/workers", async (_req, res) => {
    const [workers, counts] = await Promise.all([
      liveWorkers(redis, config.queue),
      jobs.queue.getJobCounts("waiting", "prioritized", "delayed", "failed", "paused"),
    ]);
    const slots = workers.reduce((sum, w) => sum + w.slots, 0);
    const busy = workers.reduce((sum, w) => sum + w.busySlots, 0);
    res.json([
      {
        queue: QUEUE_NAME,
        size: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        available: slots,
        idle: slots - busy,
        working: busy,
        paused: counts.paused ?? 0,
        failed: counts.failed ?? 0,
      },
    ]);
  });

  // The caller was authenticated before any route: reaching these means the key is good.
  router.post("/authenticate", (_req, res) => {
    res.status(200).end();
  });

  router.post("/authorize", (_req, res) => {
    res.status(200).end();
  });

  return router;
}
