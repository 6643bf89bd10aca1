import "../shared/base.css";
import "./status.css";
import type { StatusView } from "../../../contract/status.ts";
import { ApiClient } from "../shared/api-client.ts";
import { byId, h, replaceChildren } from "../shared/dom.ts";
import { formatAgo, formatCount, formatMs } from "../shared/format.ts";
import { askForKey, wireKeyButton } from "../shared/key-dialog.ts";
import { lookOf } from "../shared/verdicts.ts";
import { type SeriesPoint, sparkline } from "./sparkline.ts";

// The operations page (/status): GET /status.json every two seconds while the tab is visible —
// workers and their slots, the queue, rates and waits over the last 15 minutes, the verdict mix,
// recent sandbox setup failures. The same numbers as /metrics and /workers, read for a person.

const REFRESH_MS = 2000;
/** A heartbeat older than this many intervals is shown as late (the API drops a worker after 3). */
const HEARTBEAT_LATE_FACTOR = 2;

const api = new ApiClient(askForKey);
let timer: number | undefined;
let lastOk = 0;

function tile(label: string, value: string, detail: string, tone = ""): HTMLElement {
  return h(
    "div",
    { class: `card tile ${tone}` },
    h("div", { class: "tile-label muted" }, label),
    h("div", { class: "tile-value" }, value),
    h("div", { class: "tile-detail muted" }, detail),
  );
}

function chart(
  title: string,
  points: SeriesPoint[],
  view: StatusView,
  format: (v: number) => string,
  floorMax = 1,
) {
  const latest = [...points].reverse().find((p) => p.value !== null)?.value ?? null;
  // The axis starts at the oldest sample when the history is younger than 15 minutes (a service
  // just started), so a few seconds of data are not a sliver at the right edge.
  const oldest = points[0]?.atMs ?? view.nowMs;
  const fromMs = Math.max(view.nowMs - 15 * 60_000, oldest - view.sampleIntervalMs);
  const window = { fromMs, toMs: view.nowMs };
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const peak = values.length > 0 ? Math.max(...values) : null;
  const label = `${title} since ${formatAgo(view.nowMs - fromMs)}: now ${latest === null ? "no data" : format(latest)}${peak === null ? "" : `, peak ${format(peak)}`}`;
  return h(
    "figure",
    { class: "card chart" },
    h("figcaption", {}, h("span", {}, title), h("strong", {}, latest === null ? "—" : format(latest))),
    sparkline(points, window, label, floorMax),
    h(
      "div",
      { class: "axis muted" },
      h("span", {}, formatAgo(view.nowMs - fromMs)),
      h("span", {}, peak === null ? "" : `peak ${format(peak)}`),
      h("span", {}, "now"),
    ),
  );
}

function renderTiles(view: StatusView): void {
  const slots = view.workers.reduce((sum, w) => sum + w.slots, 0);
  const busy = view.workers.reduce((sum, w) => sum + w.busySlots, 0);
  const last = view.history.at(-1);
  const failures = view.setupFailures.filter((f) => f.atMs > view.nowMs - 15 * 60_000).length;
  replaceChildren(
    byId("tiles"),
    tile(
      "Workers",
      String(view.workers.length),
      view.workers.length === 0 ? "none alive" : "alive",
      view.workers.length === 0 ? "tile-bad" : "",
    ),
    tile("Slots busy", `${busy} / ${slots}`, `${Math.max(0, slots - busy)} free`),
    tile("Queue depth", String(view.queue.depth), `${view.queue.active} running`),
    tile("Jobs / min", last ? formatCount(last.jobsPerMinute) : "—", "last minute"),
    tile(
      "Mean queue wait",
      last?.meanQueueWaitMs != null ? formatMs(last.meanQueueWaitMs) : "—",
      "last minute",
    ),
    tile("Setup failures", String(failures), "last 15 min", failures > 0 ? "tile-bad" : ""),
  );
}

function renderCharts(view: StatusView): void {
  const at = (pick: (p: StatusView["history"][number]) => number | null) =>
    view.history.map((p) => ({ atMs: p.atMs, value: pick(p) }));
  replaceChildren(
    byId("charts"),
    chart(
      "Queue depth",
      at((p) => p.queueDepth),
      view,
      (v) => String(Math.round(v)),
    ),
    chart(
      "Mean queue wait",
      at((p) => p.meanQueueWaitMs),
      view,
      formatMs,
      10,
    ),
    chart(
      "Jobs per minute",
      at((p) => p.jobsPerMinute),
      view,
      formatCount,
    ),
    chart(
      "Busy slots",
      at((p) => p.busySlots),
      view,
      (v) => String(Math.round(v)),
      Math.max(1, ...view.history.map((p) => p.slots)),
    ),
  );
}

