import type { Logger } from "pino";
import type { SubmissionRecord } from "../../contract/judge0.ts";
import type { AppDeps } from "../app-deps.ts";
import { deliverWebhook } from "../deliver-webhook.ts";
import { DEFAULT_FIELDS, fullSubmission, isFinished, pickFields } from "./submission-view.ts";

// Judge0's callback_url: when the submission finishes, PUT its default fields (base64-encoded) as
// JSON to the URL; up to 3 tries on transport errors, 5 s each, the answer's status ignored.
// The URL passed our SSRF policy at submission (check in routes-submissions.ts) and is checked and
// pinned again on every try (deliver-webhook.ts). The API process that accepted the submission
// waits for the job's end on the queue's event stream and delivers; a process that stops before
// then loses the callback (the result stays readable with GET) — cellblock's own webhooks
// (callbackUrl) are durable, these are as reliable as Judge0's own.

const TRIES = 3;
const TRY_TIMEOUT_MS = 5_000;
const WAIT_SLICE_MS = 30_000;

export class SubmissionCallbacks {
  constructor(
    private readonly deps: Pick<AppDeps, "jobs" | "policy" | "directory" | "config">,
    private readonly log: Logger,
  ) {}

  /** Starts waiting for the submission's end in the background. */
  watch(record: SubmissionRecord, languageName: string): void {
    void this.deliverWhenDone(record, languageName).catch((error: unknown) =>
      this.log.warn({ err: error, token: record.token }, "judge0 callback failed"),
    );
  }

  private async deliverWhenDone(record: SubmissionRecord, languageName: string): Promise<void> {
    const { jobs } = this.deps;
    const deadline = Date.now() + this.deps.config.queue.RESULT_TTL_S * 1000;
    let view = await jobs.view(record.token);
    while (!isFinished(view) && Date.now() < deadline) {
      view = await jobs.waitForView(record.token, WAIT_SLICE_MS);
    }
    if (!record.callback_url) return;
    const body = JSON.stringify(
      pickFields(fullSubmission(record, view, null, languageName), DEFAULT_FIELDS, true),
    );
    const secret = await this.deps.directory.webhookSecret(record.keyId);
    for (let attempt = 1; attempt <= TRIES; attempt++) {
      const outcome = await deliverWebhook(
        {
          url: record.callback_url,
          event: "judge0.submission",
          deliveryId: `judge0-${record.token}`,
          body,
          secret,
          method: "PUT",
        },
        this.deps.policy,
        {
          WEBHOOK_TIMEOUT_MS: TRY_TIMEOUT_MS,
          WEBHOOK_MAX_RESPONSE_BYTES: this.deps.config.webhooks.WEBHOOK_MAX_RESPONSE_BYTES,
        },
      );
      // Judge0 ignores the receiver's status: only a transport error is tried again.
      if (outcome.status !== null) return;
    }
  }
}
