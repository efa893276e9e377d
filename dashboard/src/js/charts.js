// Chart.js, registered with only what the dashboard draws. Loaded on demand (a dynamic import
// in panels/daily-chart.js), so the build puts it in a chunk of its own that no page but one
// with a chart on screen ever fetches.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.color = "#475569";

/**
 * A bar+line chart of daily series. datasets: [{label, data, color, type: "bar"|"line"}].
 * Returns the Chart (call .destroy() when the page goes).
 */
export function dailyChart(canvas, labels, datasets) {
  return new Chart(canvas, {
    data: {
      labels,
      datasets: datasets.map((d) => ({
        type: d.type || "bar",
        label: d.label,
        data: d.data,
        backgroundColor: d.type === "line" ? `${d.color}33` : d.color,
        borderColor: d.color,
        borderWidth: d.type === "line" ? 2 : 0,
        borderRadius: d.type === "line" ? 0 : 4,
        pointRadius: d.type === "line" ? 3 : 0,
        tension: 0.3,
        fill: d.type === "line" ? false : undefined,
        order: d.type === "line" ? 0 : 1,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      // No entry animation: each animated frame is a long task on a slow phone, and the numbers
      // are what matter (updates are not animated either).
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
      scales: {
        x: { grid: { display: false } },
        y: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: "#e2e8f0" } },
      },
    },
  });
}

/** New labels and data for a chart drawn by dailyChart (same series, same order). */
export function updateChart(chart, labels, datasets) {
  chart.data.labels = labels;
  datasets.forEach((d, i) => {
    chart.data.datasets[i].data = d.data;
  });
  chart.update("none");
}