function renderVerdicts(view: StatusView): void {
  const entries = Object.entries(view.recentVerdicts).sort(([, a], [, b]) => b - a);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) {
    replaceChildren(byId("verdicts"), h("p", { class: "muted" }, "No jobs finished in the last 15 minutes."));
    return;
  }
  const bar = h("div", {
    class: "mix",
    role: "img",
    "aria-label": entries.map(([v, n]) => `${lookOf(v).label} ${n}`).join(", "),
  });
  const legend = h("ul", { class: "legend" });
  for (const [verdict, count] of entries) {
    const look = lookOf(verdict);
    const part = h("span", { class: `mix-part fill-${look.tone}`, title: `${look.label}: ${count}` });
    part.style.flexGrow = String(count); // CSSOM, not a style attribute: allowed by the CSP
    bar.append(part);
    legend.append(
      h(
        "li",
        {},
        h("span", { class: `badge tone-${look.tone}`, "data-verdict": verdict }, look.label),
        ` ${count} (${Math.round((count / total) * 100)}%)`,
      ),
    );
  }
  replaceChildren(byId("verdicts"), bar, legend, h("p", { class: "muted" }, `${total} jobs`));
}

function renderWorkers(view: StatusView): void {
  if (view.workers.length === 0) {
    replaceChildren(
      byId("workers"),
      h(
        "p",
        { class: "error-banner" },
        "No worker has sent a heartbeat recently: jobs will wait in the queue.",
      ),
    );
    return;
  }
  const rows = view.workers.map((worker) => {
    const seen = worker.seenAt ? Date.parse(worker.seenAt) : Number.NaN;
    const ago = Number.isNaN(seen) ? "—" : formatAgo(view.nowMs - seen);
    const stale = !Number.isNaN(seen) && view.nowMs - seen > HEARTBEAT_LATE_FACTOR * view.heartbeatIntervalMs;
    const slotBar = h("span", {
      class: "slots",
      role: "img",
      "aria-label": `${worker.busySlots} of ${worker.slots} slots busy`,
    });
    for (let i = 0; i < worker.slots; i++)
      slotBar.append(h("span", { class: i < worker.busySlots ? "slot busy" : "slot" }));
    return h(
      "tr",
      { "data-worker": worker.id },
      h(
        "td",
        {},
        h("strong", {}, worker.host),
        h("div", { class: "muted mono" }, `${worker.id.slice(0, 12)} · pid ${worker.pid}`),
      ),
      h(
        "td",
        {},
        slotBar,
        h("div", { class: "muted" }, `${worker.busySlots} busy, ${worker.slots - worker.busySlots} free`),
      ),
      h("td", { class: "languages" }, worker.languages.join(", ")),
      h("td", { class: stale ? "warn" : "" }, ago),
      h(
        "td",
        {},
        h(
          "span",
          {
            class: `badge ${worker.selfCheck.ok ? "tone-good" : "tone-bad"}`,
            title: worker.selfCheck.detail,
          },
          worker.selfCheck.ok ? "passed" : "failed",
        ),
      ),
    );
  });
  replaceChildren(
    byId("workers"),
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Host"),
          h("th", { scope: "col" }, "Slots"),
          h("th", { scope: "col" }, "Languages"),
          h("th", { scope: "col" }, "Last heartbeat"),
          h("th", { scope: "col" }, "Sandbox self-check"),
        ),
      ),
      h("tbody", {}, ...rows),
    ),
  );
}

function renderFailures(view: StatusView): void {
  if (view.setupFailures.length === 0) {
    replaceChildren(byId("failures"), h("p", { class: "muted" }, "None recorded."));
    return;
  }
  const rows = view.setupFailures.map((f) =>
    h(
      "tr",
      {},
      h("td", {}, formatAgo(view.nowMs - f.atMs)),
      h("td", {}, f.host),
      h("td", { class: "mono" }, f.jobId),
      h("td", {}, f.language),
      h("td", { class: "mono" }, f.error),
      h("td", {}, f.retried ? "retried" : "gave up"),
    ),
  );
  replaceChildren(
    byId("failures"),
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["When", "Host", "Job", "Language", "Error", "Outcome"].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h("tbody", {}, ...rows),
    ),
  );
}

async function refresh(): Promise<void> {
  window.clearTimeout(timer);
  try {
    const { body: view } = await api.request<StatusView>("GET", "/status.json");
    replaceChildren(byId("problem"));
    renderTiles(view);
    renderCharts(view);
    renderVerdicts(view);
    renderWorkers(view);
    renderFailures(view);
    lastOk = Date.now();
    document.body.dataset.ready = "true";
  } catch (error) {
    replaceChildren(
      byId("problem"),
      h(
        "p",
        { class: "error-banner", role: "alert" },
        `Could not read the status: ${(error as Error).message}`,
      ),
    );
  }
  byId("updated").textContent = lastOk ? `updated ${new Date(lastOk).toLocaleTimeString()}` : "";
  if (!document.hidden) timer = window.setTimeout(() => void refresh(), REFRESH_MS);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void refresh();
});
wireKeyButton(byId<HTMLButtonElement>("key-button"), api, () => void refresh());
void refresh();
