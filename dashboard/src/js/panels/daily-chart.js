// A chart of daily numbers in a box of fixed height, with the same numbers as a table under it
// (collapsed). Chart.js lives in its own chunk (charts.js): it is loaded, and the chart drawn,
// only once the canvas comes into the viewport, so a page whose charts are below the fold (a
// phone) never pays for it until the user scrolls there.
import { h, replace } from "../dom.js";
import { section } from "../ui.js";

let chartsModule = null;
function loadCharts() {
  chartsModule = chartsModule || import("../charts.js");
  return chartsModule;
}

function dataTable(caption, headers, rows) {
  return h(
    "table",
    { class: "table" },
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row", class: "font-normal" }, c) : h("td", { class: "tabular-nums" }, c)))),
      ),
    ),
  );
}

/** Call `fn` once `el` is in the viewport (at once where that can't be told). */
function whenNearViewport(el, signal, fn) {
  if (typeof IntersectionObserver !== "function") {
    fn();
    return;
  }
  const observer = new IntersectionObserver(
    (entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      if (!signal.aborted) fn();
    },
    { rootMargin: "0px" },
  );
  observer.observe(el);
  signal.addEventListener("abort", () => observer.disconnect(), { once: true });
}

/**
 * dailyChartPanel({title, caption, headers, signal}) -> {node, update({label, labels, sets, rows})}
 * sets: [{label, data, color, type}] for the chart; rows: the table's rows (first cell a day).
 */
export function dailyChartPanel({ title, caption, headers, signal }) {
  const canvas = h("canvas", { role: "img", "aria-label": title });
  const tableBox = h("div", { class: "relative mt-2 max-h-60 overflow-auto" });
  const node = section(
    title,
    h("div", { class: "h-64 p-4" }, canvas),
    h(
      "details",
      { class: "border-t border-slate-100 px-4 py-2 text-sm" },
      h("summary", { class: "cursor-pointer text-slate-600" }, "Show as a table"),
      tableBox,
    ),
  );
  let chart = null;
  let latest = null;
  let watching = false;

  async function draw() {
    let charts;
    try {
      charts = await loadCharts();
    } catch {
      chartsModule = null; // the table still shows the numbers; try again on the next update
      watching = false;
      return;
    }
    if (signal.aborted || !latest) return;
    if (chart) charts.updateChart(chart, latest.labels, latest.sets);
    else {
      chart = charts.dailyChart(canvas, latest.labels, latest.sets);
      signal.addEventListener("abort", () => chart.destroy(), { once: true });
    }
    canvas.dataset.drawn = "";
  }

  function update({ label, labels, sets, rows }) {
    canvas.setAttribute("aria-label", label);
    replace(tableBox, dataTable(caption, headers, rows));
    latest = { labels, sets };
    if (chart) draw();
    else if (!watching) {
      watching = true;
      whenNearViewport(canvas, signal, draw);
    }
  }
  return { node, update };
}
