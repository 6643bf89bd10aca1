// Waiting for something asynchronous to become true, the one way tests do it: poll `probe` until
// it returns a value `accept` takes, or fail at the deadline with the last value seen. Every wait
// has a deadline; nothing sleeps a fixed time hoping it is enough.

export interface EventuallyOptions<T> {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between probes (default 50 ms). */
  intervalMs?: number;
  /** Whether a probed value is the one waited for (default: truthy). */
  until?: (value: T) => boolean;
  /** What is waited for, for the failure message. */
  what?: string;
}

export async function eventually<T>(
  probe: () => T | Promise<T>,
  options: EventuallyOptions<T> = {},
): Promise<T> {
  const {
    timeoutMs = 30_000,
    intervalMs = 50,
    until = (value: T) => Boolean(value),
    what = "condition",
  } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (until(value)) return value;
    if (Date.now() >= deadline) {
      throw new Error(`${what} not reached within ${timeoutMs} ms; last value: ${describe(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 500) ?? String(value);
  } catch {
    return String(value);
  }
}
