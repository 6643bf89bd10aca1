#!/usr/bin/env node
// Entry point for `npx cellblock-sandbox`: runs native/cli.ts through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../native/cli.ts");
