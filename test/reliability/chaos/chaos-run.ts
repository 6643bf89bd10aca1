import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Queue } from "bullmq";
import fc from "fast-check";
import pino from "pino";
import { type StartedApi, startApi } from "../../../api/start-api.ts";
import { loadConfig } from "../../../config/load-config.ts";
import { QUEUE_NAME } from "../../../contract/queue.ts";
import { DEFAULT_UID_BASE } from "../../../contract/sandbox-identity.ts";
import { connectRedis } from "../../../redis/redis-connection.ts";
import { eventually } from "../../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { startWorkerProcess, type WorkerProcess } from "../../helpers/worker-process.ts";
import { hostLeftovers } from "./host-leftovers.ts";
import { type Submission, submissionMix } from "./submission-mix.ts";

// Chaos under load: real redis-server, the real API in this process, two real worker processes
// (real sandboxes). For each fault, one phase: jobs of mixed languages and verdicts (batches and
// cancels among them) are submitted at a steady pace, the fault is injected once at a random
// point, and then every accepted job (one that got its 202) must end exactly once — completed,
// failed visibly or cancelled — with nothing left on the host. Submissions are retried through the
// fault with the same Idempotency-Key, as a careful client would, so a retry never makes a second
// job. "Duplicated" counts jobs a worker finished more than once without BullMQ recording a retry
// (a stalled-job recovery or another attempt). Some jobs carry a callbackUrl to a receiver here:
// each of them that ended must be delivered at least once, every delivery with its job's id.

export const FAULTS = [
  "worker-sigkill",
  "worker-sigstop",
  "redis-sigkill",
  "redis-down",
  "api-restart",
  "work-root-full",
] as const;
export type Fault = (typeof FAULTS)[number];

export interface ChaosOptions {
  faults: readonly Fault[];
  jobsPerFault: number;
  seed: number;
  /** How long every accepted job has to end after the phase's submissions and fault are done. */
  endDeadlineMs: number;
  log?: (line: string) => void;
}

export interface FaultRow {
  fault: Fault;
  accepted: number;
  completed: number;
  failed: number;
  cancelled: number;
  lost: number;
  duplicated: number;
  /** Ended jobs with a callbackUrl whose webhook never arrived (at least once, `job-<id>`). */
  webhooksMissing: number;
  /** Jobs run again after the fault, recorded by BullMQ as a retry or stalled recovery. */
  rerun: number;
  leftovers: string[];
  seconds: number;
}

const LOCK_DURATION_MS = 2000;
/** Chaos workers use their own slots, far from those of other tests on this machine. */
const FIRST_SLOT = 180;
const SLOT_COUNT = 20;
const SUBMIT_INTERVAL_MS = 120;

interface Accepted {
  id: string;
  kind: Submission["kind"];
}

