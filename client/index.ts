// @cellblock/client: a typed client for cellblock's own API. See README.md, "Typed client".
export type { BatchAccepted, BatchCancelled } from "../contract/api-responses.ts";
export type { BatchView } from "../contract/batch.ts";
export type { ErrorCode } from "../contract/errors.ts";
export type { JobResult, JobStatus, JobView, Step, Verdict } from "../contract/job-result.ts";
export type { LanguageInfo } from "../contract/language-info.ts";
export {
  CellblockClient,
  type CellblockClientOptions,
  type JobRequestInput,
  type JobSubmissionInput,
  type WaitOptions,
} from "./cellblock-client.ts";
export {
  CellblockApiError,
  CellblockError,
  CellblockJobError,
  CellblockTimeoutError,
  CellblockTransportError,
} from "./errors.ts";
export type { RetryOptions } from "./retry-policy.ts";
