import fc from "fast-check";
import { type RawOutcome, sendRaw } from "../raw-http.ts";
import { hostileRequest } from "./hostile-requests.ts";
import { type FuzzApi, type FuzzCase, type FuzzContext, type FuzzRoute, routeName } from "./route-table.ts";

// Sends seeded hostile requests to every route and judges each answer: a 4xx (or a 2xx/3xx when
// the request happened to be acceptable) with the API's own error shape; never a 5xx the route
// does not give by design, never a connection closed without an answer, never a hung request.
// Cases are drawn with fast-check from a fixed seed, so a failing case is found again by its seed
// and index.

export interface FuzzProblem {
  route: string;
  index: number;
  kind: string;
  note: string;
  problem: string;
}

export interface RouteTally {
  api: string;
  route: string;
  cases: number;
  byStatus: Record<string, number>;
  /** 5xx answers the route does not give by design (GET /readyz's 503 without a worker is one it does). */
  serverErrors: number;
  problems: FuzzProblem[];
  slowestMs: number;
}

export interface FuzzOptions {
  port: number;
  context: FuzzContext;
  seed: number;
  /** Cases per route; three times as many for routes that take a body. */
  casesPerRoute: number;
  /** An answer slower than this is a hung request. */
  answerTimeoutMs: number;
  /** Run only routes whose "METHOD /path" contains this. */
  only?: string;
  onTally?: (tally: RouteTally) => void;
}

/** What is wrong with an answer, or null when it is a good one. */
export function judgeAnswer(
  api: FuzzApi,
  route: FuzzRoute,
  fuzzCase: FuzzCase,
  outcome: RawOutcome,
): string | null {
  if (outcome.kind === "hung") return `no answer within ${outcome.durationMs} ms`;
  if (outcome.kind === "closed") {
    return `connection closed without an answer after ${outcome.durationMs} ms${outcome.error ? ` (${outcome.error})` : ""}`;
  }
  const { status, headers, body } = outcome.response;
  if (status < 400) return null;
  const code = api.errorCode(status, body, headers["content-type"]?.[0], fuzzCase.request);
  const excerpt = body.toString("utf8").slice(0, 200);
  // A HEAD answer has no body to show its code: its status alone is judged.
  const head = fuzzCase.request.method === "HEAD";
  if (code === null && !head)
    return `${status} without ${api.name}'s error shape: ${JSON.stringify(excerpt)}`;
  const byDesign = head
    ? (route.serverErrorsByDesign ?? []).length > 0
    : route.serverErrorsByDesign?.includes(code ?? "");
  if (status >= 500 && !byDesign) {
    return `${status} ${code ?? ""}: ${excerpt}`;
  }
  return null;
}

export async function fuzzRoutes(apis: FuzzApi[], options: FuzzOptions): Promise<RouteTally[]> {
  const tallies: RouteTally[] = [];
  for (const api of apis) {
    for (const route of api.routes) {
      const name = routeName(route);
      if (options.only && !name.includes(options.only)) continue;
      // Routes that take a body have the most to break: they get three times the cases.
      const cases = fc.sample(hostileRequest(route, options.context), {
        seed: options.seed,
        numRuns: route.bodies ? options.casesPerRoute * 3 : options.casesPerRoute,
      });
      const tally: RouteTally = {
        api: api.name,
        route: name,
        cases: 0,
        byStatus: {},
        serverErrors: 0,
        problems: [],
        slowestMs: 0,
      };
      for (const [index, fuzzCase] of cases.entries()) {
        const outcome = await sendRaw(options.port, fuzzCase.request, options.answerTimeoutMs);
        tally.cases += 1;
        tally.slowestMs = Math.max(tally.slowestMs, outcome.durationMs);
        const status = outcome.kind === "answered" ? String(outcome.response.status) : outcome.kind;
        tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
        const problem = judgeAnswer(api, route, fuzzCase, outcome);
        if (!problem) continue;
        if (outcome.kind === "answered" && outcome.response.status >= 500) tally.serverErrors += 1;
        tally.problems.push({ route: name, index, kind: fuzzCase.kind, note: fuzzCase.note, problem });
      }
      options.onTally?.(tally);
      tallies.push(tally);
    }
  }
  return tallies;
}

/** The fuzz table: cases per route, answers by status, 5xx count, problems. */
export function formatTallies(tallies: RouteTally[]): string {
  const rows = tallies.map((t) => {
    const statuses = Object.entries(t.byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status}×${count}`)
      .join(" ");
    return `| ${t.api} | ${t.route} | ${t.cases} | ${t.serverErrors} | ${t.problems.length} | ${t.slowestMs} | ${statuses} |`;
  });
  const total = (pick: (t: RouteTally) => number) => tallies.reduce((sum, t) => sum + pick(t), 0);
  return [
    "| api | route | cases | unexpected 5xx | problems | slowest ms | answers |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ...rows,
    `| all | ${tallies.length} routes | ${total((t) => t.cases)} | ${total((t) => t.serverErrors)} | ${total((t) => t.problems.length)} | ${Math.max(0, ...tallies.map((t) => t.slowestMs))} | |`,
  ].join("\n");
}
