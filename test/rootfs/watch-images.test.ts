// The worker learns about a newly published image without a restart.
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from "vitest";
import {
  type ChangeDebouncer,
  debounceChanges,
  watchImagesRoot,
} from "../../rootfs-recipes/lib/watch-images.ts";
import { eventually } from "../helpers/eventually.ts";

describe("debouncing images-root events (fake timers)", () => {
  let onChange: Mock<() => void>;
  let changes: ChangeDebouncer;
  beforeEach(() => {
    vi.useFakeTimers();
    onChange = vi.fn();
    changes = debounceChanges(onChange, 100);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a burst of events gives one callback, debounceMs after the last event", () => {
    changes.onEvent("lua-aaaaaaaaaaaa");
    vi.advanceTimersByTime(80);
    changes.onEvent("go-bbbbbbbbbbbb");
    vi.advanceTimersByTime(99);
    expect(onChange).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onChange).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it("build scratch (dot-entries) never triggers a callback; an event without a name does", () => {
    changes.onEvent(".tmp-lua-aaaaaaaaaaaa-123");
    changes.onEvent(".built-lua-aaaaaaaaaaaa");
    vi.advanceTimersByTime(1000);
    expect(onChange).not.toHaveBeenCalled();
    changes.onEvent(null);
    vi.advanceTimersByTime(100);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it("stop drops a pending callback", () => {
    changes.onEvent("lua-aaaaaaaaaaaa");
    changes.stop();
    vi.advanceTimersByTime(1000);
    expect(onChange).not.toHaveBeenCalled();
  });
});

describe("watching a real images root", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "cellblock-watch-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("publishing an image (a rename into the root) reaches the callback", async () => {
    let calls = 0;
    const stop = await watchImagesRoot(root, () => calls++, 50);
    try {
      await mkdir(path.join(root, ".built-lua-aaaaaaaaaaaa"));
      await rename(path.join(root, ".built-lua-aaaaaaaaaaaa"), path.join(root, "lua-aaaaaaaaaaaa"));
      await eventually(() => calls > 0, { timeoutMs: 10_000, what: "a callback after publishing" });
    } finally {
      stop();
    }
  });
});
