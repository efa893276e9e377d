// Create and edit a lead in a dialog. Edits send only what changed plus the version read, so a
// concurrent edit answers 409 and the form offers to reload.
import * as api from "../api.js";
import { activeElement, h } from "../dom.js";
import { LEAD_STATUSES, label } from "../format.js";
import { can, me } from "../roles.js";
import { members, rememberLead } from "../store.js";
import {
  busy,
  clearErrors,
  field,
  flagMissing,
  formBanner,
  formValues,
  nextId,
  openDialog,
  showErrors,
  toast,
} from "../ui.js";

const NULLABLE = new Set(["email", "company", "notes", "assignedToId"]);

function memberOptions(list, selected) {
  const options = [["", "Unassigned"]];
  // A caller assigns leads to themselves or to nobody (the API refuses anyone else).
  const mine = can("leads.all") ? list : list.filter((m) => m.id === me()?.id || m.id === selected);
  for (const m of mine) {
    if (m.active || m.id === selected) options.push([m.id, m.active ? m.name : `${m.name} (deactivated)`]);
  }
  return options;
}

function fields(v, team) {
  return [
    formBanner(),
    h(
      "div",
      { class: "grid grid-cols-1 gap-4 sm:grid-cols-2" },
      field({ name: "name", label: "Name", required: true, value: v.name, autocomplete: "off", autofocus: true, maxlength: 200 }),
      field({ name: "phone", label: "Phone", kind: "tel", required: true, value: v.phone, autocomplete: "off", hint: "Any common form; US numbers need no +1." }),
      field({ name: "email", label: "Email", kind: "email", value: v.email, autocomplete: "off" }),
      field({ name: "company", label: "Company", value: v.company, autocomplete: "off", maxlength: 200 }),
      field({ name: "status", label: "Status", kind: "select", value: v.status || "new", options: LEAD_STATUSES.map((s) => [s, label(s)]) }),
      field({ name: "assignedToId", label: "Assigned to", kind: "select", value: v.assignedToId || "", options: memberOptions(team, v.assignedToId) }),
    ),
    field({ name: "notes", label: "Notes", kind: "textarea", value: v.notes, rows: 3, maxlength: 5000 }),
    h(
      "fieldset",
      { class: "space-y-3" },
      h("legend", { class: "label" }, "Compliance"),
      field({ name: "doNotCall", label: "Do not call", kind: "checkbox", value: v.doNotCall, hint: "Calls to this lead are refused." }),
      field({ name: "smsOptOut", label: "Opted out of SMS", kind: "checkbox", value: v.smsOptOut, hint: "Set automatically when the lead replies STOP." }),
    ),
  ];
}

/** What to send: every value given on create; on edit, what changed (emptied fields as null). */
function changes(values, current) {
  const body = {};
  for (const [key, value] of Object.entries(values)) {
    const before = current ? current[key] ?? (typeof value === "boolean" ? false : "") : undefined;
    if (current && value === before) continue;
    if (value === "" && NULLABLE.has(key)) {
      if (current) body[key] = null;
      continue;
    }
    if (value === "") continue;
    body[key] = value;
  }
  return body;
}

/** A 409's way out: reload a lead someone else changed, or open (or restore, when it is
 * archived) the lead with that phone. */
function conflictHelp(err, { editing, reload, restore }) {
  if (err.status !== 409) return null;
  if (editing && /changed/i.test(err.message)) {
    return h("button", { type: "button", class: "btn btn-secondary btn-sm mt-2", onclick: reload }, "Load the latest version");
  }
  const existing = err.details?.existingLeadId;
  if (!existing) return null;
  const href = `#/leads/${encodeURIComponent(existing)}`;
  if (err.details?.existingLeadArchived) {
    return h(
      "p",
      { class: "mt-1 flex flex-wrap items-center gap-2" },
      h("span", {}, "That lead is archived."),
      h("button", { type: "button", class: "btn btn-secondary btn-sm", onclick: () => restore(existing) }, "Restore it"),
      h("a", { href, class: "link" }, "Open the archived lead"),
    );
  }
  return h("a", { href, class: "link mt-1 inline-block" }, "Open the existing lead");
}

/** openLeadForm({lead?, onSaved(lead)}): `lead` edits, no lead creates. */
export async function openLeadForm({ lead = null, onSaved }) {
  const opener = activeElement();
  let team = [];
  try {
    team = await members({ fresh: true });
  } catch {
    team = []; // the form still works; the assignee picker only offers "Unassigned"
  }
  let current = lead;
  const editing = Boolean(lead);
  const formId = nextId("lead-form");
  const form = h("form", { id: formId, novalidate: true, class: "space-y-4" });
  const fill = (source) => form.replaceChildren(...fields(source || {}, team));
  fill(lead);
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary" }, editing ? "Save changes" : "Add lead");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
  const dlg = openDialog({ title: editing ? `Edit ${lead.name}` : "New lead", content: form, footer: [cancel, submit], wide: true, opener });
  cancel.addEventListener("click", () => dlg.close());

  async function restore(leadId) {
    try {
      const restored = await api.restoreLead(leadId);
      rememberLead(restored);
      dlg.close();
      toast(`Restored ${restored.name}.`, "success");
      location.hash = `#/leads/${encodeURIComponent(restored.id)}`;
    } catch (restoreErr) {
      showErrors(form, restoreErr);
    }
  }

  async function reload() {
    try {
      current = await api.getLead(current.id);
      fill(current);
      toast("Loaded the latest version; make your changes again.");
    } catch (loadErr) {
      showErrors(form, loadErr);
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const values = formValues(form);
    if (flagMissing(form, values, ["name", "phone"])) return;
    const body = changes(values, editing ? current : null);
    if (editing && Object.keys(body).length === 0) {
      dlg.close();
      return;
    }
    if (editing) body.version = current.version;
    try {
      const saved = await busy(submit, "Saving…", () => (editing ? api.updateLead(current.id, body) : api.createLead(body)));
      rememberLead(saved);
      dlg.close();
      toast(editing ? `Saved ${saved.name}.` : `Added ${saved.name}.`, "success");
      if (onSaved) onSaved(saved);
    } catch (err) {
      showErrors(form, err, conflictHelp(err, { editing, reload, restore }));
    }
  });
  return dlg;
}
