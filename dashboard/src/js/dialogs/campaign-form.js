// Create or edit a campaign in a dialog (managers and admins): name, caller ID (one of the
// account's numbers), script, members (active members, as checkboxes), attempts and retry
// delay, machine detection and its voicemail message, auto-advance and recording. Edits send
// only what changed plus the version read; a concurrent edit answers 409 and the form offers
// to load the latest version.
import * as api from "../api.js";
import { h } from "../dom.js";
import { members as teamMembers, memberLabel } from "../store.js";
import { busy, clearErrors, field, flagMissing, formBanner, formValues, nextId, openDialog, showErrors, showSaveErrors, toast } from "../ui.js";

export const AMD_MODES = [
  ["off", "Off: every answered call is bridged to you"],
  ["hangup", "Hang up on answering machines"],
  ["voicemail", "Leave a voicemail message on answering machines"],
];

const NUMBERS = [
  ["maxAttempts", "Attempts per lead", 1, 20, 3, "How many times a lead is dialled at most (1–20)."],
  ["retryAfterMinutes", "Minutes between attempts", 1, 43200, 240, "A lead is not dialled again sooner (1–43,200)."],
  ["autoAdvanceSeconds", "Auto-advance after (seconds)", 0, 600, 0, "After a conversation, dial the next lead by itself after this long; 0: you press Next."],
];
const NULLABLE = new Set(["callerId", "script", "voicemailMessage"]);

function numberField(name, text, min, max, value, hint) {
  const node = field({ name, label: text, kind: "number", value: String(value), required: true, hint });
  const input = node.querySelector("input");
  input.min = String(min);
  input.max = String(max);
  input.step = "1";
  input.inputMode = "numeric";
  return node;
}

/** The members as checkboxes in a fieldset (active ones, plus any inactive member the
 * campaign still names). */
function memberPicker(team, chosen) {
  const picked = new Set(chosen || []);
  const shown = team.filter((m) => m.active || picked.has(m.id));
  const legendId = nextId("members-legend");
  return h(
    "fieldset",
    { "data-field": "memberIds", "aria-describedby": `${legendId}-hint` },
    h("legend", { id: legendId, class: "label" }, "Members"),
    h("p", { id: `${legendId}-hint`, class: "hint mt-0 mb-2" }, "The team members who may dial this campaign."),
    shown.length
      ? h(
          "div",
          { class: "grid max-h-48 gap-1 overflow-y-auto rounded-md p-2 ring-1 ring-slate-200 sm:grid-cols-2" },
          shown.map((m) => {
            const id = nextId("member");
            return h(
              "div",
              { class: "flex items-center gap-2" },
              h("input", { id, type: "checkbox", name: "memberIds", value: m.id, checked: picked.has(m.id), class: "size-4 rounded border-slate-300 text-indigo-600" }),
              h("label", { for: id, class: "text-sm text-slate-700" }, memberLabel(m)),
            );
          }),
        )
      : h("p", { class: "text-sm text-slate-500" }, "No active team members yet."),
    h("p", { id: `${legendId}-error`, class: "field-error", hidden: true }),
  );
}

function fields(v, numbers, team) {
  const callerOptions = [["", numbers.length ? "Choose a number…" : "No numbers available"], ...numbers.filter((n) => n.voice).map((n) => [n.phoneNumber, n.friendlyName ? `${n.phoneNumber} (${n.friendlyName})` : n.phoneNumber])];
  if (v.callerId && !callerOptions.some(([value]) => value === v.callerId)) callerOptions.push([v.callerId, v.callerId]);
  return [
    formBanner(),
    field({ name: "name", label: "Name", required: true, value: v.name, autocomplete: "off", autofocus: true, maxlength: 200 }),
    v.id
      ? field({ name: "status", label: "Status", kind: "select", value: v.status, options: [["active", "Active"], ["paused", "Paused: nobody dials it"]] })
      : null,
    field({ name: "callerId", label: "Caller ID", kind: "select", value: v.callerId || "", options: callerOptions, hint: "The number leads see; one of the account's numbers." }),
    field({ name: "script", label: "Script", kind: "textarea", value: v.script || "", rows: 4, maxlength: 10000, hint: "What the caller sees while dialling." }),
    memberPicker(team, v.memberIds),
    h("div", { class: "grid gap-4 sm:grid-cols-3" }, NUMBERS.map(([name, text, min, max, def, hint]) => numberField(name, text, min, max, v[name] ?? def, hint))),
    field({ name: "amd", label: "Answering machines", kind: "select", value: v.amd || "hangup", options: AMD_MODES }),
    field({ name: "voicemailMessage", label: "Voicemail message", kind: "textarea", value: v.voicemailMessage || "", rows: 3, maxlength: 1000, hint: "Read to an answering machine after the beep. Required to leave voicemails." }),
    field({ name: "record", label: "Record conversations", kind: "checkbox", value: Boolean(v.record), hint: "The lead hears a recording notice first." }),
  ];
}

