import fc from "fast-check";

// The load of a chaos phase: jobs of several languages ending in different verdicts (ok, runtime
// error, time limit, compile error, wrong answer, accepted tests), small batches, and jobs that
// are cancelled while they run. Chosen from a seed, so a phase is repeated exactly.

export interface Submission {
  kind: "job" | "batch" | "cancel" | "webhook";
  path: "/jobs" | "/batches";
  body: unknown;
}

const jobs: unknown[] = [
  { language: "bash", source: "echo $((6 * 7))" },
  { language: "python", source: "print(sum(range(10)))" },
  { language: "bash", source: "echo oops >&2; exit 3" },
  { language: "bash", source: "sleep 5", limits: { wallTimeMs: 300 } },
  { language: "c", source: "int main( {" },
  {
    language: "c",
    source: '#include <stdio.h>\nint main(){int a,b;scanf("%d %d",&a,&b);printf("%d\\n",a+b);}',
    tests: [
      { stdin: "1 2\n", expectedOutput: "3\n" },
      { stdin: "2 2\n", expectedOutput: "5\n" },
    ],
  },
  { language: "python", source: "import sys; print(sys.stdin.read().upper())", stdin: "chaos\n" },
];

const submission = (callbackUrl: string): fc.Arbitrary<Submission> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .constantFrom(...jobs)
        .map((body) => ({ kind: "job" as const, path: "/jobs" as const, body })),
    },
    {
      weight: 1,
      arbitrary: fc
        .subarray(jobs, { minLength: 2, maxLength: 3 })
        .map((batch) => ({ kind: "batch" as const, path: "/batches" as const, body: { jobs: batch } })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        kind: "cancel" as const,
        path: "/jobs" as const,
        body: { language: "bash", source: "sleep 20", limits: { wallTimeMs: 25_000 } },
      }),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...jobs).map((body) => ({
        kind: "webhook" as const,
        path: "/jobs" as const,
        body: { ...(body as object), callbackUrl },
      })),
    },
  );

/** `count` submissions; webhook jobs call back to `callbackUrl`. */
export function submissionMix(seed: number, count: number, callbackUrl: string): Submission[] {
  return fc.sample(submission(callbackUrl), { seed, numRuns: count });
}
