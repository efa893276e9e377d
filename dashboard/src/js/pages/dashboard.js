// The dashboard: stat cards, daily charts, the funnel, the leaderboard and recent calls for a
// date range (kept in the URL), refreshed every 30 s while the page is visible.
import * as api from "../api.js";
import { h, icon, isVisible, replace, setText } from "../dom.js";
import { dailyChart } from "../charts.js";
import {
  LEAD_STATUSES,
  addDays,
  callOutcome,
  duration,
  isoDay,
  label,
  number,
  percent,
  relative,
  shortDay,
} from "../format.js";
import { leadById, members } from "../store.js";
import { badge, emptyState, errorState, loading, nextId, pageHeader, section } from "../ui.js";

const REFRESH_MS = 30_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PRESETS = [
  ["today", "Today", 0],
  ["7", "Last 7 days", 6],
  ["30", "Last 30 days", 29],
  ["90", "Last 90 days", 89],
  ["custom", "Custom range", null],
];
const FUNNEL_COLORS = {
  new: "bg-sky-500",
  contacted: "bg-indigo-500",
  qualified: "bg-amber-500",
  not_interested: "bg-slate-400",
  converted: "bg-emerald-500",
};

function outcomeBadge(call) {
  const outcome = callOutcome(call);
  return outcome ? badge(outcome.key, outcome.short) : badge(call.status);
}

function todayIn(timezone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone || undefined }).format(new Date());
  } catch {
    return isoDay(new Date());
  }
}

function presetRange(days) {
  const end = new Date();
  return { from: isoDay(addDays(end, -days)), to: isoDay(end) };
}

