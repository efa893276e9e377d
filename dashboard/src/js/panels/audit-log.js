// The audit log's table (admin page): when, who, what, on what, and the details, newest first.
import { h } from "../dom.js";
import { dateTime } from "../format.js";

// The actions API.md lists, and the others the API records: the filter offers these.
export const AUDIT_ACTIONS = [
  "auth.login",
  "auth.login_failed",
  "auth.logout",
  "auth.password_changed",
  "member.created",
  "member.updated",
  "member.deactivated",
  "member.password_reset",
  "apikey.created",
  "apikey.revoked",
  "leads.imported",
  "leads.exported",
  "lead.archived",
  "lead.restored",
  "lead.status_changed",
  "call.released",
  "suppression.added",
  "suppression.removed",
  "compliance.rules_changed",
  "compliance.blocked",
];

function detailsText(details) {
  if (!details || typeof details !== "object") return "";
  return Object.entries(details)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" · ");
}

function who(actor) {
  if (!actor) return "—";
  const kind = { member: "", apiKey: "API key ", system: "system " }[actor.type] ?? "";
  return `${kind}${actor.name || actor.id || ""}`.trim();
}

/** auditTable(entries) -> the table. */
export function auditTable(entries) {
  // On a narrow screen the table scrolls sideways and has nothing to focus: the region itself
  // takes focus, so a keyboard can scroll it.
  return h(
    "div",
    { class: "relative overflow-x-auto focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500", tabindex: "0", role: "region", "aria-label": "Audit entries" },
    h(
      "table",
      { class: "table", "aria-label": "Audit log" },
      h(
        "thead",
        { class: "bg-slate-50" },
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "When"),
          h("th", { scope: "col" }, "Who"),
          h("th", { scope: "col" }, "Action"),
          h("th", { scope: "col", class: "hidden md:table-cell" }, "Target"),
          h("th", { scope: "col", class: "hidden lg:table-cell" }, "Details"),
        ),
      ),
      h(
        "tbody",
        { class: "divide-y divide-slate-100 bg-white" },
        entries.map((e) =>
          h(
            "tr",
            { "data-audit-id": e.id, "data-action": e.action },
            h("td", { class: "whitespace-nowrap" }, dateTime(e.at)),
            h("td", {}, who(e.actor)),
            h("td", {}, h("code", { class: "text-xs" }, e.action)),
            h("td", { class: "hidden break-all md:table-cell" }, e.target ? `${e.target.type} ${e.target.id}` : "—"),
            h("td", { class: "hidden max-w-md break-words text-xs text-slate-600 lg:table-cell" }, detailsText(e.details) || "—"),
          ),
        ),
      ),
    ),
  );
}
