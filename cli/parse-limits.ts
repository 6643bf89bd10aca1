import type { StepLimits } from "../contract/limits.ts";

// `--limits cpu=1s,memory=64M,pids=32`: the contract's five per-run limits, by their names or a
// short alias, with units a person would type. Unknown names and bad values are errors naming
// them; the service still checks the numbers against its ceilings.

const aliases: Record<string, keyof StepLimits> = {
  cpu: "cpuTimeMs",
  cputimems: "cpuTimeMs",
  wall: "wallTimeMs",
  walltimems: "wallTimeMs",
  memory: "memoryBytes",
  mem: "memoryBytes",
  memorybytes: "memoryBytes",
  pids: "pids",
  output: "outputBytes",
  outputbytes: "outputBytes",
};

const timeUnits: Record<string, number> = { "": 1, ms: 1, s: 1000 };
const byteUnits: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

function parseValue(name: keyof StepLimits, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const units = name.endsWith("Ms") ? timeUnits : name.endsWith("Bytes") ? byteUnits : { "": 1 };
  const factor = match ? units[(match[2] ?? "").toLowerCase()] : undefined;
  const value = match && factor !== undefined ? Math.round(Number(match[1]) * factor) : Number.NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    const hint = name.endsWith("Ms")
      ? "e.g. 1500, 1500ms, 2s"
      : name.endsWith("Bytes")
        ? "e.g. 64M, 512K, 1G"
        : "a whole number";
    throw new Error(`--limits ${name}: "${raw}" is not a positive amount (${hint})`);
  }
  return value;
}

export function parseLimits(spec: string): StepLimits {
  const limits: StepLimits = {};
  for (const part of spec.split(",").filter((p) => p.trim() !== "")) {
    const [rawName = "", rawValue] = part.split("=", 2);
    const name = aliases[rawName.trim().toLowerCase()];
    if (!name || rawValue === undefined) {
      throw new Error(
        `--limits: "${part}" is not name=value with a name among cpu, wall, memory, pids, output`,
      );
    }
    limits[name] = parseValue(name, rawValue);
  }
  return limits;
}
