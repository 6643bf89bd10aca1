import { randomUUID } from "node:crypto";
import { type Request, type Response, Router } from "express";
import type { Logger } from "pino";
import { ServiceError } from "../../contract/errors.ts";
import { CallbackUrlSchema } from "../../contract/job-request.ts";
import type { JobView } from "../../contract/job-result.ts";
import { JUDGE0_STATUSES, type SubmissionRecord } from "../../contract/judge0.ts";
import type { PriorityBand } from "../../contract/queue.ts";
import { lowerCeilings } from "../../contract/resolve-limits.ts";
import type { AppDeps } from "../app-deps.ts";
import { callerOf } from "../auth.ts";
import { validateJobRequest } from "../validate-request.ts";
import type { WebhookAddressPolicy } from "../webhook-address-policy.ts";
import { Judge0Error, judge0ErrorOf } from "./judge0-errors.ts";
import { judge0IdMap, listJudge0Languages } from "./judge0-languages.ts";
import type { SubmissionCallbacks } from "./submission-callbacks.ts";
import { parseSubmission } from "./submission-input.ts";
import type { SubmissionStore } from "./submission-store.ts";
import { fullSubmission, isFinished, parseFields, pickFields } from "./submission-view.ts";

// Judge0's /submissions routes on top of the job queue: a submission is validated into an
// ordinary job request (submission-input.ts), its record is stored (submission-store.ts) and the
// job enqueued under the submission's token as its id, with the caller's fairness, quotas and
// limits. Reads combine the record with the job's view (submission-view.ts). Single submissions
// go in the interactive band (the Judge0 IDE and `wait=true` callers wait for them), batches in
// the batch band.

export const MAX_BATCH_SUBMISSIONS = 20;

/** A boolean query parameter: "true" (Python's requests sends "True") or "1"; anything else is false. */
const queryFlag = (raw: unknown) => typeof raw === "string" && /^(?:true|1)$/i.test(raw);

function positiveInt(raw: unknown, fallback: number, name: string): number {
  if (raw === undefined || raw === "") return fallback;
  const value = typeof raw === "string" && /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1)
    throw Judge0Error.plain(400, `${name} must be a positive integer`);
  return value;
}

/**
 * callback_url: an http(s) URL without credentials whose host our SSRF policy allows (checked
 * again on every delivery). Judge0's callbacks are unsigned, so no webhook secret is needed.
 */
async function checkCallbackUrl(policy: WebhookAddressPolicy, url: string | undefined): Promise<void> {
  if (url === undefined) return;
  const parsed = CallbackUrlSchema.safeParse(url);
  if (!parsed.success)
    throw Judge0Error.invalid({ callback_url: [parsed.error.issues[0]?.message ?? "is invalid"] });
  try {
    await policy.resolve(new URL(parsed.data).hostname);
  } catch (error) {
    throw Judge0Error.invalid({
      callback_url: [`${(error as Error).message} (blocked by the webhook address policy)`],
    });
  }
}

