// The dashboard's leaderboard: who called, connected, booked meetings and texted most in the
// range.
import { h } from "../dom.js";
import { duration, number, percent } from "../format.js";
import { emptyState } from "../ui.js";

// At least the height of five rows, so the page below does not move when a small team loads.
export const LEADERBOARD_BOX = "min-h-60";

function head() {
  return h(
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
      h("th", { scope: "col", class: "hidden text-right sm:table-cell" }, "Meetings"),
      h("th", { scope: "col", class: "hidden text-right md:table-cell" }, "Converted"),
    ),
  );
}

function row(r, i) {
  return h(
    "tr",
    { "data-member-id": r.teamMemberId },
    h("td", { class: "tabular-nums text-slate-600" }, String(i + 1)),
    h("th", { scope: "row", class: "px-3 py-2.5 text-left font-medium text-slate-900" }, r.name || "Unknown member"),
    h("td", { class: "text-right tabular-nums" }, number(r.calls)),
    h(
      "td",
      { class: "text-right tabular-nums" },
      number(r.connected),
      r.calls ? h("span", { class: "ml-1 text-xs text-slate-600" }, `(${percent(r.connected / r.calls)})`) : null,
    ),
    h("td", { class: "hidden text-right tabular-nums sm:table-cell" }, duration(r.talkSeconds)),
    h("td", { class: "hidden text-right tabular-nums md:table-cell" }, number(r.messagesSent)),
    h("td", { class: "hidden text-right tabular-nums sm:table-cell", "data-meetings": "" }, number(r.meetings)),
    h("td", { class: "hidden text-right tabular-nums md:table-cell" }, number(r.converted)),
  );
}

/** The leaderboard table for stats.leaderboard, or an empty state. */
export function leaderboard(stats) {
  const board = Array.isArray(stats.leaderboard) ? stats.leaderboard : [];
  if (!board.length) return emptyState("Nobody has called or texted in this range yet.", null);
  return h(
    "div",
    { class: "relative overflow-x-auto" },
    h(
      "table",
      { class: "table", "aria-label": "Leaderboard", "data-leaderboard": "" },
      head(),
      h("tbody", { class: "divide-y divide-slate-100" }, board.map(row)),
    ),
  );
}
