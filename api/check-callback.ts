import { ServiceError } from "../contract/errors.ts";
import { ANONYMOUS_KEY_ID, type KeyDirectory } from "./api-keys.ts";
import { validationError } from "./validate-request.ts";
import type { WebhookAddressPolicy } from "./webhook-address-policy.ts";

/**
 * Refuses a callback URL the SSRF policy forbids (400 E_CALLBACK_FORBIDDEN), or one that could not
 * be signed (a keyless caller without WEBHOOK_SECRET); the error names `field`.
 */
export async function checkCallback(
  directory: KeyDirectory,
  policy: WebhookAddressPolicy,
  url: string | undefined,
  keyId: string,
  field: string,
): Promise<void> {
  if (url === undefined) return;
  if (keyId === ANONYMOUS_KEY_ID && !(await directory.webhookSecret(keyId))) {
    throw validationError([{ field, message: "needs an API key (or WEBHOOK_SECRET) to sign webhooks with" }]);
  }
  try {
    await policy.resolve(new URL(url).hostname);
  } catch (error) {
    throw new ServiceError("E_CALLBACK_FORBIDDEN", (error as Error).message, { field });
  }
}