export async function renderDashboard({ main, query, signal, navigate }) {
  let from = query.get("from");
  let to = query.get("to");
  if (!DAY.test(from || "") || !DAY.test(to || "")) ({ from, to } = presetRange(6));
  const preset =
    PRESETS.find(([, , days]) => days !== null && presetRange(days).from === from && presetRange(days).to === to)?.[0] ||
    "custom";

  // ------------------------------------------------------------ range picker
  const presetId = nextId("preset");
  const fromId = nextId("from");
  const toId = nextId("to");
  const presetSelect = h(
    "select",
    { id: presetId, class: "input" },
    PRESETS.map(([value, text]) => h("option", { value, selected: value === preset }, text)),
  );
  const fromInput = h("input", { id: fromId, type: "date", class: "input", value: from, max: to, required: true });
  const toInput = h("input", { id: toId, type: "date", class: "input", value: to, min: from, required: true });
  const rangeError = h("p", { class: "field-error w-full", role: "alert", hidden: true });
  const rangeForm = h(
    "form",
    { class: "flex flex-wrap items-end gap-2", "aria-label": "Date range", novalidate: true },
    h("div", {}, h("label", { for: presetId, class: "label" }, "Range"), presetSelect),
    h("div", {}, h("label", { for: fromId, class: "label" }, "From"), fromInput),
    h("div", {}, h("label", { for: toId, class: "label" }, "To"), toInput),
    h("button", { type: "submit", class: "btn btn-secondary" }, "Apply"),
    rangeError,
  );
  function go(f, t) {
    navigate(`#/?from=${f}&to=${t}`);
  }
  presetSelect.addEventListener("change", () => {
    const found = PRESETS.find(([v]) => v === presetSelect.value);
    if (found && found[2] !== null) {
      const r = presetRange(found[2]);
      go(r.from, r.to);
    } else {
      fromInput.focus();
    }
  });
  rangeForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = fromInput.value;
    const t = toInput.value;
    if (!DAY.test(f) || !DAY.test(t) || f > t) {
      setText(rangeError, "Choose a start date on or before the end date.");
      rangeError.hidden = false;
      return;
    }
    go(f, t);
  });

  // ------------------------------------------------------------ layout
  const updated = h("p", { class: "text-xs text-slate-500", "aria-live": "off" });
  const refreshBtn = h(
    "button",
    { type: "button", class: "btn btn-ghost btn-sm", "aria-label": "Refresh the numbers", onclick: () => refresh(true) },
    icon("refresh"),
    "Refresh",
  );
  const cards = h("div", { class: "grid grid-cols-2 gap-4 lg:grid-cols-4", "data-stat-cards": "" }, loading("Loading the numbers…"));
  const funnel = h("div", { class: "p-4" });
  const callsCanvas = h("canvas", { role: "img", "aria-label": "Calls and connects per day" });
  const smsCanvas = h("canvas", { role: "img", "aria-label": "Texts sent and received per day" });
  const callsTable = h("div", {});
  const smsTable = h("div", {});
  const leaderboard = h("div", {});
  const activity = h("div", {}, loading("Loading recent calls…"));
  const statsProblem = h("div", {});
  // Shown once numbers have loaded (an error leaves no empty frames behind).
  const statsParts = h(
    "div",
    { hidden: true },
    h(
      "div",
      { class: "mt-6 grid gap-6 lg:grid-cols-2" },
      section("Calls and connects per day", h("div", { class: "h-64 p-4" }, callsCanvas), callsTable),
      section("Texts per day", h("div", { class: "h-64 p-4" }, smsCanvas), smsTable),
    ),
    h(
      "div",
      { class: "mt-6 grid gap-6 lg:grid-cols-3" },
      h("div", { class: "lg:col-span-2" }, section("Leaderboard", leaderboard)),
      section("Leads by status", funnel),
    ),
  );

  replace(
    main,
    pageHeader("Dashboard"),
    h(
      "div",
      { class: "mb-6 flex flex-wrap items-end justify-between gap-3" },
      rangeForm,
      h("div", { class: "flex items-center gap-2" }, updated, refreshBtn),
    ),
    statsProblem,
    cards,
    statsParts,
    h("div", { class: "mt-6" }, section("Recent activity", activity)),
  );

  let callsChart = null;
  let smsChart = null;
  let timer = null;
  let stopped = false;

  function card(key, title, value, sub) {
    return h(
      "div",
      { class: "card p-4", "data-stat": key },
      h("p", { class: "text-sm font-medium text-slate-500" }, title),
      h("p", { class: "mt-1 text-3xl font-semibold tracking-tight text-slate-900 tabular-nums", "data-stat-value": "" }, value),
      sub ? h("p", { class: "mt-1 text-xs text-slate-500" }, sub) : null,
    );
  }

  function dataTable(caption, headers, rows) {
    return h(
      "details",
      { class: "border-t border-slate-100 px-4 py-2 text-sm" },
      h("summary", { class: "cursor-pointer text-slate-600" }, "Show as a table"),
      h(
        "div",
        { class: "relative mt-2 max-h-60 overflow-auto" },
        h(
          "table",
          { class: "table" },
          h("caption", { class: "sr-only" }, caption),
          h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row", class: "font-normal" }, c) : h("td", { class: "tabular-nums" }, c)))))),
        ),
      ),
    );
  }

  function render(stats, today) {
    const calls = stats.calls || {};
    const messages = stats.messages || {};
    const leads = stats.leads || { total: 0, byStatus: {} };
    const daily = Array.isArray(stats.daily) ? stats.daily : [];
    replace(
      cards,
      card("calls-today", "Calls today", number(today.calls), `${number(today.connected)} connected`),
      card("calls", "Calls in range", number(calls.placed), `${number(calls.connected)} connected`),
      card("connect-rate", "Connect rate", percent(calls.connectRate), `of ${number(calls.placed)} calls placed`),
      card("talk-time", "Talk time", duration(calls.talkSeconds), `avg ${duration(calls.avgTalkSeconds)} per connected call`),
      card("sms-delivered", "Texts delivered", number(messages.delivered), `${percent(messages.deliveryRate)} of ${number(messages.sent)} sent · ${number(messages.failed)} failed`),
      card("sms-inbound", "Replies received", number(messages.inbound), "inbound texts"),
      card("leads", "Leads", number(leads.total), `${number(leads.byStatus?.converted)} converted`),
      card("qualified", "Qualified", number(leads.byStatus?.qualified), "in the funnel now"),
    );

    const total = leads.total || 0;
    replace(
      funnel,
      total
        ? h(
            "ul",
            { class: "space-y-3", "data-funnel": "" },
            LEAD_STATUSES.map((s) => {
              const n = leads.byStatus?.[s] || 0;
              const pct = total ? Math.round((n / total) * 100) : 0;
              return h(
                "li",
                { "data-funnel-status": s },
                h("div", { class: "flex justify-between text-sm" }, h("span", {}, label(s)), h("span", { class: "tabular-nums text-slate-600" }, `${number(n)} · ${pct}%`)),
                h("div", { class: "mt-1 h-2 rounded-full bg-slate-100", "aria-hidden": "true" }, h("div", { class: `h-2 rounded-full ${FUNNEL_COLORS[s]}`, style: { width: `${pct}%` } })),
              );
            }),
          )
        : emptyState("No leads yet", "Import a CSV on the Leads page."),
    );

    const labels = daily.map((d) => shortDay(d.date));
    const callSets = [
      { label: "Calls", data: daily.map((d) => d.calls || 0), color: "#6366f1" },
      { label: "Connected", data: daily.map((d) => d.connected || 0), color: "#10b981", type: "line" },
    ];
    const smsSets = [
      { label: "Sent", data: daily.map((d) => d.messagesSent || 0), color: "#0ea5e9" },
      { label: "Received", data: daily.map((d) => d.messagesInbound || 0), color: "#f59e0b", type: "line" },
    ];
    callsCanvas.setAttribute("aria-label", `Calls and connects per day, ${number(calls.placed)} calls and ${number(calls.connected)} connected in total`);
    smsCanvas.setAttribute("aria-label", `Texts per day, ${number(messages.sent)} sent and ${number(messages.inbound)} received in total`);
    callsChart = updateChart(callsChart, callsCanvas, labels, callSets);
    smsChart = updateChart(smsChart, smsCanvas, labels, smsSets);
    replace(callsTable, dataTable("Calls per day", ["Day", "Calls", "Connected", "Talk time"], daily.map((d) => [d.date, number(d.calls), number(d.connected), duration(d.talkSeconds)])));
    replace(smsTable, dataTable("Texts per day", ["Day", "Sent", "Received"], daily.map((d) => [d.date, number(d.messagesSent), number(d.messagesInbound)])));

    const board = Array.isArray(stats.leaderboard) ? stats.leaderboard : [];
    replace(
      leaderboard,
      board.length
        ? h(
            "div",
            { class: "relative overflow-x-auto" },
            h(
              "table",
              { class: "table", "aria-label": "Leaderboard", "data-leaderboard": "" },
              h(
                "thead",
                { class: "bg-slate-50" },
                h(
                  "tr",
                  {},
                  h("th", { scope: "col", class: "w-10" }, "#"),
                  h("th", { scope: "col" }, "Member"),
                  h("th", { scope: "col", class: "text-right" }, "Calls"),
                  h("th", { scope: "col", class: "text-right" }, "Connected"),
                  h("th", { scope: "col", class: "hidden text-right sm:table-cell" }, "Talk time"),
                  h("th", { scope: "col", class: "hidden text-right md:table-cell" }, "Texts"),
                  h("th", { scope: "col", class: "hidden text-right md:table-cell" }, "Converted"),
                ),
              ),
              h(
                "tbody",
                { class: "divide-y divide-slate-100" },
                board.map((r, i) =>
                  h(
                    "tr",
                    { "data-member-id": r.teamMemberId },
                    h("td", { class: "tabular-nums text-slate-500" }, String(i + 1)),
                    h("th", { scope: "row", class: "px-3 py-2.5 text-left font-medium text-slate-900" }, r.name || "Unknown member"),
                    h("td", { class: "text-right tabular-nums" }, number(r.calls)),
                    h("td", { class: "text-right tabular-nums" }, number(r.connected), r.calls ? h("span", { class: "ml-1 text-xs text-slate-500" }, `(${percent(r.connected / r.calls)})`) : null),
                    h("td", { class: "hidden text-right tabular-nums sm:table-cell" }, duration(r.talkSeconds)),
                    h("td", { class: "hidden text-right tabular-nums md:table-cell" }, number(r.messagesSent)),
                    h("td", { class: "hidden text-right tabular-nums md:table-cell" }, number(r.converted)),
                  ),
                ),
              ),
            ),
          )
        : emptyState("Nobody has called or texted in this range yet.", null),
    );
  }

  function updateChart(chart, canvas, labels, sets) {
    if (!chart) return dailyChart(canvas, labels, sets);
    chart.data.labels = labels;
    sets.forEach((s, i) => {
      chart.data.datasets[i].data = s.data;
    });
    chart.update("none");
    return chart;
  }

  async function loadActivity() {
    let list;
    try {
      const team = (await members({ fresh: true })).filter((m) => m.active).slice(0, 20);
      const pages = await Promise.all(team.map((m) => api.recentCallsForMember(m.id, 5, signal)));
      const names = new Map(team.map((m) => [m.id, m.name]));
      list = pages
        .flatMap((p) => p.items || [])
        .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
        .slice(0, 10)
        .map((c) => ({ call: c, who: names.get(c.teamMemberId) || "A team member" }));
    } catch (err) {
      if (err?.name === "AbortError" || stopped) return;
      replace(activity, errorState(err, loadActivity, "Recent calls are unavailable"));
      return;
    }
    if (stopped) return;
    if (!list.length) {
      replace(activity, emptyState("No calls yet", "Open a lead and press Call."));
      return;
    }
    const leads = await Promise.all(list.map((x) => leadById(x.call.leadId)));
    if (stopped) return;
    replace(
      activity,
      h(
        "ul",
        { class: "divide-y divide-slate-100", "data-activity": "" },
        list.map(({ call, who }, i) => {
          const lead = leads[i];
          return h(
            "li",
            { class: "flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3 text-sm" },
            h("span", { class: "grid size-7 place-items-center rounded-full bg-emerald-100 text-emerald-700", "aria-hidden": "true" }, icon("phone", "size-3.5")),
            h(
              "span",
              { class: "min-w-0 flex-1" },
              `${who} called `,
              lead
                ? h("a", { href: `#/leads/${encodeURIComponent(lead.id)}`, class: "link" }, lead.name)
                : h("span", { class: "text-slate-500" }, "an archived lead"),
              call.talkSeconds ? h("span", { class: "text-slate-500" }, ` · ${duration(call.talkSeconds)}`) : null,
            ),
            outcomeBadge(call),
            h("time", { class: "text-xs text-slate-500", datetime: call.createdAt || "" }, relative(call.createdAt)),
          );
        }),
      ),
    );
  }

  async function refresh(manual = false) {
    clearTimeout(timer);
    if (manual) replace(statsProblem);
    try {
      const stats = await api.stats({ from, to }, signal);
      const today = todayIn(stats.timezone);
      let todayRow = (stats.daily || []).find((d) => d.date === today);
      if (!todayRow) {
        const t = await api.stats({ from: today, to: today }, signal);
        todayRow = (t.daily || [])[0] || { calls: t.calls?.placed || 0, connected: t.calls?.connected || 0 };
      }
      if (stopped) return;
      replace(statsProblem);
      statsParts.hidden = false;
      render(stats, todayRow);
      setText(updated, `Updated ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      if (err?.name === "AbortError" || stopped) return;
      replace(statsProblem, errorState(err, () => refresh(true), "Could not load the numbers"));
      if (cards.querySelector('[role="status"]')) replace(cards);
    }
    loadActivity();
    if (!stopped) {
      timer = setTimeout(function tick() {
        if (isVisible()) refresh();
        else timer = setTimeout(tick, REFRESH_MS);
      }, REFRESH_MS);
    }
  }

  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (callsChart) callsChart.destroy();
    if (smsChart) smsChart.destroy();
  };
}
