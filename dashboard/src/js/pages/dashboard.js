// The dashboard: stat cards, daily charts, the funnel, the leaderboard, recent calls and the
// member's callbacks (panels/callbacks.js), for a
// date range (kept in the URL), refreshed every 30 s while the page is visible. Two resources
// (the range's stats, the recent calls) and one panel per region; every region has its final
// size from the start (skeletons), so nothing moves when the numbers arrive.
import * as api from "../api.js";
import { h, icon, replace, setText } from "../dom.js";
import { duration, isoDay, number, shortDay } from "../format.js";
import { panel } from "../panel.js";
import { dailyChartPanel } from "../panels/daily-chart.js";
import { FUNNEL_BOX, funnel, funnelSkeleton } from "../panels/funnel.js";
import { LEADERBOARD_BOX, leaderboard } from "../panels/leaderboard.js";
import { rangeFromQuery, rangePicker } from "../panels/range-picker.js";
import { callbacksPanel } from "../panels/callbacks.js";
import { loadRecentCalls, recentActivity } from "../panels/recent-activity.js";
import { STAT_GRID, statCards, statCardsSkeleton } from "../panels/stat-cards.js";
import { resource } from "../store.js";
import { errorState, loading, pageHeader, section } from "../ui.js";

const REFRESH_MS = 30_000;

function todayIn(timezone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone || undefined }).format(new Date());
  } catch {
    return isoDay(new Date());
  }
}

/** The range's stats, and today's row ({calls, connected}) even when today is outside it. */
async function loadStats({ from, to }, signal) {
  const stats = await api.stats({ from, to }, signal);
  const today = todayIn(stats.timezone);
  let todayRow = (stats.daily || []).find((d) => d.date === today);
  if (!todayRow) {
    const t = await api.stats({ from: today, to: today }, signal);
    todayRow = (t.daily || [])[0] || { calls: t.calls?.placed || 0, connected: t.calls?.connected || 0 };
  }
  return { stats, today: todayRow };
}

function charts(signal) {
  const calls = dailyChartPanel({ title: "Calls and connects per day", caption: "Calls per day", headers: ["Day", "Calls", "Connected", "Talk time"], signal });
  const texts = dailyChartPanel({ title: "Texts per day", caption: "Texts per day", headers: ["Day", "Sent", "Received"], signal });
  function update(stats) {
    const daily = Array.isArray(stats.daily) ? stats.daily : [];
    const labels = daily.map((d) => shortDay(d.date));
    const c = stats.calls || {};
    const m = stats.messages || {};
    calls.update({
      label: `Calls and connects per day, ${number(c.placed)} calls and ${number(c.connected)} connected in total`,
      labels,
      sets: [
        { label: "Calls", data: daily.map((d) => d.calls || 0), color: "#6366f1" },
        { label: "Connected", data: daily.map((d) => d.connected || 0), color: "#10b981", type: "line" },
      ],
      rows: daily.map((d) => [d.date, number(d.calls), number(d.connected), duration(d.talkSeconds)]),
    });
    texts.update({
      label: `Texts per day, ${number(m.sent)} sent and ${number(m.inbound)} received in total`,
      labels,
      sets: [
        { label: "Sent", data: daily.map((d) => d.messagesSent || 0), color: "#0ea5e9" },
        { label: "Received", data: daily.map((d) => d.messagesInbound || 0), color: "#f59e0b", type: "line" },
      ],
      rows: daily.map((d) => [d.date, number(d.messagesSent), number(d.messagesInbound)]),
    });
  }
  return { nodes: [calls.node, texts.node], update };
}

/** The page's regions, each at its final size from the start. */
function regions(signal) {
  const r = {
    updated: h("p", { class: "text-xs text-slate-600", "aria-live": "off" }),
    refresh: h("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": "Refresh the numbers" }, icon("refresh"), "Refresh"),
    problem: h("div", {}),
    cards: h("div", { class: STAT_GRID, "data-stat-cards": "" }, statCardsSkeleton()),
    charts: charts(signal),
    board: h("div", { class: LEADERBOARD_BOX }),
    funnel: h("div", { class: FUNNEL_BOX }, funnelSkeleton()),
    activity: h("div", {}),
  };
  r.chartGrid = h("div", { class: "mt-6 grid gap-6 lg:grid-cols-2" }, r.charts.nodes);
  // Frames that only make sense with numbers: gone if the first load fails.
  r.statsParts = h(
    "div",
    {},
    r.chartGrid,
    h(
      "div",
      { class: "mt-6 grid gap-6 lg:grid-cols-3" },
      h("div", { class: "lg:col-span-2" }, section("Leaderboard", r.board)),
      section("Leads by status", r.funnel),
    ),
  );
  return r;
}

/** One resource, several panels: each region redraws from the same load. */
function followStats(stats, r, retry) {
  const numbers = (draw) => ({ loading: null, error: null, render: draw });
  const neverLoaded = () => stats.get().data === undefined;
  panel(r.cards, stats, { loading: null, render: (d) => statCards(d.stats, d.today), error: () => (neverLoaded() ? [] : undefined) });
  panel(r.statsParts, stats, {
    loading: null,
    render: () => {
      r.statsParts.hidden = false;
    },
    error: () => {
      r.statsParts.hidden = neverLoaded();
    },
  });
  panel(r.problem, stats, { loading: null, render: () => [], error: (err) => errorState(err, retry, "Could not load the numbers") });
  panel(r.updated, stats, numbers(() => `Updated ${new Date().toLocaleTimeString()}`));
  panel(r.board, stats, numbers((d) => leaderboard(d.stats)));
  panel(r.funnel, stats, numbers((d) => funnel(d.stats)));
  panel(r.chartGrid, stats, numbers((d) => r.charts.update(d.stats)));
}

export async function renderDashboard({ main, query, signal, navigate }) {
  const range = rangeFromQuery(query);
  const stats = resource((s) => loadStats(range, s), { signal, every: REFRESH_MS });
  const activity = resource(loadRecentCalls, { signal, every: REFRESH_MS });
  const r = regions(signal);
  const callbacks = callbacksPanel(signal);
  replace(
    main,
    pageHeader("Dashboard"),
    h(
      "div",
      { class: "mb-6 flex flex-wrap items-end justify-between gap-3" },
      rangePicker(range, (f, t) => navigate(`#/?from=${f}&to=${t}`)),
      h("div", { class: "flex items-center gap-2" }, r.updated, r.refresh),
    ),
    r.problem,
    r.cards,
    r.statsParts,
    h("div", { class: "mt-6" }, section("Recent activity", r.activity)),
    h("div", { class: "mt-6" }, section("Your callbacks", callbacks.node)),
  );
  const refreshAll = () => {
    replace(r.problem);
    return Promise.all([stats.refresh(), activity.refresh()]);
  };
  followStats(stats, r, refreshAll);
  panel(r.activity, activity, { loading: () => loading("Loading recent calls…"), render: recentActivity, title: "Recent calls are unavailable" });
  r.refresh.addEventListener("click", refreshAll);
  activity.start();
  await stats.start();
}
