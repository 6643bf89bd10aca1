// Metrics that several processes add to: workers (verdicts, queue wait, run time, setup failures)
// and API processes (webhook deliveries). They live in one Redis hash so that GET /metrics on any
// API process shows the fleet's totals, and so that counters survive a worker's restart (a counter
// kept in a dead worker's memory would vanish). Fields are `<metric>|<labels JSON>|<suffix>`;
// histograms keep one field per cumulative bucket plus `sum` and `count`, as Prometheus does.

export interface SharedMetric {
  name: string;
  help: string;
  type: "counter" | "histogram";
  labelNames: readonly string[];
  /** Upper bounds in seconds (histograms only). */
  buckets?: readonly number[];
}

const secondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

export const sharedMetrics = {
  verdicts: {
    name: "cellblock_job_verdicts_total",
    help: "Finished jobs by language and verdict",
    type: "counter",
    labelNames: ["language", "verdict"],
  },
  queueWait: {
    name: "cellblock_job_queue_wait_seconds",
    help: "Time from submission until a worker started the job",
    type: "histogram",
    labelNames: ["band"],
    buckets: secondsBuckets,
  },
  runTime: {
    name: "cellblock_job_run_seconds",
    help: "Time a worker spent on a job (all its steps), by language",
    type: "histogram",
    labelNames: ["language"],
    buckets: secondsBuckets,
  },
  setupFailures: {
    name: "cellblock_sandbox_setup_failures_total",
    help: "Sandbox steps that failed to set up (internal_error), retried or not",
    type: "counter",
    labelNames: [],
  },
  webhookDeliveries: {
    name: "cellblock_webhook_deliveries_total",
    help: "Webhook delivery attempts by outcome (delivered, retrying, failed = gave up)",
    type: "counter",
    labelNames: ["outcome"],
  },
} as const satisfies Record<string, SharedMetric>;

export type Labels = Record<string, string>;

export function metricField(metric: SharedMetric, labels: Labels, suffix: string): string {
  const ordered = Object.fromEntries(metric.labelNames.map((name) => [name, labels[name] ?? ""]));
  return `${metric.name}|${JSON.stringify(ordered)}|${suffix}`;
}

/** The hash increments that record one observation (counter: +1; histogram: buckets, sum, count). */
export function observationIncrements(
  metric: SharedMetric,
  labels: Labels,
  value = 1,
): { field: string; by: number }[] {
  if (metric.type === "counter") return [{ field: metricField(metric, labels, "value"), by: value }];
  const increments = (metric.buckets ?? [])
    .filter((bound) => value <= bound)
    .map((bound) => ({ field: metricField(metric, labels, `le=${bound}`), by: 1 }));
  increments.push({ field: metricField(metric, labels, "le=+Inf"), by: 1 });
  increments.push({ field: metricField(metric, labels, "sum"), by: value });
  increments.push({ field: metricField(metric, labels, "count"), by: 1 });
  return increments;
}
