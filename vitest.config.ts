import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Sandboxes and Redis are real; files run one at a time so leak checks see only their own runs.
    fileParallelism: false,
  },
});
