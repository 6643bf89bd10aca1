import type { RequestLimits } from "../../../contract/job-request.ts";
import type { LanguageInfo } from "../../../contract/language-info.ts";
import { byId } from "../shared/dom.ts";
import { formatBytes, formatMs } from "../shared/format.ts";

// The collapsed "Limits" section: each field empty by default (the language's limit applies, shown
// as the placeholder); a value is sent in the request, and the server refuses one above its
// ceiling with a 400 naming the field. Memory is entered in MiB and output in KiB, the units people
// think in; the request carries bytes.

interface LimitField {
  id: string;
  key: keyof RequestLimits;
  /** Bytes (or ms, or tasks) per unit typed into the field. */
  scale: number;
  show: (value: number) => string;
}

const fields: LimitField[] = [
  { id: "limit-cpu", key: "cpuTimeMs", scale: 1, show: formatMs },
  { id: "limit-wall", key: "wallTimeMs", scale: 1, show: formatMs },
  { id: "limit-memory", key: "memoryBytes", scale: 1024 * 1024, show: formatBytes },
  { id: "limit-pids", key: "pids", scale: 1, show: String },
  { id: "limit-output", key: "outputBytes", scale: 1024, show: formatBytes },
];

export function readLimits(): RequestLimits {
  const limits: RequestLimits = {};
  for (const field of fields) {
    const raw = byId<HTMLInputElement>(field.id).value.trim();
    if (raw === "") continue;
    const value = Math.round(Number(raw) * field.scale);
    if (Number.isFinite(value) && value > 0) limits[field.key] = value;
  }
  return limits;
}

/** Shows the language's own limits as placeholders, in the fields' units. */
export function showLanguageLimits(language: LanguageInfo): void {
  for (const field of fields) {
    const value = language.limits[field.key];
    const input = byId<HTMLInputElement>(field.id);
    input.placeholder = value === undefined ? "" : String(value / field.scale);
    input.title = value === undefined ? "" : `Default for ${language.name}: ${field.show(value)}`;
  }
}
