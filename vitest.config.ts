import { defineConfig } from "vitest/config";

// In test:v2's VM (CELLBLOCK_V2VM=1) the CPU is emulated, and on a loaded host two to three times
// slower than on a quiet one (CI's self-check took 38 s where a quiet run takes 19 s): a test's
// default time there is three times the host's.
const timeout = process.env.CELLBLOCK_V2VM === "1" ? 180_000 : 60_000;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: timeout,
    hookTimeout: timeout,
    // Sandboxes and Redis are real; files run one at a time so leak checks see only their own runs.
    fileParallelism: false,
  },
});
