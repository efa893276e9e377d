// Chart.js, registered with only what the dashboard draws (keeps the bundle small).
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

const reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;

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
      animation: reducedMotion ? false : { duration: 300 },
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
      scales: {
        x: { grid: { display: false } },
        y: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: "#e2e8f0" } },
      },
    },
  });
}
