// The team's table: one row per member (e-mail, role, active). Admins get Edit, Reset password,
// Re-send invite and Deactivate (or Reactivate); everyone else reads it.
import * as api from "../api.js";
import { h, icon } from "../dom.js";
import { label, phone } from "../format.js";
import { showInvite } from "../dialogs/invite-dialog.js";
import { openMemberForm } from "../dialogs/member-form.js";
import { can, me } from "../roles.js";
import { invalidateMembers } from "../store.js";
import { badge, busy, confirmDialog, errorMessage, phoneText, toast } from "../ui.js";

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

/** A new temporary password for the member (Reset password / Re-send invite), shown once. */
function newPassword(m, { text, work, confirm }) {
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-ghost btn-sm",
      "aria-label": `${text} for ${m.name}`,
      onclick: async (e) => {
        const button = e.currentTarget;
        if (confirm && !(await confirmDialog(confirm))) return;
        try {
          const answer = await busy(button, "Working…", work);
          showInvite(answer, answer.invite, { opener: button });
        } catch (err) {
          toast(`Could not do that for ${m.name}: ${errorMessage(err)}`, "error");
        }
      },
    },
    text,
  );
}

function adminActions(m, onChanged) {
  const self = m.id === me()?.id;
  return h(
    "div",
    { class: "flex flex-wrap justify-end gap-1" },
    h(
      "button",
      { type: "button", class: "btn btn-ghost btn-sm", "aria-label": `Edit ${m.name}`, onclick: () => openMemberForm({ member: m, onSaved: onChanged }) },
      icon("pencil"),
      h("span", { class: "hidden md:inline" }, "Edit"),
    ),
    m.email && m.active && !self
      ? [
          newPassword(m, {
            text: "Reset password",
            work: () => api.resetPassword(m.id),
            confirm: {
              title: `Reset ${m.name}'s password?`,
              message: "They are signed out everywhere and sign in next with a new temporary password, shown to you once.",
              confirmLabel: "Reset password",
              danger: true,
            },
          }),
          newPassword(m, { text: "Re-send invite", work: () => api.resendInvite(m.id) }),
        ]
      : null,
    self ? null : activeToggle(m, onChanged),
  );
}

function row(m, onChanged, admin) {
  const self = m.id === me()?.id;
  return h(
    "tr",
    { "data-member-id": m.id, "data-active": String(Boolean(m.active)), class: m.active ? "" : "text-slate-600" },
    h(
      "td",
      {},
      h("span", { class: "font-medium text-slate-900" }, m.name),
      self ? h("span", { class: "ml-1 text-xs text-slate-600" }, "(you)") : null,
      // Narrow screens hide the columns: the same facts under the name.
      h("span", { class: "block text-xs text-slate-600 sm:hidden" }, `${phone(m.phone)} · ${label(m.role)}`),
      m.email ? h("span", { class: "block break-all text-xs text-slate-600 md:hidden" }, m.email) : null,
    ),
    h("td", { class: "hidden whitespace-nowrap tabular-nums sm:table-cell" }, phoneText(m.phone)),
    h("td", { class: "hidden break-all md:table-cell" }, m.email || "—"),
    h("td", { class: "hidden sm:table-cell", "data-role": m.role || "" }, label(m.role)),
    h("td", {}, badge(m.active ? "active" : "inactive", m.active ? "Active" : "Deactivated")),
    admin ? h("td", { class: "text-right" }, adminActions(m, onChanged)) : null,
  );
}

/** teamTable(members, {onChanged}) -> the table; onChanged() after any change. Only an
 * admin gets the actions column. */
export function teamTable(list, { onChanged }) {
  const admin = can("team.write");
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
          admin ? h("th", { scope: "col", class: "text-right" }, h("span", { class: "sr-only" }, "Actions")) : null,
        ),
      ),
      h("tbody", { class: "divide-y divide-slate-100 bg-white" }, list.map((m) => row(m, onChanged, admin))),
    ),
  );
}
