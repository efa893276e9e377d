// "Schedule callback" on a lead's page: when (the browser's local time, sent as UTC) and an
// optional note; POST /leads/{id}/callbacks. The callback is the signed-in member's: it shows
// on their dashboard when due and comes first in their dialer session.
import * as api from "../api.js";
import { h } from "../dom.js";
import { dateTime } from "../format.js";
import { busy, clearErrors, field, formBanner, nextId, openDialog, showErrors, toast } from "../ui.js";

/** A datetime-local value ("2026-12-07T15:30") in the browser's zone, as ISO 8601 UTC; "" for
 * an empty or impossible value. */
export function localToIso(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/** The datetime-local value for a Date (local time, minutes). */
export function isoToLocal(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** openCallbackForm(lead, {onSaved(callback)}) */
export function openCallbackForm(lead, { onSaved } = {}) {
  const formId = nextId("callback-form");
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  tomorrow.setHours(10, 0, 0, 0);
  const form = h(
    "form",
    { id: formId, novalidate: true, class: "space-y-4" },
    formBanner(),
    field({ name: "at", label: "When", kind: "datetime-local", value: isoToLocal(tomorrow), required: true, autofocus: true, hint: "Your local time." }),
    field({ name: "note", label: "Note", kind: "textarea", rows: 2, maxlength: 1000 }),
  );
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary" }, "Schedule callback");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
  const dlg = openDialog({ title: `Schedule a callback to ${lead.name}`, description: "It shows on your dashboard when it is due, and your dialer session calls it first.", content: form, footer: [cancel, submit] });
  cancel.addEventListener("click", () => dlg.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const at = localToIso(form.elements.namedItem("at").value);
    const note = form.elements.namedItem("note").value.trim();
    if (!at) {
      showErrors(form, { code: "validation_error", message: "Choose a date and time.", details: { field: "at" } });
      return;
    }
    try {
      const saved = await busy(submit, "Saving…", () => api.createCallback(lead.id, note ? { at, note } : { at }));
      dlg.close();
      toast(`Callback to ${lead.name} scheduled for ${dateTime(saved.at)}.`, "success");
      if (onSaved) onSaved(saved);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return dlg;
}