export function submissionRoutes(
  deps: AppDeps,
  store: SubmissionStore,
  callbacks: SubmissionCallbacks,
): Router {
  const { config, jobs, languages, policy } = deps;
  const router = Router();
  const maxRuns = Math.min(20, config.api.MAX_TESTS);

  /** Judge0 id → display name, read once per request (names carry the workers' versions). */
  const languageNames = async () =>
    new Map((await listJudge0Languages(languages)).map((l) => [l.id, l.name] as const));
  const languageName = async (languageId: number) =>
    (await languageNames()).get(languageId) ?? String(languageId);

  /** Validates one submission body and enqueues it; returns its record. */
  const create = async (res: Response, body: unknown, base64: boolean, band: PriorityBand) => {
    const caller = callerOf(res);
    const ceilings = lowerCeilings(config.limits.ceilings, caller.limits.ceilings);
    const parsed = await parseSubmission(body, {
      languages: judge0IdMap(languages.definitions),
      ceilings,
      operator: config.limits,
      base64,
      maxRuns,
    });
    try {
      await checkCallbackUrl(policy, parsed.callbackUrl);
      const { request } = validateJobRequest(parsed.request, config.api, languages.definitions, ceilings);
      const record: SubmissionRecord = {
        ...parsed.record,
        token: randomUUID(),
        keyId: caller.keyId,
        created_at: new Date().toISOString(),
      };
      // The record first: a client polling the token must never find a job without it.
      await store.save([record]);
      try {
        await jobs.submit(request, { band, caller, id: record.token });
      } catch (error) {
        // Refused by the queue (full, quota): no job, so no submission either.
        await store.remove(record);
        throw error;
      }
      (res.locals.log as Logger).info(
        { jobId: record.token, band, language: request.language },
        "judge0 submission",
      );
      if (record.callback_url) callbacks.watch(record, await languageName(record.language_id));
      return record;
    } catch (error) {
      if (error instanceof ServiceError && error.status === 400) throw judge0ErrorOf(error);
      throw error;
    }
  };

  /**
   * A function showing submissions as Judge0 does, for one request: language names are read once,
   * and only when asked for; finished_at is read from the job only when asked for.
   */
  const presenter = async (fields: string[], base64: boolean) => {
    const names = fields.includes("language") ? await languageNames() : new Map<number, string>();
    return async (record: SubmissionRecord, view: JobView | null) => {
      let finishedAt: number | null = null;
      if (fields.includes("finished_at") && view?.status === "completed")
        finishedAt = (await jobs.queue.getJob(record.token))?.finishedOn ?? null;
      const name = names.get(record.language_id) ?? String(record.language_id);
      return pickFields(fullSubmission(record, view, finishedAt, name), fields, base64);
    };
  };

  router.post("/submissions/batch", async (req: Request, res: Response) => {
    const base64 = queryFlag(req.query.base64_encoded);
    const items = (req.body as { submissions?: unknown } | undefined)?.submissions;
    if (!Array.isArray(items) || items.length === 0)
      throw Judge0Error.plain(400, "there should be at least one submission in a batch");
    if (items.length > MAX_BATCH_SUBMISSIONS)
      throw Judge0Error.plain(
        400,
        `number of submissions in a batch should be less than or equal to ${MAX_BATCH_SUBMISSIONS}`,
      );
    // Room for the whole batch first, so a full queue refuses it whole (503) instead of halfway.
    await jobs.backpressure.assertRoom(items.length);
    const answers: unknown[] = [];
    for (const item of items) {
      try {
        answers.push({ token: (await create(res, item, base64, "batch")).token });
      } catch (error) {
        if (!(error instanceof Judge0Error) || error.status !== 422) throw error;
        answers.push(error.body);
      }
    }
    const anyCreated = answers.some((answer) => typeof (answer as { token?: unknown }).token === "string");
    res.status(anyCreated ? 201 : 422).json(answers);
  });

  router.get("/submissions/batch", async (req: Request, res: Response) => {
    const base64 = queryFlag(req.query.base64_encoded);
    const fields = parseFields(req.query.fields);
    const raw = typeof req.query.tokens === "string" ? req.query.tokens : "";
    const tokens = raw
      .split(",")
      .map((token) => token.trim())
      .filter(Boolean);
    if (tokens.length === 0) throw Judge0Error.plain(400, "there should be at least one token");
    if (tokens.length > MAX_BATCH_SUBMISSIONS)
      throw Judge0Error.plain(
        400,
        `number of tokens should be less than or equal to ${MAX_BATCH_SUBMISSIONS}`,
      );
    const keyId = callerOf(res).keyId;
    const records = await store.load(tokens, keyId);
    const show = await presenter(fields, base64);
    const submissions = await Promise.all(
      records.map(async (record) => (record ? show(record, await jobs.view(record.token, keyId)) : null)),
    );
    res.json({ submissions });
  });

  router.post("/submissions", async (req: Request, res: Response) => {
    const base64 = queryFlag(req.query.base64_encoded);
    const wait = queryFlag(req.query.wait);
    const fields = parseFields(req.query.fields);
    const record = await create(res, req.body, base64, "interactive");
    if (!wait) return res.status(201).json({ token: record.token });
    let view = await jobs.waitForView(record.token, config.api.RUN_WAIT_MAX_MS);
    // Judge0 waits as long as the job takes; so do we, while the client is still there.
    while (!isFinished(view) && !res.writableEnded && !req.socket.destroyed)
      view = await jobs.waitForView(record.token, config.api.RUN_WAIT_MAX_MS);
    res.status(201).json(await (await presenter(fields, base64))(record, view));
  });

  router.get("/submissions", async (req: Request, res: Response) => {
    const base64 = queryFlag(req.query.base64_encoded);
    const fields = parseFields(req.query.fields);
    const page = positiveInt(req.query.page, 1, "page");
    const perPage = Math.min(100, positiveInt(req.query.per_page, 20, "per_page"));
    const keyId = callerOf(res).keyId;
    const { tokens, total } = await store.page(keyId, page, perPage);
    const records = await store.load(tokens, keyId);
    const show = await presenter(fields, base64);
    const submissions = await Promise.all(
      records.flatMap((record) =>
        record ? [jobs.view(record.token, keyId).then((view) => show(record, view))] : [],
      ),
    );
    const totalPages = Math.ceil(total / perPage);
    res.json({
      submissions,
      meta: {
        current_page: page,
        next_page: page < totalPages ? page + 1 : null,
        prev_page: page > 1 ? page - 1 : null,
        total_pages: totalPages,
        total_count: total,
      },
    });
  });

  router.get("/submissions/:token", async (req: Request<{ token: string }>, res: Response) => {
    const base64 = queryFlag(req.query.base64_encoded);
    const fields = parseFields(req.query.fields);
    const keyId = callerOf(res).keyId;
    const [record] = await store.load([req.params.token], keyId);
    if (!record) throw Judge0Error.plain(404, "submission not found");
    res.json(await (await presenter(fields, base64))(record, await jobs.view(record.token, keyId)));
  });

  router.delete("/submissions/:token", async (req: Request<{ token: string }>, res: Response) => {
    const fields = parseFields(req.query.fields);
    const keyId = callerOf(res).keyId;
    const [record] = await store.load([req.params.token], keyId);
    if (!record) throw Judge0Error.plain(404, "submission not found");
    const view = await jobs.view(record.token, keyId);
    if (!isFinished(view)) {
      const id = view?.status === "running" ? 2 : 1;
      const status = JUDGE0_STATUSES.find((s) => s.id === id) ?? { id, description: "" };
      throw Judge0Error.plain(
        400,
        `submission cannot be deleted because its status is ${status.id} (${status.description})`,
      );
    }
    const answer = await (await presenter(fields, true))(record, view);
    await store.remove(record);
    try {
      await jobs.queue.remove(record.token);
    } catch (error) {
      // The record is gone, so the submission is; the job's result still expires with RESULT_TTL_S.
      (res.locals.log as Logger).warn({ err: error, jobId: record.token }, "judge0 delete: job not removed");
    }
    res.json(answer);
  });

  return router;
}
