// The signed-in member's callbacks: the due ones (GET /callbacks?due=true, soonest first) and
// the upcoming ones (GET /callbacks, the rest), each with its lead, time and note, and Delete.
// Shown on the dashboard and in the Dialer view; refreshed every 30 s while the page lives.
import * as api from "../api.js";
import { h, icon } from "../dom.js";
import { dateTime, relative } from "../format.js";
import { panel } from "../panel.js";
import { me } from "../roles.js";
import { resource } from "../store.js";
import { badge, busy, emptyState, errorMessage, loading, toast } from "../ui.js";

const EVERY_MS = 30_000;
const LIMIT = 25;

async function loadCallbacks(signal) {
  const teamMemberId = me()?.id;
  const [due, open] = await Promise.all([
    api.callbacks({ teamMemberId, due: true, limit: LIMIT }, signal),
    api.callbacks({ teamMemberId, limit: LIMIT }, signal),
  ]);
  const dueItems = due.items || [];
  const dueIds = new Set(dueItems.map((c) => c.id));
  return { due: dueItems, upcoming: (open.items || []).filter((c) => !dueIds.has(c.id)), more: Boolean(open.nextCursor) };
}

function item(cb, isDue, onDeleted) {
  const del = h("button", { type: "button", class: "btn btn-ghost btn-sm text-rose-700", "aria-label": `Delete the callback to ${cb.leadName || "this lead"} at ${dateTime(cb.at)}` }, icon("trash"), h("span", { class: "hidden sm:inline" }, "Delete"));
  del.addEventListener("click", async () => {
    try {
      await busy(del, "Deleting…", () => api.deleteCallback(cb.id));
      toast(`Deleted the callback to ${cb.leadName || "the lead"}.`, "success");
      onDeleted();
    } catch (err) {
      toast(`Could not delete the callback: ${errorMessage(err)}`, "error");
    }
  });
  return h(
    "li",
    { class: "flex items-start justify-between gap-3 px-4 py-3", "data-callback-id": cb.id, "data-callback-due": isDue ? "true" : "false" },
    h(
      "div",
      { class: "min-w-0 text-sm" },
      h("div", { class: "flex flex-wrap items-center gap-2" }, h("a", { href: `#/leads/${encodeURIComponent(cb.leadId)}`, class: "link" }, cb.leadName || "Unknown lead"), isDue ? badge("warning", "Due") : null),
      h("p", { class: "text-slate-700" }, h("time", { datetime: cb.at }, dateTime(cb.at)), h("span", { class: "text-slate-600" }, ` (${relative(cb.at)})`)),
      cb.note ? h("p", { class: "whitespace-pre-wrap break-words text-slate-600" }, cb.note) : null,
    ),
    del,
  );
}

function list(title, items, isDue, refresh) {
  if (!items.length) return null;
  return h(
    "div",
    { "data-callbacks": isDue ? "due" : "upcoming" },
    h("h3", { class: "bg-slate-50 px-4 py-2 text-xs font-semibold tracking-wide text-slate-600 uppercase" }, title),
    h("ul", { class: "divide-y divide-slate-100", "aria-label": title }, items.map((cb) => item(cb, isDue, refresh))),
  );
}

/** callbacksPanel(signal) -> {node, refresh}: the member's due and upcoming callbacks. */
export function callbacksPanel(signal) {
  const res = resource(loadCallbacks, { signal, every: EVERY_MS });
  const node = h("div", { "data-callbacks-panel": "" });
  const refresh = () => res.refresh();
  panel(node, res, {
    loading: () => loading("Loading your callbacks…"),
    title: "Could not load your callbacks",
    render: ({ due, upcoming, more }) => {
      if (!due.length && !upcoming.length) return emptyState("No callbacks scheduled", "Schedule one from a lead's page, or when you wrap up a call in the dialer.");
      return [
        list(`Due now (${due.length})`, due, true, refresh),
        list("Upcoming", upcoming, false, refresh),
        more ? h("p", { class: "px-4 py-2 text-xs text-slate-600" }, `Showing the next ${LIMIT}.`) : null,
      ];
    },
  });
  res.start();
  return { node, refresh };
}
