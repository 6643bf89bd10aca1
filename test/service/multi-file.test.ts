// Multi-file programs through the HTTP API, one per build convention the host layout offers: C
// with headers and sources in a subdirectory, C++ likewise, a Python package, a JavaScript module
// tree. Image languages (Java packages, Go modules, Rust crates, OCaml and Haskell modules…) run
// in `npm run test:images` (test/service/multi-file-images.suite.ts), since CI has no images.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recipeLanguage, runMultiFileProgram } from "../helpers/multi-file.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";

const unavailable = await sandboxUnavailableReason();

describe.skipIf(unavailable !== null)(
  `multi-file jobs on the host layout (needs ${unavailable ?? "root"})`,
  () => {
    let redis: TestRedis;
    let service: TestService;
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({ redisUrl: redis.url, worker: true });
    });
    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it.each([
      ["c", "a header and a source file in lib/ are compiled and linked with main.c"],
      ["cpp", "a class split into geometry/adder.hpp and geometry/adder.cpp links with main.cpp"],
      ["python", "main.py imports a function from the package geometry/"],
      ["javascript", "main.js requires a module from geometry/"],
      ["bash", "main.sh sources a library of functions from a subdirectory"],
    ])("%s: %s", async (id) => {
      const { result, files } = await runMultiFileProgram(service, await recipeLanguage(id, true));
      expect(files.length).toBeGreaterThan(1);
      expect(result.verdict, JSON.stringify(result.compile ?? result.runs[0])).toBe("accepted");
    });

    it("a C program whose helper file is missing fails to compile, naming the missing function", async () => {
      const c = await recipeLanguage("c", true);
      const main = c.multiFileTest?.files.find((f) => f.path === "main.c");
      const header = c.multiFileTest?.files.find((f) => f.path.endsWith(".h"));
      if (!main || !header) throw new Error("the c recipe's multi-file test changed shape");
      const result = await runJob(service, { language: "c", files: [main, header], stdin: "1 2\n" });
      expect(result.verdict).toBe("compile_error");
      expect(result.compile.stderr).toMatch(/undefined reference to `sum'/);
    });
  },
);
