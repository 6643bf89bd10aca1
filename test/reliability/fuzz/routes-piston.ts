import { compatErrorCode, parseJson } from "./compat-shapes.ts";
import type { FuzzApi, FuzzRoute } from "./route-table.ts";

// The Piston v2 API at /api/v2 and /api/v2/piston (docs/COMPAT.md): its routes and Piston's error
// shape {"message":"…"} for every refusal (401, 400, 404, 413, 429, 503).

const mounts = ["/api/v2", "/api/v2/piston"];
const execute = {
  language: "python",
  version: "*",
  files: [{ name: "main.py", content: "print(input())" }],
  stdin: "hi",
};
const detailed = {
  language: "py",
  version: "3.x",
  files: [
    { name: "main.py", content: "import lib.util", encoding: "utf8" },
    { name: "lib/util.py", content: Buffer.from("x = 1\n").toString("base64"), encoding: "base64" },
    { name: "data.bin", content: "00ff", encoding: "hex" },
  ],
  args: ["a", "b"],
  compile_timeout: 10_000,
  run_timeout: 3000,
  compile_cpu_time: -1,
  run_cpu_time: 1000,
  compile_memory_limit: -1,
  run_memory_limit: 67_108_864,
};

function pistonShape(_status: number, body: Buffer, contentType: string | undefined): string | null {
  const parsed = parseJson(body, contentType) as { message?: unknown } | undefined;
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  return typeof parsed.message === "string" && Object.keys(parsed).length === 1 ? "message" : null;
}

const routesUnder = (mount: string): FuzzRoute[] => [
  { method: "GET", path: `${mount}/runtimes` },
  // Execute answers when the job is done; with the busy key, accepted input is a 429 instead.
  { method: "POST", path: `${mount}/execute`, bodies: [execute, detailed], auth: "busy" },
  { method: "GET", path: `${mount}/packages` },
  {
    method: "POST",
    path: `${mount}/packages`,
    bodies: [
      { language: "python", version: "3.11.2" },
      { language: "cobol", version: "*" },
    ],
  },
  { method: "DELETE", path: `${mount}/packages`, bodies: [{ language: "python", version: "*" }] },
  // The WebSocket route asked for with plain HTTP (and, among the header tricks, an Upgrade).
  { method: "GET", path: `${mount}/connect` },
];

export const pistonApi: FuzzApi = {
  name: "piston",
  errorCode: compatErrorCode(mounts, pistonShape),
  routes: [
    ...routesUnder("/api/v2"),
    ...routesUnder("/api/v2/piston").filter(
      (route) => route.method === "POST" || route.path.endsWith("/connect"),
    ),
  ],
};
