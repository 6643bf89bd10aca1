// A small time-series chart as SVG, drawn by hand: an area under a line over a fixed time window,
// gaps where there is no value (no jobs started → no mean wait). A chart library would be most of
// the page's weight for four of these.

const SVG = "http://www.w3.org/2000/svg";

export interface SeriesPoint {
  atMs: number;
  value: number | null;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  return element;
}

const WIDTH = 300;
const HEIGHT = 70;

export function sparkline(
  points: SeriesPoint[],
  window: { fromMs: number; toMs: number },
  label: string,
  floorMax = 1,
): SVGSVGElement {
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const max = Math.max(floorMax, ...values) * 1.1;
  const x = (atMs: number) => ((atMs - window.fromMs) / (window.toMs - window.fromMs)) * WIDTH;
  const y = (value: number) => HEIGHT - 2 - (value / max) * (HEIGHT - 6);

  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: "none",
    class: "sparkline",
    role: "img",
    "aria-label": label,
  });
  chart.append(svg("line", { x1: 0, x2: WIDTH, y1: HEIGHT - 2, y2: HEIGHT - 2, class: "baseline" }));

  // Consecutive points with values form one run; a null breaks the line.
  const runs: SeriesPoint[][] = [];
  let run: SeriesPoint[] = [];
  for (const point of points) {
    if (point.value === null) {
      if (run.length > 0) runs.push(run);
      run = [];
    } else run.push(point);
  }
  if (run.length > 0) runs.push(run);

  for (const segment of runs) {
    const coords = segment.map((p) => `${x(p.atMs).toFixed(1)},${y(p.value ?? 0).toFixed(1)}`);
    const first = segment[0] as SeriesPoint;
    const last = segment[segment.length - 1] as SeriesPoint;
    if (segment.length === 1) {
      chart.append(svg("circle", { cx: x(first.atMs), cy: y(first.value ?? 0), r: 2, class: "dot" }));
      continue;
    }
    const area = `M${x(first.atMs).toFixed(1)},${HEIGHT - 2} L${coords.join(" L")} L${x(last.atMs).toFixed(1)},${HEIGHT - 2} Z`;
    chart.append(svg("path", { d: area, class: "area" }));
    chart.append(svg("polyline", { points: coords.join(" "), class: "line" }));
  }
  return chart;
}
