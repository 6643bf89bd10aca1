// Loaded with `--import` (NODE_OPTIONS) by bench/service-budget.ts: Node 20 refuses --cpu-prof in
// NODE_OPTIONS, so this starts the V8 profiler through the inspector and writes the profile to
// CPU_PROFILE_DIR when the process exits (the in-process session answers synchronously).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";

const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 200 });
session.post("Profiler.start");
process.on("exit", () => {
  session.post("Profiler.stop", (error, result) => {
    if (error) return;
    const file = path.join(process.env.CPU_PROFILE_DIR ?? ".", `CPU.${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(result.profile));
  });
});
