import type { FuzzApi } from "./route-table.ts";
import { cellblockApi } from "./routes-cellblock.ts";
import { judge0Api } from "./routes-judge0.ts";
import { pistonApi } from "./routes-piston.ts";

// Every API the request fuzzer covers. A compatibility API (Judge0, Piston, …) adds its own
// routes-<name>.ts with its routes and error shape, and one line here.

export const fuzzedApis: FuzzApi[] = [cellblockApi, judge0Api, pistonApi];