/** The form's values as the API's types: numbers as integers, members as a list. */
function valuesOf(form) {
  const values = formValues(form);
  values.memberIds = [...form.querySelectorAll("input[name=memberIds]:checked")].map((el) => el.value);
  for (const [name] of NUMBERS) values[name] = values[name] === "" ? "" : Number(values[name]);
  return values;
}

/** What to send: on create every value given; on edit what changed (emptied text as null). */
function changes(values, current) {
  const body = {};
  for (const [key, value] of Object.entries(values)) {
    if (current) {
      const was = current[key];
      const same = Array.isArray(value) ? JSON.stringify([...value].sort()) === JSON.stringify([...(was || [])].sort()) : value === (was ?? (typeof value === "string" ? "" : was));
      if (same) continue;
      if (value === "" && NULLABLE.has(key)) {
        body[key] = null;
        continue;
      }
    }
    if (value === "") continue;
    body[key] = value;
  }
  return body;
}

function checkLocally(form, values) {
  if (flagMissing(form, values, ["name"])) return false;
  const problems = [];
  for (const [name, text, min, max] of NUMBERS) {
    const n = values[name];
    if (!Number.isInteger(n) || n < min || n > max) problems.push({ field: name, message: `${text}: a whole number from ${min} to ${max}.` });
  }
  if (values.amd === "voicemail" && !values.voicemailMessage) problems.push({ field: "voicemailMessage", message: "Write the message to leave on answering machines." });
  if (problems.length) showErrors(form, { code: "validation_error", message: problems[0].message, details: { fields: problems } });
  return problems.length === 0;
}

/** openCampaignForm({campaign?, onSaved(campaign)}): `campaign` edits, none creates one. */
export async function openCampaignForm({ campaign = null, onSaved }) {
  const opener = document.activeElement;
  const editing = Boolean(campaign);
  let current = campaign;
  const [numbers, team] = await Promise.all([
    api.phoneNumbers().catch(() => []),
    teamMembers({ fresh: true }).catch(() => []),
  ]);
  const formId = nextId("campaign-form");
  const form = h("form", { id: formId, novalidate: true, class: "space-y-4" });
  const fill = (v) => form.replaceChildren(...fields(v || {}, numbers, team).filter(Boolean));
  fill(campaign);
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary" }, editing ? "Save changes" : "Create campaign");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
  const dlg = openDialog({ title: editing ? `Edit ${campaign.name}` : "New campaign", content: form, footer: [cancel, submit], wide: true, opener });
  cancel.addEventListener("click", () => dlg.close());

  const reload = async () => {
    try {
      current = await api.getCampaign(current.id);
    } catch {
      /* keep what we had */
    }
    fill(current);
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const values = valuesOf(form);
    if (!checkLocally(form, values)) return;
    const body = changes(values, editing ? current : null);
    if (editing && !Object.keys(body).length) {
      dlg.close();
      return;
    }
    if (editing) body.version = current.version;
    try {
      const saved = await busy(submit, "Saving…", () => (editing ? api.updateCampaign(current.id, body) : api.createCampaign(body)));
      dlg.close();
      toast(editing ? `Saved ${saved.name}.` : `Created the campaign ${saved.name}.`, "success");
      onSaved(saved);
    } catch (err) {
      showSaveErrors(form, err, editing ? reload : null);
    }
  });
  return dlg;
}
