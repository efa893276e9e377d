// The team: admins add, edit, deactivate (and reactivate) members and hand out sign-ins;
// managers and callers read it. One resource (the team) and one panel (the table, or an
// empty state).
import { h, icon, replace } from "../dom.js";
import { openMemberForm } from "../dialogs/member-form.js";
import { panel } from "../panel.js";
import { can } from "../roles.js";
import { teamTable } from "../panels/team-table.js";
import { members, resource } from "../store.js";
import { emptyState, loading, pageHeader } from "../ui.js";

export async function renderTeam({ main, signal }) {
  const team = resource(() => members({ fresh: true }), { signal });
  const showInactive = h("input", { type: "checkbox", id: "show-inactive", class: "size-4 rounded border-slate-300" });
  const admin = can("team.write");
  const addBtn = admin ? h("button", { type: "button", class: "btn btn-primary", onclick: () => openMemberForm({ onSaved: () => team.reload() }) }, icon("plus"), "Add member") : null;
  const area = h("div", { "aria-live": "polite" });
  replace(
    main,
    pageHeader("Team", addBtn),
    admin ? null : h("p", { class: "-mt-4 mb-4 text-sm text-slate-600", "data-read-only": "" }, "Only an admin adds or changes team members."),
    h(
      "div",
      { class: "card overflow-hidden" },
      h(
        "div",
        { class: "flex items-center gap-2 border-b border-slate-200 px-4 py-3" },
        showInactive,
        h("label", { for: "show-inactive", class: "text-sm text-slate-700" }, "Show deactivated members"),
      ),
      area,
    ),
  );
  showInactive.addEventListener("change", () => team.reload());

  panel(area, team, {
    loading: () => loading("Loading the team…"),
    title: "Could not load the team",
    render: (list) => {
      const shown = showInactive.checked ? list : list.filter((m) => m.active);
      if (shown.length) return teamTable(shown, { onChanged: () => team.reload() });
      if (list.length) return emptyState("Everyone is deactivated.", "Show deactivated members to bring someone back.");
      return emptyState(
        "No team members yet",
        "Add the people who make calls: Twilio rings their phone first, then connects the lead.",
        addBtn ? h("button", { type: "button", class: "btn btn-primary", onclick: () => addBtn.click() }, "Add member") : null,
      );
    },
  });
  await team.start();
}
