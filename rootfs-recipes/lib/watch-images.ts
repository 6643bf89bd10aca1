import { watch } from "node:fs";
import { mkdir } from "node:fs/promises";

// The worker re-resolves languages when the images root changes: a build or import publishes an
// image by renaming it into the root, and gc removes one, so watching the root directory itself
// (not the trees below it) sees every change that matters. Events come in bursts (tmp dirs
// appear and vanish during a build); one callback per quiet period is enough.

export interface ChangeDebouncer {
  /** One directory event for `name` (fs.watch's filename, when it gives one). */
  onEvent(name: string | null): void;
  /** Drops a pending callback. */
  stop(): void;
}

/**
 * Calls onChange once the events have been quiet for debounceMs. Dot-entries are build scratch
 * (.tmp-, .built-, caches): only published names count.
 */
export function debounceChanges(onChange: () => void, debounceMs: number): ChangeDebouncer {
  let timer: NodeJS.Timeout | undefined;
  return {
    onEvent(name) {
      if (typeof name === "string" && name.startsWith(".")) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    },
    stop() {
      clearTimeout(timer);
    },
  };
}

/** Calls onChange after the images root has been quiet for debounceMs; returns a stop function. */
export async function watchImagesRoot(
  root: string,
  onChange: () => void,
  debounceMs = 500,
): Promise<() => void> {
  await mkdir(root, { recursive: true });
  const changes = debounceChanges(onChange, debounceMs);
  const watcher = watch(root, { persistent: false }, (_event, name) => changes.onEvent(name));
  return () => {
    changes.stop();
    watcher.close();
  };
}
