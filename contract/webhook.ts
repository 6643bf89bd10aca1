import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

// Webhook deliveries. Every POST carries
//   Cellblock-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
// (the Stripe scheme): the timestamp is signed with the body, so a receiver that rejects
// signatures older than a few minutes cannot be fed a recorded delivery again. Cellblock-Delivery
// carries a unique id per delivery (the same on every retry of it) for receivers to de-duplicate.

export const SIGNATURE_HEADER = "cellblock-signature";
export const DELIVERY_HEADER = "cellblock-delivery";
export const EVENT_HEADER = "cellblock-event";

export function signWebhook(secret: string, body: string, timestampS: number): string {
  const mac = createHmac("sha256", secret).update(`${timestampS}.${body}`).digest("hex");
  return `t=${timestampS},v1=${mac}`;
}

/** What a receiver does; exported for tests and as the reference implementation for clients. */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string,
  nowS: number,
  toleranceS = 300,
): boolean {
  const parts = new Map(header.split(",").map((part) => part.split("=", 2) as [string, string]));
  const timestampS = Number(parts.get("t"));
  const given = parts.get("v1") ?? "";
  if (!Number.isInteger(timestampS) || Math.abs(nowS - timestampS) > toleranceS) return false;
  const expected = signWebhook(secret, body, timestampS).split("v1=")[1] ?? "";
  const a = Buffer.from(given, "hex");
  const b = Buffer.from(expected, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One attempt to deliver, as listed under `callback.attempts` of a job or batch view. */
export const DeliveryAttemptSchema = z.object({
  attempt: z.number().int().positive(),
  at: z.string(),
  /** HTTP status of the receiver's answer, or null when none came (refused, timeout, policy). */
  status: z.number().int().nullable(),
  ok: z.boolean(),
  error: z.string().optional(),
  durationMs: z.number(),
});

export const CallbackViewSchema = z.object({
  url: z.string(),
  state: z.enum(["pending", "delivered", "failed"]),
  attempts: z.array(DeliveryAttemptSchema),
});

export type DeliveryAttempt = z.infer<typeof DeliveryAttemptSchema>;
export type CallbackView = z.infer<typeof CallbackViewSchema>;
