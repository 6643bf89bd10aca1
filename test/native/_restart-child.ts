// Child process for supervisor-crash.test.ts: a worker restart, i.e. host set-up only.
import { configureSandbox } from "../../native/index.ts";

configureSandbox();
