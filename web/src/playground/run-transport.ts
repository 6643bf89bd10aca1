import type { JobRequestInput } from "../../../contract/job-request.ts";
import type { JobResult, JobView } from "../../../contract/job-result.ts";
import { type ApiClient, ApiError } from "../shared/api-client.ts";

// How a run travels, in one module so it can be swapped: today POST /run at interactive priority
// with a short wait (a quick program answers in that one request), then GET /jobs/:id until the
// job is final. Once live runs exist (issue 13: POST /run?stream=1, GET /jobs/:id/events), this
// module is the one to replace with an event stream: the page only sees the RunHandle below —
// status changes through onStatus, and one outcome.
//
// Stop works at any moment: before the job id is known it is remembered and sent as soon as the
// id arrives; after, it is DELETE /jobs/:id and the poll reports the cancellation.

export type RunStatus = "submitting" | "queued" | "running" | "stopping";

export type RunOutcome =
  | { kind: "completed"; result: JobResult }
  | { kind: "cancelled"; id: string }
  | { kind: "failed"; id: string; message: string }
  | { kind: "rejected"; error: ApiError };

export interface RunHandle {
  readonly outcome: Promise<RunOutcome>;
  stop(): void;
}

/** How long POST /run waits before answering 202 with the job id (a program quicker than this needs one request). */
const FIRST_WAIT_MS = 1000;
const POLL_FIRST_MS = 100;
const POLL_MAX_MS = 1000;

export function startRun(
  api: ApiClient,
  request: JobRequestInput,
  onStatus: (status: RunStatus) => void,
): RunHandle {
  let stopRequested = false;
  let jobId: string | null = null;

  const cancel = (id: string) => {
    onStatus("stopping");
    api.request("DELETE", `/jobs/${encodeURIComponent(id)}`).catch(() => {
      // 409: it finished first; the poll reports the result either way.
    });
  };

  const run = async (): Promise<RunOutcome> => {
    onStatus("submitting");
    let first: { status: number; body: JobResult | JobView | { id: string; status: string } };
    try {
      first = await api.request("POST", `/run?waitMs=${FIRST_WAIT_MS}`, request);
    } catch (error) {
      if (error instanceof ApiError) return { kind: "rejected", error };
      throw error;
    }
    const settled = outcomeOf(first.body);
    if (settled) return settled;
    jobId = first.body.id;
    if (stopRequested) cancel(jobId);
    onStatus(stopRequested ? "stopping" : first.body.status === "running" ? "running" : "queued");

    for (let delay = POLL_FIRST_MS; ; delay = Math.min(POLL_MAX_MS, delay * 1.5)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      const { body } = await api.request<JobView>("GET", `/jobs/${encodeURIComponent(jobId)}`);
      const outcome = outcomeOf(body);
      if (outcome) return outcome;
      if (!stopRequested) onStatus(body.status === "running" ? "running" : "queued");
    }
  };

  return {
    outcome: run(),
    stop() {
      if (stopRequested) return;
      stopRequested = true;
      if (jobId) cancel(jobId);
      else onStatus("stopping");
    },
  };
}

/** A final answer in any of the shapes POST /run and GET /jobs/:id give; null while it runs. */
function outcomeOf(body: JobResult | JobView | { id: string; status: string }): RunOutcome | null {
  if ("runs" in body) return { kind: "completed", result: body };
  const view = body as JobView;
  switch (view.status) {
    case "completed":
      return view.result ? { kind: "completed", result: view.result } : null;
    case "cancelled":
      return { kind: "cancelled", id: view.id };
    case "failed":
      return { kind: "failed", id: view.id, message: view.error?.message ?? "the job failed" };
    default:
      return null;
  }
}
