import { ServiceError } from "../contract/errors.ts";

// The API side's limit on event streams (SSE, /ws, Piston's /api/v2/connect): each holds a Redis
// connection of its own, so a key may have LIVE_STREAMS_PER_KEY open at once in this process.
// Every open stream registers a closer, so shutting the API down ends them instead of waiting.

export class LiveStreams {
  private readonly perKey = new Map<string, number>();
  private readonly closers = new Set<() => void>();

  constructor(private readonly perKeyLimit: number) {}

  /** Takes a place for keyId (429 E_TOO_MANY_STREAMS when it has none left); release() gives it back once. */
  open(keyId: string, close: () => void): { release(): void } {
    const count = this.perKey.get(keyId) ?? 0;
    if (count >= this.perKeyLimit) throw new ServiceError("E_TOO_MANY_STREAMS", String(this.perKeyLimit));
    this.perKey.set(keyId, count + 1);
    this.closers.add(close);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.closers.delete(close);
        const left = (this.perKey.get(keyId) ?? 1) - 1;
        if (left > 0) this.perKey.set(keyId, left);
        else this.perKey.delete(keyId);
      },
    };
  }

  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
