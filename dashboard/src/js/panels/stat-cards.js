// The dashboard's stat cards. Until the numbers load, the same cards stand there as skeletons
// of the same size (titles known, values shaded), so nothing below them moves when they land.
import { h } from "../dom.js";
import { duration, number, percent } from "../format.js";

const CARDS = [
  ["calls-today", "Calls today"],
  ["calls", "Calls in range"],
  ["connect-rate", "Connect rate"],
  ["talk-time", "Talk time"],
  ["sms-delivered", "Texts delivered"],
  ["sms-inbound", "Replies received"],
  ["leads", "Leads"],
  ["meetings", "Meetings booked"],
];

// Fixed line boxes: the value one line of text-3xl, the note up to two lines of text-xs on
// phones (where cards are narrow) and one elsewhere.
const VALUE = "mt-1 h-9 text-3xl font-semibold tracking-tight text-slate-900 tabular-nums";
const NOTE = "mt-1 min-h-8 text-xs text-slate-600 sm:min-h-4";

export const STAT_GRID = "grid grid-cols-2 gap-4 lg:grid-cols-4";

function card(key, title, value, note) {
  return h(
    "div",
    { class: "card p-4", "data-stat": key },
    h("p", { class: "text-sm font-medium text-slate-600" }, title),
    h("p", { class: VALUE, "data-stat-value": "" }, value),
    h("p", { class: NOTE }, note),
  );
}

/** The cards while the numbers load (no data-stat attributes: nothing to read yet). */
export function statCardsSkeleton() {
  return [
    h("p", { class: "sr-only", role: "status" }, "Loading the numbers…"),
    CARDS.map(([, title]) =>
      h(
        "div",
        { class: "card p-4", "data-skeleton": "", "aria-hidden": "true" },
        h("p", { class: "text-sm font-medium text-slate-600" }, title),
        h("div", { class: "mt-1 flex h-9 items-center" }, h("span", { class: "skeleton h-7 w-20" })),
        h("div", { class: NOTE }, h("span", { class: "skeleton mt-1 h-3 w-28" })),
      ),
    ),
  ];
}

/** The cards for the range's stats and today's row ({calls, connected}). */
export function statCards(stats, today) {
  const calls = stats.calls || {};
  const messages = stats.messages || {};
  const leads = stats.leads || { total: 0, byStatus: {} };
  const values = {
    "calls-today": [number(today.calls), `${number(today.connected)} connected`],
    calls: [number(calls.placed), `${number(calls.connected)} connected`],
    "connect-rate": [percent(calls.connectRate), `of ${number(calls.placed)} calls placed`],
    "talk-time": [duration(calls.talkSeconds), `avg ${duration(calls.avgTalkSeconds)} per connected call`],
    "sms-delivered": [
      number(messages.delivered),
      `${percent(messages.deliveryRate)} of ${number(messages.sent)} sent · ${number(messages.failed)} failed`,
    ],
    "sms-inbound": [number(messages.inbound), "inbound texts"],
    leads: [number(leads.total), `${number(leads.byStatus?.converted)} converted`],
    meetings: [number(calls.byDisposition?.meeting_booked), `${number(leads.byStatus?.qualified)} leads qualified now`],
  };
  return CARDS.map(([key, title]) => card(key, title, ...values[key]));
}
