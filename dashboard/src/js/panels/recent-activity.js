// The dashboard's recent activity: the last calls of the active team, newest first.
import * as api from "../api.js";
import { h, icon } from "../dom.js";
import { callOutcome, duration, relative } from "../format.js";
import { can, me } from "../roles.js";
import { leadById, members } from "../store.js";
import { badge, emptyState } from "../ui.js";

/** The 10 newest calls of (up to 20) active members, each with its caller's name and lead. */
export async function loadRecentCalls(signal) {
  // A caller reads only their own calls by member (the API refuses the others').
  const everyone = (await members({ fresh: true })).filter((m) => m.active);
  const team = (can("leads.all") ? everyone : everyone.filter((m) => m.id === me()?.id)).slice(0, 20);
  const pages = await Promise.all(team.map((m) => api.recentCallsForMember(m.id, 5, signal)));
  const names = new Map(team.map((m) => [m.id, m.name]));
  const list = pages
    .flatMap((p) => p.items || [])
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
    .slice(0, 10)
    .map((c) => ({ call: c, who: names.get(c.teamMemberId) || "A team member" }));
  const leads = await Promise.all(list.map((x) => leadById(x.call.leadId)));
  return list.map((x, i) => ({ ...x, lead: leads[i] }));
}

export function outcomeBadge(call) {
  const outcome = callOutcome(call);
  return outcome ? badge(outcome.key, outcome.short) : badge(call.status);
}

function item({ call, who, lead }) {
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
        : h("span", { class: "text-slate-600" }, "an archived lead"),
      call.talkSeconds ? h("span", { class: "text-slate-600" }, ` · ${duration(call.talkSeconds)}`) : null,
    ),
    outcomeBadge(call),
    h("time", { class: "text-xs text-slate-600", datetime: call.createdAt || "" }, relative(call.createdAt)),
  );
}

/** The list drawn from loadRecentCalls(), or an empty state. */
export function recentActivity(list) {
  if (!list.length) return emptyState("No calls yet", "Open a lead and press Call.");
  return h("ul", { class: "divide-y divide-slate-100", "data-activity": "" }, list.map(item));
}
