// The leads list's table: one row per lead with its status, flags, assignee and last contact,
// and the Call, Edit and Archive buttons.
import { h, icon } from "../dom.js";
import { phone, relative } from "../format.js";
import { openArchiveLead } from "../dialogs/archive-lead.js";
import { openCallDialog } from "../dialogs/call-dialog.js";
import { openLeadForm } from "../dialogs/lead-form.js";
import { can } from "../roles.js";
import { badge, phoneText } from "../ui.js";

function flags(lead) {
  return [
    badge(lead.status),
    lead.doNotCall ? badge("danger", "Do not call") : null,
    lead.smsOptOut ? badge("warning", "SMS opt-out") : null,
  ];
}

function actions(lead, onChanged) {
  const button = (attrs, ...children) => h("button", { type: "button", ...attrs }, children);
  return h(
    "div",
    { class: "flex justify-end gap-1" },
    button(
      {
        class: "btn btn-ghost btn-sm text-emerald-700",
        "aria-label": `Call ${lead.name}`,
        title: lead.doNotCall ? "On the do-not-call list" : "Call",
        onclick: () => openCallDialog(lead, {}),
      },
      icon("phone"),
      h("span", { class: "hidden xl:inline" }, "Call"),
    ),
    button(
      { class: "btn btn-ghost btn-sm", "aria-label": `Edit ${lead.name}`, title: "Edit", onclick: () => openLeadForm({ lead, onSaved: () => onChanged() }) },
      icon("pencil"),
    ),
    can("leads.archive")
      ? button(
          {
            class: "btn btn-ghost btn-sm text-rose-700",
            "aria-label": `Archive ${lead.name}`,
            title: "Archive",
            onclick: async () => {
              if (await openArchiveLead(lead)) onChanged();
            },
          },
          icon("archive"),
        )
      : null,
  );
}

/** The row's checkbox for the bulk actions (selection: {has(id), toggle(id, on)}). */
function pick(lead, selection) {
  if (!selection) return null;
  return h(
    "td",
    { class: "w-8" },
    h("input", {
      type: "checkbox",
      class: "size-4 rounded border-slate-300",
      "aria-label": `Select ${lead.name}`,
      "data-select-lead": lead.id,
      checked: selection.has(lead.id),
      onchange: (e) => selection.toggle(lead.id, e.currentTarget.checked),
    }),
  );
}

function pickAll(leads, selection) {
  if (!selection) return null;
  const box = h("input", {
    type: "checkbox",
    class: "size-4 rounded border-slate-300",
    "aria-label": "Select every lead on this page",
    "data-select-all": "",
    checked: leads.length > 0 && leads.every((l) => selection.has(l.id)),
    onchange: (e) => {
      const on = e.currentTarget.checked;
      for (const l of leads) selection.toggle(l.id, on);
      for (const input of e.currentTarget.closest("table").querySelectorAll("[data-select-lead]")) input.checked = on;
    },
  });
  return h("th", { scope: "col", class: "w-8" }, box);
}

function row(lead, names, onChanged, selection) {
  return h(
    "tr",
    { "data-lead-id": lead.id },
    pick(lead, selection),
    h(
      "td",
      { class: "max-w-[12rem] sm:max-w-[14rem]" },
      h("a", { href: `#/leads/${encodeURIComponent(lead.id)}`, class: "link block truncate" }, lead.name),
      h("span", { class: "block truncate text-xs text-slate-600" }, [lead.company, lead.email].filter(Boolean).join(" · ")),
      h("span", { class: "block text-xs text-slate-600 sm:hidden", title: lead.phone }, phone(lead.phone)),
      h("div", { class: "mt-1 flex flex-wrap gap-1 sm:hidden" }, flags(lead)),
    ),
    h("td", { class: "hidden whitespace-nowrap tabular-nums sm:table-cell" }, phoneText(lead.phone)),
    h("td", { class: "hidden sm:table-cell" }, h("div", { class: "flex flex-wrap gap-1" }, flags(lead))),
    h(
      "td",
      { class: "hidden md:table-cell" },
      lead.assignedToId ? h("span", { "data-assignee": lead.assignedToId }, names.get(lead.assignedToId) || "Unknown") : h("span", { class: "text-slate-600 italic" }, "Unassigned"),
    ),
    h("td", { class: "hidden whitespace-nowrap lg:table-cell" }, relative(lead.lastContactedAt)),
    h("td", { class: "text-right" }, actions(lead, onChanged)),
  );
}

/** leadsTable(leads, {names, onChanged, selection}) -> the table; onChanged() after an edit or
 * archive; `selection` ({has(id), toggle(id, on)}) adds a checkbox column (bulk actions). */
export function leadsTable(leads, { names, onChanged, selection = null }) {
  return h(
    "div",
    { class: "relative overflow-x-auto" },
    h(
      "table",
      { class: "table", "aria-label": "Leads" },
      h(
        "thead",
        { class: "bg-slate-50" },
        h(
          "tr",
          {},
          pickAll(leads, selection),
          h("th", { scope: "col" }, "Name"),
          h("th", { scope: "col", class: "hidden sm:table-cell" }, "Phone"),
          h("th", { scope: "col", class: "hidden sm:table-cell" }, "Status"),
          h("th", { scope: "col", class: "hidden md:table-cell" }, "Assigned to"),
          h("th", { scope: "col", class: "hidden lg:table-cell" }, "Last contact"),
          h("th", { scope: "col", class: "text-right" }, h("span", { class: "sr-only" }, "Actions")),
        ),
      ),
      h("tbody", { class: "divide-y divide-slate-100 bg-white" }, leads.map((lead) => row(lead, names, onChanged, selection))),
    ),
  );
}
