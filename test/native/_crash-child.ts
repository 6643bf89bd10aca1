// Child process for supervisor-crash.test.ts: a stand-in worker that starts one run which never
// ends on its own (a daemon plus a sleeping main process) and then waits to be SIGKILLed.
// argv: <bind dir> <slot>
import { fixture, run } from "./_fixtures.ts";

const [box, slot] = process.argv.slice(2);
void run(["/bin/bash", "-c", `${fixture("daemon")} /box/beacon; exec ${fixture("sleep-forever")}`], {
  binds: [{ source: box as string, target: "/box", writable: true }],
  slot: Number(slot),
  limits: { wallTimeMs: 120_000, cpuTimeMs: 120_000 },
});
setInterval(() => {}, 1_000);
