import { defineConfig } from "vitest/config";

// `npm run test:images`: suites that need built language images (test/**/*.suite.ts), kept out of
// `npm test` because CI starts without images.
export default defineConfig({
  test: {
    include: ["test/**/*.suite.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
