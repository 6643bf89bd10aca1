#!/usr/bin/env node
// Entry point for `npx cellblock`: runs cli/cellblock.ts through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../cli/cellblock.ts");
