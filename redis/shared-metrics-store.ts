import type { Redis } from "ioredis";
import { z } from "zod";
import { parseJsonWith } from "../contract/parse-json.ts";
import { redisKeys } from "../contract/queue.ts";
import { type Labels, observationIncrements, type SharedMetric } from "../contract/shared-metrics.ts";

// Writes and reads the fleet-wide metrics hash (see contract/shared-metrics.ts). Fields are parsed
// back with their layout; a field that does not parse is skipped (it cannot be rendered as any
// metric), never trusted.

const LabelsSchema = z.record(z.string(), z.string());

export async function addToSharedMetric(
  redis: Redis,
  prefix: string,
  metric: SharedMetric,
  labels: Labels,
  value = 1,
): Promise<void> {
  const pipeline = redis.pipeline();
  for (const { field, by } of observationIncrements(metric, labels, value)) {
    pipeline.hincrbyfloat(redisKeys(prefix).metrics, field, by);
  }
  await pipeline.exec();
}

/** Prometheus text for every shared metric, from the hash. */
export async function renderSharedMetrics(
  redis: Redis,
  prefix: string,
  metrics: readonly SharedMetric[],
): Promise<string> {
  const all = await redis.hgetall(redisKeys(prefix).metrics);
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`);
    const groups = new Map<string, Map<string, string>>();
    for (const [field, value] of Object.entries(all)) {
      const parts = fieldParts(field, metric);
      if (!parts) continue;
      const { labelsJson, suffix } = parts;
      const group = groups.get(labelsJson) ?? new Map<string, string>();
      group.set(suffix, value);
      groups.set(labelsJson, group);
    }
    for (const [labelsJson, values] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      const parsedLabels = parseJsonWith(LabelsSchema, labelsJson);
      if (!parsedLabels) continue;
      const labels = Object.entries(parsedLabels).map(
        ([name, v]) => `${name}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`,
      );
      if (metric.type === "counter") {
        lines.push(`${metric.name}${braces(labels)} ${values.get("value") ?? 0}`);
        continue;
      }
      // Every bucket, even empty ones: Prometheus histograms are cumulative and complete.
      for (const bound of [...(metric.buckets ?? []).map(String), "+Inf"]) {
        lines.push(
          `${metric.name}_bucket${braces([...labels, `le="${bound}"`])} ${values.get(`le=${bound}`) ?? 0}`,
        );
      }
      lines.push(`${metric.name}_sum${braces(labels)} ${values.get("sum") ?? 0}`);
      lines.push(`${metric.name}_count${braces(labels)} ${values.get("count") ?? 0}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function fieldParts(field: string, metric: SharedMetric): { labelsJson: string; suffix: string } | null {
  const [name, labelsJson, suffix] = field.split("|");
  if (name !== metric.name || labelsJson === undefined || suffix === undefined) return null;
  return { labelsJson, suffix };
}

/** One metric's values from the hash (as read with HGETALL): labels, suffix (`value`, `sum`, `le=…`), number. */
export function sharedMetricValues(
  all: Record<string, string>,
  metric: SharedMetric,
): { labels: Labels; suffix: string; value: number }[] {
  return Object.entries(all).flatMap(([field, raw]) => {
    const parts = fieldParts(field, metric);
    const labels = parts ? parseJsonWith(LabelsSchema, parts.labelsJson) : null;
    const value = Number(raw);
    if (!parts || !labels || !Number.isFinite(value)) return [];
    return [{ labels, suffix: parts.suffix, value }];
  });
}

const braces = (labels: string[]) => (labels.length > 0 ? `{${labels.join(",")}}` : "");