export interface ChaosReport {
  rows: FaultRow[];
  /** What was left once every worker had shut down (cgroups of every worker, processes, work dirs). */
  leftoversAfterShutdown: string[];
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const redis: TestRedis = await startTestRedis();
  const receiver = await startWebhookReceiver();
  const workRoot = await mkdtemp(path.join(os.tmpdir(), "cellblock-chaos-work-"));
  // The work root is a small tmpfs of its own, so the work-root-full fault can fill it.
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m,mode=0711", "chaos-work-root", workRoot]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redis.url,
    HOST: "127.0.0.1",
    PORT: "0",
    QUEUE_PREFIX: `chaos${randomUUID().slice(0, 6)}`,
    WORK_ROOT: workRoot,
    LOG_LEVEL: "silent",
    HEARTBEAT_INTERVAL_MS: "500",
    API_KEYS: "",
    WORKER_SLOTS: "1",
    LOCK_DURATION_MS: String(LOCK_DURATION_MS),
    STALLED_INTERVAL_MS: "1000",
    // Every fault of a run may stall the same job once more; it must still end, not fail for it.
    MAX_STALLED_COUNT: "10",
    RUN_WAIT_DEFAULT_MS: "0",
    WEBHOOK_ALLOW_CIDRS: "127.0.0.1/32",
    WEBHOOK_SECRET: "chaos-webhook-secret-0123456789",
    WEBHOOK_BACKOFF_MS: "200",
    WEBHOOK_ATTEMPTS: "10",
    WEBHOOK_TIMEOUT_MS: "2000",
  };
  const config = loadConfig(env);
  const logger = pino({ level: "silent" });
  let api: StartedApi = await startApi(config, logger);
  const queueConnection = connectRedis(config.queue, "chaos");
  // Redis goes away on purpose here; the connection reconnects by itself.
  queueConnection.on("error", () => {});
  const queue = new Queue(QUEUE_NAME, { connection: queueConnection, prefix: config.queue.QUEUE_PREFIX });
  const workers: WorkerProcess[] = [];
  const everyWorker: WorkerProcess[] = [];
  let nextSlot = 0;
  const startWorker = async () => {
    const slot = FIRST_SLOT + (nextSlot++ % SLOT_COUNT);
    const worker = await startWorkerProcess({ ...env, SANDBOX_SLOT_OFFSET: String(slot) });
    workers.push(worker);
    everyWorker.push(worker);
    return worker;
  };
  const random = new RandomSource(options.seed);
  const rows: FaultRow[] = [];
  const scopeOfAll = () => ({
    workerPids: everyWorker.map((w) => w.pid),
    uidBase: DEFAULT_UID_BASE,
    slots: { first: FIRST_SLOT, end: FIRST_SLOT + SLOT_COUNT },
    workRoot,
  });
  let leftoversAfterShutdown: string[] = [];
  try {
    await Promise.all([startWorker(), startWorker()]);
    for (const fault of options.faults) {
      const started = performance.now();
      log(`chaos: ${fault}`);
      const accepted: Accepted[] = [];
      const faultAt = random.int(Math.floor(options.jobsPerFault / 4), Math.floor(options.jobsPerFault / 2));
      let faultDone: Promise<void> = Promise.resolve();
      const mix = submissionMix(options.seed + rows.length, options.jobsPerFault, receiver.url);
      for (const [index, submission] of mix.entries()) {
        if (index === faultAt) faultDone = inject(fault);
        const ids = await submit(() => api.url, submission, `${fault}-${index}-${options.seed}`);
        for (const id of ids) accepted.push({ id, kind: submission.kind });
        if (submission.kind === "cancel" && ids[0]) void cancelLater(() => api.url, ids[0]);
        await sleep(SUBMIT_INTERVAL_MS);
      }
      await faultDone;
      const ends = await waitForEnds(() => api.url, accepted, options.endDeadlineMs);
      const finishedCount = new Map<string, number>();
      for (const worker of everyWorker) {
        for (const id of worker.finishedJobIds()) finishedCount.set(id, (finishedCount.get(id) ?? 0) + 1);
      }
      let duplicated = 0;
      let rerun = 0;
      for (const { id } of accepted) {
        if ((finishedCount.get(id) ?? 0) < 2) continue;
        const job = await queue.getJob(id);
        const recorded = job !== undefined && (job.attemptsMade > 1 || (job.stalledCounter ?? 0) > 0);
        if (recorded) rerun += 1;
        else duplicated += 1;
      }
      // A live, idle worker keeps its next container ready; only dead workers' groups are leftovers.
      const exited = (w: (typeof everyWorker)[number]) =>
        w.child.exitCode !== null || w.child.signalCode !== null;
      const scope = {
        workerPids: everyWorker.filter(exited).map((w) => w.pid),
        liveWorkerPids: everyWorker.filter((w) => !exited(w)).map((w) => w.pid),
        uidBase: DEFAULT_UID_BASE,
        slots: { first: FIRST_SLOT, end: FIRST_SLOT + SLOT_COUNT },
        workRoot,
      };
      // Teardown of the last runs finishes after their results: give it a few seconds.
      const leftovers = await eventually(() => hostLeftovers(scope), {
        until: (found) => found.length === 0,
        timeoutMs: 10_000,
        what: "a clean host",
      }).catch(() => hostLeftovers(scope));
      const hooked = accepted.filter(
        (job) => job.kind === "webhook" && ["completed", "failed"].includes(ends.get(job.id) ?? ""),
      );
      const missing = () => hooked.filter((job) => !receiver.deliveries.has(`job-${job.id}`));
      const webhooksMissing = await eventually(missing, {
        until: (left) => left.length === 0,
        timeoutMs: 20_000,
        what: "webhooks",
      }).catch(() => missing());
      const count = (status: string) => [...ends.values()].filter((s) => s === status).length;
      const row: FaultRow = {
        fault,
        accepted: accepted.length,
        completed: count("completed"),
        failed: count("failed"),
        cancelled: count("cancelled"),
        lost: accepted.length - count("completed") - count("failed") - count("cancelled"),
        duplicated,
        webhooksMissing: webhooksMissing.length,
        rerun,
        leftovers,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      };
      log(`  ${JSON.stringify(row)}`);
      rows.push(row);
    }
    for (const worker of workers.splice(0)) await worker.kill("SIGTERM");
    leftoversAfterShutdown = await eventually(() => hostLeftovers(scopeOfAll()), {
      until: (found) => found.length === 0,
      timeoutMs: 10_000,
      what: "a clean host after shutdown",
    }).catch(() => hostLeftovers(scopeOfAll()));
  } finally {
    for (const worker of workers) {
      process.kill(worker.pid, "SIGCONT");
      await worker.kill("SIGKILL");
    }
    await queue.close();
    queueConnection.disconnect();
    await api.close();
    await redis.stop();
    await receiver.close();
    execFileSync("umount", ["--lazy", workRoot]);
    await rm(workRoot, { recursive: true, force: true });
  }
  return { rows, leftoversAfterShutdown };

  async function inject(fault: Fault): Promise<void> {
    log(`  inject ${fault}`);
    switch (fault) {
      case "worker-sigkill": {
        const victim = workers.splice(random.int(0, workers.length - 1), 1)[0] as WorkerProcess;
        await victim.kill("SIGKILL");
        await startWorker();
        return;
      }
      case "worker-sigstop": {
        // Stopped past its lock: its job is recovered by the other worker; then it wakes up.
        const victim = workers[random.int(0, workers.length - 1)] as WorkerProcess;
        process.kill(victim.pid, "SIGSTOP");
        await sleep(LOCK_DURATION_MS * 2.5);
        process.kill(victim.pid, "SIGCONT");
        return;
      }
      case "redis-sigkill":
        return redis.restart("SIGKILL");
      case "redis-down":
        return redis.restart("SIGTERM", 3000);
      case "api-restart":
        await api.close();
        api = await startApi(config, logger);
        return;
      case "work-root-full": {
        // Filled to the last byte for a few seconds: job set-ups fail (ENOSPC) and are retried.
        const filler = path.join(workRoot, "filler");
        try {
          writeFileSync(filler, Buffer.alloc(32 * 1024 * 1024));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
        }
        await sleep(3000);
        rmSync(filler, { force: true });
        return;
      }
    }
  }
}

