// Entry point of `cellblock` (bin/cellblock.mjs): the one place the CLI reads the environment.
import { main } from "./main.ts";

process.exitCode = await main(process.argv, process.env);
