// The dashboard's lead funnel: how many live leads are in each status. Five rows of a fixed
// height, drawn as a skeleton (statuses known, numbers not) until the stats load.
import { h } from "../dom.js";
import { LEAD_STATUSES, label, number } from "../format.js";
import { emptyState } from "../ui.js";

const COLORS = {
  new: "bg-sky-500",
  contacted: "bg-indigo-500",
  qualified: "bg-amber-500",
  not_interested: "bg-slate-400",
  converted: "bg-emerald-500",
};

// p-4 around five rows of 2rem with 0.75rem between them: 15rem, empty or not.
export const FUNNEL_BOX = "min-h-60 p-4";

function bar(status, text, pct, attrs = {}) {
  return h(
    "li",
    attrs,
    h("div", { class: "flex justify-between text-sm" }, h("span", {}, label(status)), h("span", { class: "tabular-nums text-slate-600" }, text)),
    h(
      "div",
      { class: "mt-1 h-2 rounded-full bg-slate-100", "aria-hidden": "true" },
      pct === null ? null : h("div", { class: `h-2 rounded-full ${COLORS[status]}`, style: { width: `${pct}%` } }),
    ),
  );
}

export function funnelSkeleton() {
  return h("ul", { class: "space-y-3", "aria-hidden": "true" }, LEAD_STATUSES.map((s) => bar(s, "—", null)));
}

/** The funnel for stats.leads, or an empty state when there are no leads. */
export function funnel(stats) {
  const leads = stats.leads || { total: 0, byStatus: {} };
  const total = leads.total || 0;
  if (!total) return emptyState("No leads yet", "Import a CSV on the Leads page.");
  return h(
    "ul",
    { class: "space-y-3", "data-funnel": "" },
    LEAD_STATUSES.map((s) => {
      const n = leads.byStatus?.[s] || 0;
      const pct = Math.round((n / total) * 100);
      return bar(s, `${number(n)} · ${pct}%`, pct, { "data-funnel-status": s });
    }),
  );
}
