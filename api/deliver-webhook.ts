import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { WebhookConfig } from "../config/load-config.ts";
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook } from "../contract/webhook.ts";
import type { WebhookAddressPolicy } from "./webhook-address-policy.ts";

// One delivery attempt: resolve and check the host (webhook-address-policy.ts), then POST to the
// checked address — `lookup` is pinned to it, so a DNS answer that changes between check and
// connect cannot redirect us. Redirects are not followed (a 3xx is a failed attempt: following
// one would skip the check). The whole attempt has one timeout; at most WEBHOOK_MAX_RESPONSE_BYTES
// of the answer are read, then the socket is cut. Success is any 2xx.

export interface AttemptOutcome {
  ok: boolean;
  status: number | null;
  error?: string;
  durationMs: number;
}

export interface WebhookMessage {
  url: string;
  event: string;
  deliveryId: string;
  body: string;
  /** Signs the body (Cellblock-Signature); null sends it unsigned (Judge0's callbacks are). */
  secret: string | null;
  /** POST (ours); PUT for Judge0's callbacks. */
  method?: "POST" | "PUT";
}

export async function deliverWebhook(
  message: WebhookMessage,
  policy: WebhookAddressPolicy,
  config: Pick<WebhookConfig, "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_MAX_RESPONSE_BYTES">,
): Promise<AttemptOutcome> {
  const started = Date.now();
  const done = (outcome: Omit<AttemptOutcome, "durationMs">): AttemptOutcome => ({
    ...outcome,
    durationMs: Date.now() - started,
  });
  const url = new URL(message.url);
  let addresses: { address: string; family: number }[];
  try {
    addresses = await policy.resolve(url.hostname);
  } catch (error) {
    return done({ ok: false, status: null, error: (error as Error).message });
  }
  const [first] = addresses as [{ address: string; family: number }];
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as (e: null, a: typeof addresses) => void)(null, [first]);
    else callback(null, first.address, first.family);
  };
  const signature =
    message.secret === null ? null : signWebhook(message.secret, message.body, Math.floor(Date.now() / 1000));
  const transport = url.protocol === "https:" ? https : http;

  return new Promise<AttemptOutcome>((resolve) => {
    const request = transport.request(
      url,
      {
        method: message.method ?? "POST",
        lookup: pinned,
        timeout: config.WEBHOOK_TIMEOUT_MS,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(message.body),
          "user-agent": "cellblock-webhook/1",
          ...(signature !== null && { [SIGNATURE_HEADER]: signature }),
          [DELIVERY_HEADER]: message.deliveryId,
          [EVENT_HEADER]: message.event,
        },
      },
      (response) => {
        let received = 0;
        const status = response.statusCode ?? null;
        const finish = () => {
          const ok = status !== null && status >= 200 && status < 300;
          resolve(done(ok ? { ok, status } : { ok, status, error: `receiver answered ${status}` }));
        };
        response.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received > config.WEBHOOK_MAX_RESPONSE_BYTES) {
            response.destroy();
            finish();
          }
        });
        response.on("end", finish);
        response.on("error", finish);
      },
    );
    const deadline = setTimeout(
      () => request.destroy(new Error(`no answer within ${config.WEBHOOK_TIMEOUT_MS} ms`)),
      config.WEBHOOK_TIMEOUT_MS,
    );
    request.on("timeout", () =>
      request.destroy(new Error(`timed out after ${config.WEBHOOK_TIMEOUT_MS} ms`)),
    );
    request.on("error", (error) => resolve(done({ ok: false, status: null, error: error.message })));
    request.on("close", () => clearTimeout(deadline));
    request.end(message.body);
  });
}