/** Posts until accepted (202), retrying through the fault; returns the accepted job ids. */
async function submit(url: () => string, submission: Submission, key: string): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url()}${submission.path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(submission.body),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await response.json();
      if (response.status === 202 && submission.path === "/batches") return batchJobIds(url, body.id);
      if (response.status === 202) return [body.id as string];
      if (response.status < 500 && response.status !== 429) {
        throw new Error(`chaos: ${submission.path} refused: ${response.status} ${JSON.stringify(body)}`);
      }
    } catch (error) {
      if ((error as Error).message.startsWith("chaos:")) throw error;
    }
    await sleep(200);
  }
  return [];
}

async function batchJobIds(url: () => string, batchId: string): Promise<string[]> {
  const view = await eventually(
    async () => {
      try {
        return await (await fetch(`${url()}/batches/${batchId}`)).json();
      } catch {
        return null;
      }
    },
    { until: (v) => Array.isArray(v?.jobs), what: `batch ${batchId}` },
  );
  return (view.jobs as { id: string }[]).map((job) => job.id);
}

async function cancelLater(url: () => string, id: string): Promise<void> {
  await sleep(300);
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      const response = await fetch(`${url()}/jobs/${id}`, { method: "DELETE" });
      if (response.status === 200 || response.status === 409) return;
    } catch {
      // the API is restarting: try again
    }
    await sleep(250);
  }
}

/** Polls every accepted job until it has ended; returns each job's last status. */
async function waitForEnds(
  url: () => string,
  accepted: Accepted[],
  deadlineMs: number,
): Promise<Map<string, string>> {
  const status = new Map<string, string>();
  const ended = (s: string | undefined) => s === "completed" || s === "failed" || s === "cancelled";
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const pending = accepted.filter((job) => !ended(status.get(job.id)));
    if (pending.length === 0) break;
    for (const job of pending) {
      try {
        const view = await (await fetch(`${url()}/jobs/${job.id}`)).json();
        status.set(job.id, view.status ?? view.error?.code);
      } catch {
        // the API is restarting
      }
    }
    await sleep(250);
  }
  return status;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A webhook receiver on loopback: counts deliveries by their Cellblock-Delivery id, answers 200. */
async function startWebhookReceiver() {
  const deliveries = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const id = String(req.headers["cellblock-delivery"] ?? "");
    req.resume();
    req.on("end", () => {
      deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Seeded choices (fast-check's generator), so a run is repeated by its seed. */
class RandomSource {
  private index = 0;
  constructor(private readonly seed: number) {}
  int(min: number, max: number): number {
    const [value] = fc.sample(fc.integer({ min, max: Math.max(min, max) }), {
      seed: this.seed + this.index++,
      numRuns: 1,
    });
    return value as number;
  }
}

/** The chaos table: fault × accepted / completed / failed visibly / cancelled / lost / duplicated. */
export function formatChaosRows(rows: FaultRow[]): string {
  return [
    "| fault | accepted | completed | failed visibly | cancelled | lost | duplicated | webhooks missing | re-run (recorded) | leftovers | s |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.fault} | ${r.accepted} | ${r.completed} | ${r.failed} | ${r.cancelled} | ${r.lost} | ${r.duplicated} | ${r.webhooksMissing} | ${r.rerun} | ${r.leftovers.length} | ${r.seconds} |`,
    ),
  ].join("\n");
}
