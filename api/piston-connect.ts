import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { z } from "zod";
import { ServiceError } from "../contract/errors.ts";
import type { LanguageDefinition } from "../contract/language.ts";
import { LiveClientMessageSchema } from "../contract/live-protocol.ts";
import { parseJsonWith } from "../contract/parse-json.ts";
import type { Caller } from "./api-keys.ts";
import type { AppDeps } from "./app-deps.ts";
import { type ClientMessage, type LiveProtocol, serveSocket } from "./live-socket-server.ts";

// Piston's WebSocket, /api/v2/connect (and /api/v2/piston/connect): its messages and close codes
// (reference: Piston v2's api/src/api/v2.js), on our live runs. Where Piston's falls short, this
// one works: signals reach the program's process group, stdin can be closed ({type:"eof"}, our
// addition; Piston has no way to), and output stops at the cap like any run's. Piston's init is
// its /execute body; run_timeout, run_cpu_time and run_memory_limit (-1: the default) map onto
// the run step's limits, the first file becomes the language's entry file.

export const PISTON_CLOSE = {
  finished: 4999, // Job Completed
  alreadyInitialized: 4000, // Already Initialized
  initTimeout: 4001, // Initialization Timeout
  invalid: 4002, // Notified Error
  notInitialized: 4003, // Not yet Initialized
  idleTimeout: 4002,
  tooManyStreams: 4002,
  unavailable: 4002,
};
/** Can only write to stdin. */
const CLOSE_NOT_STDIN = 4004;
/** Invalid signal. */
const CLOSE_BAD_SIGNAL = 4005;
/** Piston's own init deadline. */
const PISTON_INIT_TIMEOUT_MS = 1000;

const limit = z.number().optional();
const PistonInitSchema = z.object({
  type: z.literal("init"),
  language: z.string({ message: "language is required as a string" }),
  version: z.string({ message: "version is required as a string" }).optional(),
  files: z
    .array(
      z.object({
        name: z.string().optional(),
        content: z.string({ message: "files[].content is required as a string" }),
        encoding: z.enum(["utf8", "base64", "hex"]).default("utf8"),
      }),
      { message: "files is required as an array" },
    )
    .min(1, "files is required as an array"),
  args: z.array(z.string()).default([]),
  stdin: z.string().default(""),
  run_timeout: limit,
  run_cpu_time: limit,
  run_memory_limit: limit,
});

const PistonMessageSchema = z.object({ type: z.string() }).passthrough();

export function servePistonSocket(deps: AppDeps, ws: WebSocket, caller: Caller, log: Logger): void {
  const languageOf = (name: string) => pistonLanguage(deps.languages.definitions, name);
  const protocol: LiveProtocol = {
    initTimeoutMs: PISTON_INIT_TIMEOUT_MS,
    close: PISTON_CLOSE,
    requestOf: (body) => pistonRequest(body, languageOf),
    parse: parsePistonMessage,
    async submitted(request) {
      const definition = deps.languages.definitions.get(request.language);
      const version =
        (await deps.languages.list()).find((l) => l.id === request.language)?.version ?? "0.0.0";
      return [{ type: "runtime", language: definition?.piston?.name ?? request.language, version }];
    },
    render({ event }) {
      switch (event.type) {
        case "step.started":
          return [{ type: "stage", stage: event.stage }];
        case "output":
          return [{ type: "data", stream: event.stream, data: event.data }];
        case "step.finished":
          return [{ type: "exit", stage: event.stage, code: event.step.exitCode, signal: event.step.signal }];
        case "job.failed":
          return [{ type: "error", message: event.error.message }];
        default:
          return [];
      }
    },
    error: (_code, message) => ({ type: "error", message }),
  };
  serveSocket(deps, ws, caller, log, protocol);
}

function parsePistonMessage(text: string): ClientMessage {
  const message = parseJsonWith(PistonMessageSchema, text);
  const refuse = (close: number, message: string): ClientMessage => ({
    kind: "refuse",
    close,
    code: "E_VALIDATION",
    message,
  });
  if (!message) return refuse(PISTON_CLOSE.invalid, "Invalid message");
  switch (message.type) {
    case "init":
      return { kind: "init", body: message };
    case "data":
      if (message.stream !== "stdin") return refuse(CLOSE_NOT_STDIN, "Can only write to stdin");
      if (typeof message.data !== "string") return refuse(PISTON_CLOSE.invalid, "data must be a string");
      return { kind: "input", input: { type: "stdin", data: message.data } };
    case "signal": {
      const parsed = LiveClientMessageSchema.safeParse({ type: "signal", signal: message.signal });
      if (!parsed.success || parsed.data.type !== "signal") return refuse(CLOSE_BAD_SIGNAL, "Invalid signal");
      return { kind: "input", input: parsed.data };
    }
    case "eof":
      return { kind: "input", input: { type: "eof" } };
    default:
      return refuse(PISTON_CLOSE.invalid, `Unknown message type ${String(message.type).slice(0, 40)}`);
  }
}

/** The language a Piston name or alias (or our own id) stands for. */
function pistonLanguage(
  definitions: ReadonlyMap<string, LanguageDefinition>,
  name: string,
): LanguageDefinition | undefined {
  const wanted = name.toLowerCase();
  for (const definition of definitions.values()) {
    const piston = definition.piston;
    if (piston && (piston.name === wanted || piston.aliases.includes(wanted))) return definition;
  }
  return definitions.get(wanted);
}

/** Piston's init as our job request (the first file is the entry file). */
function pistonRequest(body: unknown, languageOf: (name: string) => LanguageDefinition | undefined): unknown {
  const parsed = PistonInitSchema.safeParse(body);
  if (!parsed.success)
    throw new ServiceError("E_VALIDATION", parsed.error.issues[0]?.message ?? "invalid init");
  const init = parsed.data;
  const language = languageOf(init.language);
  if (!language)
    throw new ServiceError(
      "E_UNKNOWN_LANGUAGE",
      `${init.language}-${init.version ?? "*"} runtime is unknown`,
    );
  const files = init.files.map((file, i) => ({
    path: i === 0 ? language.sourceFile : (file.name ?? `file${i}.code`),
    content: file.encoding === "hex" ? Buffer.from(file.content, "hex").toString("base64") : file.content,
    encoding: file.encoding === "utf8" ? "utf8" : "base64",
  }));
  const given = (value: number | undefined) => (value !== undefined && value >= 0 ? value : undefined);
  const limits = {
    ...(given(init.run_timeout) !== undefined ? { wallTimeMs: init.run_timeout } : {}),
    ...(given(init.run_cpu_time) !== undefined ? { cpuTimeMs: init.run_cpu_time } : {}),
    ...(given(init.run_memory_limit) !== undefined ? { memoryBytes: init.run_memory_limit } : {}),
  };
  return { language: language.id, files, args: init.args, stdin: init.stdin, limits };
}
