// The team: add, edit, deactivate (and reactivate) members.
import * as api from "../api.js";
import { h, icon, replace } from "../dom.js";
import { label } from "../format.js";
import { invalidateMembers, members } from "../store.js";
import {
  badge,
  busy,
  clearErrors,
  confirmDialog,
  emptyState,
  errorMessage,
  errorState,
  field,
  flagMissing,
  formBanner,
  formValues,
  loading,
  nextId,
  openDialog,
  pageHeader,
  showErrors,
  toast,
} from "../ui.js";

function openMemberForm({ member = null, onSaved }) {
  const editing = Boolean(member);
  let current = member;
  const formId = nextId("member-form");
  const form = h("form", { id: formId, novalidate: true, class: "space-y-4" });
  function fill(v = {}) {
    form.replaceChildren(
      formBanner(),
      field({ name: "name", label: "Name", required: true, value: v.name, autocomplete: "off", autofocus: true, maxlength: 200 }),
      field({ name: "phone", label: "Phone", kind: "tel", required: true, value: v.phone, autocomplete: "off", hint: "Twilio rings this number first when they call a lead." }),
      field({ name: "email", label: "Email", kind: "email", value: v.email, autocomplete: "off" }),
      field({ name: "role", label: "Role", kind: "select", value: v.role || "caller", options: [["caller", "Caller"], ["admin", "Admin"]] }),
    );
  }
  fill(member || {});
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary" }, editing ? "Save changes" : "Add member");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
  const dlg = openDialog({ title: editing ? `Edit ${member.name}` : "New team member", content: form, footer: [cancel, submit] });
  cancel.addEventListener("click", () => dlg.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const values = formValues(form);
    if (flagMissing(form, values, ["name", "phone"])) return;
    const body = {};
    for (const [key, value] of Object.entries(values)) {
      if (editing && value === (current[key] ?? "")) continue;
      if (value === "") {
        if (editing && key === "email") body.email = null;
        continue;
      }
      body[key] = value;
    }
    if (editing && !Object.keys(body).length) {
      dlg.close();
      return;
    }
    if (editing) body.version = current.version;
    try {
      const saved = await busy(submit, "Saving…", () => (editing ? api.updateMember(current.id, body) : api.createMember(body)));
      invalidateMembers();
      dlg.close();
      toast(editing ? `Saved ${saved.name}.` : `Added ${saved.name} to the team.`, "success");
      onSaved(saved);
    } catch (err) {
      const reload =
        err.status === 409 && editing
          ? h(
              "button",
              {
                type: "button",
                class: "btn btn-secondary btn-sm mt-2",
                onclick: async () => {
                  try {
                    current = await api.getMemberFresh(current.id);
                  } catch {
                    /* shown below */
                  }
                  fill(current);
                },
              },
              "Load the latest version",
            )
          : null;
      showErrors(form, err, reload);
    }
  });
}

export async function renderTeam({ main, signal }) {
  const showInactive = h("input", { type: "checkbox", id: "show-inactive", class: "size-4 rounded border-slate-300" });
  const addBtn = h(
    "button",
    { type: "button", class: "btn btn-primary", onclick: () => openMemberForm({ onSaved: () => load() }) },
    icon("plus"),
    "Add member",
  );
  const area = h("div", { "aria-live": "polite" });
  replace(
    main,
    pageHeader("Team", addBtn),
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
  showInactive.addEventListener("change", () => load());

  async function load() {
    replace(area, loading("Loading the team…"));
    let list;
    try {
      list = await members({ fresh: true });
    } catch (err) {
      if (err?.name === "AbortError" || signal.aborted) return;
      replace(area, errorState(err, load, "Could not load the team"));
      return;
    }
    if (signal.aborted) return;
    const shown = showInactive.checked ? list : list.filter((m) => m.active);
    if (!shown.length) {
      replace(
        area,
        list.length
          ? emptyState("Everyone is deactivated.", "Show deactivated members to bring someone back.")
          : emptyState("No team members yet", "Add the people who make calls: Twilio rings their phone first, then connects the lead.", h("button", { type: "button", class: "btn btn-primary", onclick: () => addBtn.click() }, "Add member")),
      );
      return;
    }
    replace(
      area,
      h(
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
          h("tbody", { class: "divide-y divide-slate-100 bg-white" }, shown.map(row)),
        ),
      ),
    );
  }

  function row(m) {
    return h(
      "tr",
      { "data-member-id": m.id, class: m.active ? "" : "opacity-70" },
      h(
        "td",
        {},
        h("span", { class: "font-medium text-slate-900" }, m.name),
        h("span", { class: "block text-xs text-slate-500 sm:hidden" }, m.phone),
      ),
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
            { type: "button", class: "btn btn-ghost btn-sm", "aria-label": `Edit ${m.name}`, onclick: () => openMemberForm({ member: m, onSaved: () => load() }) },
            icon("pencil"),
            h("span", { class: "hidden md:inline" }, "Edit"),
          ),
          m.active
            ? h(
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
                    if (!ok) return;
                    await change(button, m, () => api.deactivateMember(m.id), `${m.name} is deactivated.`);
                  },
                },
                "Deactivate",
              )
            : h(
                "button",
                {
                  type: "button",
                  class: "btn btn-ghost btn-sm text-emerald-700",
                  "aria-label": `Reactivate ${m.name}`,
                  onclick: (e) => change(e.currentTarget, m, () => api.updateMember(m.id, { active: true, version: m.version }), `${m.name} is active again.`),
                },
                "Reactivate",
              ),
        ),
      ),
    );
  }

  async function change(button, m, work, done) {
    try {
      if (button && button.isConnected) await busy(button, "Saving…", work);
      else await work();
      invalidateMembers();
      toast(done, "success");
    } catch (err) {
      toast(`Could not update ${m.name}: ${errorMessage(err)}`, "error");
    }
    load();
  }

  await load();
  return null;
}
