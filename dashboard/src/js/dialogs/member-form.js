// Add or edit a team member in a dialog (admins). A member created with an e-mail (or given
// one) gets a sign-in: the answer's temporary password is shown once (invite-dialog.js). Edits send only what changed plus the version read;
// a concurrent edit answers 409 and the form offers to load the latest version.
import * as api from "../api.js";
import { h } from "../dom.js";
import { ROLES } from "../roles.js";
import { invalidateMembers } from "../store.js";
import { showInvite } from "./invite-dialog.js";
import { busy, clearErrors, field, flagMissing, formBanner, formValues, nextId, openDialog, showSaveErrors, toast } from "../ui.js";

function fields(v) {
  return [
    formBanner(),
    field({ name: "name", label: "Name", required: true, value: v.name, autocomplete: "off", autofocus: true, maxlength: 200 }),
    field({ name: "phone", label: "Phone", kind: "tel", required: true, value: v.phone, autocomplete: "off", hint: "Twilio rings this number first when they call a lead." }),
    field({ name: "email", label: "Email", kind: "email", value: v.email, autocomplete: "off", hint: "Their sign-in: with an e-mail they get a temporary password to sign in with." }),
    field({ name: "role", label: "Role", kind: "select", value: v.role || "caller", options: ROLES }),
  ];
}

/** What to send: every value on create; on edit, what changed (an emptied email as null). */
function changes(values, current) {
  const body = {};
  for (const [key, value] of Object.entries(values)) {
    if (current && value === (current[key] ?? "")) continue;
    if (value === "") {
      if (current && key === "email") body.email = null;
      continue;
    }
    body[key] = value;
  }
  return body;
}

/** openMemberForm({member?, onSaved(member)}): `member` edits, no member adds one. */
export function openMemberForm({ member = null, onSaved }) {
  const editing = Boolean(member);
  let current = member;
  const formId = nextId("member-form");
  const form = h("form", { id: formId, novalidate: true, class: "space-y-4" });
  const fill = (v) => form.replaceChildren(...fields(v || {}));
  fill(member);
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary" }, editing ? "Save changes" : "Add member");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
  const dlg = openDialog({ title: editing ? `Edit ${member.name}` : "New team member", content: form, footer: [cancel, submit] });
  cancel.addEventListener("click", () => dlg.close());

  const reload = async () => {
    try {
      current = await api.getMemberFresh(current.id);
    } catch {
      /* shown below */
    }
    fill(current);
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const values = formValues(form);
    if (flagMissing(form, values, ["name", "phone"])) return;
    const body = changes(values, editing ? current : null);
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
      // A new sign-in (an e-mail given): its temporary password, once.
      showInvite(saved, saved.invite);
    } catch (err) {
      showSaveErrors(form, err, editing ? reload : null);
    }
  });
  return dlg;
}
