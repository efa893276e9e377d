// The team's table: one row per member with Edit and Deactivate (or Reactivate).
import * as api from "../api.js";
import { h, icon } from "../dom.js";
import { label } from "../format.js";
import { openMemberForm } from "../dialogs/member-form.js";
import { invalidateMembers } from "../store.js";
import { badge, busy, confirmDialog, errorMessage, toast } from "../ui.js";

/** Run a change with the button busy, then say how it went and call `after()`. */
async function change(button, m, work, done, after) {
  try {
    if (button && button.isConnected) await busy(button, "Saving…", work);
    else await work();
    invalidateMembers();
    toast(done, "success");
  } catch (err) {
    toast(`Could not update ${m.name}: ${errorMessage(err)}`, "error");
  }
  after();
}

function activeToggle(m, onChanged) {
  if (!m.active) {
    return h(
      "button",
      {
        type: "button",
        class: "btn btn-ghost btn-sm text-emerald-700",
        "aria-label": `Reactivate ${m.name}`,
        onclick: (e) => change(e.currentTarget, m, () => api.updateMember(m.id, { active: true, version: m.version }), `${m.name} is active again.`, onChanged),
      },
      "Reactivate",
    );
  }
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-ghost btn-sm text-rose-700",
      "aria-label": `Deactivate ${m.name}`,
      onclick: async (e) => {
        const button = e.currentTarget;
        const ok = await confirmDialog({
          title: `Deactivate ${m.name}?`,
          message: "They can no longer place calls or send texts. Their history is kept, and you can reactivate them later.",
          confirmLabel: "Deactivate",
          danger: true,
        });
        if (ok) await change(button, m, () => api.deactivateMember(m.id), `${m.name} is deactivated.`, onChanged);
      },
    },
    "Deactivate",
  );
}

function row(m, onChanged) {
  return h(
    "tr",
    { "data-member-id": m.id, class: m.active ? "" : "text-slate-600" },
    h("td", {}, h("span", { class: "font-medium text-slate-900" }, m.name), h("span", { class: "block text-xs text-slate-600 sm:hidden" }, m.phone)),
    h("td", { class: "hidden whitespace-nowrap tabular-nums sm:table-cell" }, m.phone),
    h("td", { class: "hidden md:table-cell" }, m.email || "—"),
    h("td", { class: "hidden sm:table-cell" }, label(m.role)),
    h("td", {}, badge(m.active ? "active" : "inactive", m.active ? "Active" : "Deactivated")),
    h(
      "td",
      { class: "text-right" },
      h(
        "div",
        { class: "flex justify-end gap-1" },
        h(
          "button",
          { type: "button", class: "btn btn-ghost btn-sm", "aria-label": `Edit ${m.name}`, onclick: () => openMemberForm({ member: m, onSaved: onChanged }) },
          icon("pencil"),
          h("span", { class: "hidden md:inline" }, "Edit"),
        ),
        activeToggle(m, onChanged),
      ),
    ),
  );
}

/** teamTable(members, {onChanged}) -> the table; onChanged() after any change. */
export function teamTable(list, { onChanged }) {
  return h(
    "div",
    { class: "relative overflow-x-auto" },
    h(
      "table",
      { class: "table", "aria-label": "Team members" },
      h(
        "thead",
        { class: "bg-slate-50" },
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Name"),
          h("th", { scope: "col", class: "hidden sm:table-cell" }, "Phone"),
          h("th", { scope: "col", class: "hidden md:table-cell" }, "Email"),
          h("th", { scope: "col", class: "hidden sm:table-cell" }, "Role"),
          h("th", { scope: "col" }, "Status"),
          h("th", { scope: "col", class: "text-right" }, h("span", { class: "sr-only" }, "Actions")),
        ),
      ),
      h("tbody", { class: "divide-y divide-slate-100 bg-white" }, list.map((m) => row(m, onChanged))),
    ),
  );
}
