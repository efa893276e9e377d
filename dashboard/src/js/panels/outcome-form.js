// After a call: the disposition and notes, saved with PATCH /calls/{id}.
import * as api from "../api.js";
import { h } from "../dom.js";
import { busy, field, formBanner, nextId, showErrors, toast } from "../ui.js";

// The API's dispositions (CallUpdate in chalicelib/schemas.py).
export const DISPOSITIONS = [
  ["", "Choose an outcome…"],
  ["meeting_booked", "Meeting booked"],
  ["connected", "Talked (no next step yet)"],
  ["callback_requested", "Call back later"],
  ["not_interested", "Not interested"],
  ["left_voicemail", "Left voicemail"],
  ["no_answer", "No answer"],
  ["wrong_number", "Wrong number"],
]

export function dispositionLabel(value) {
  const found = DISPOSITIONS.find(([v]) => v === value);
  return found ? found[1] : value;
}

/** outcomeForm(call, {onSaved(call)}) -> <form> */
export function outcomeForm(call, { onSaved, compact = false } = {}) {
  const id = nextId("outcome");
  const known = DISPOSITIONS.some(([v]) => v === (call.disposition || ""));
  const options = known ? DISPOSITIONS : [...DISPOSITIONS, [call.disposition, call.disposition]];
  const save = h("button", { type: "submit", class: "btn btn-primary btn-sm" }, "Save outcome");
  const form = h(
    "form",
    { id, novalidate: true, class: "space-y-3", "data-outcome-form": call.id },
    formBanner(),
    h(
      "div",
      { class: compact ? "grid gap-3 sm:grid-cols-[12rem_1fr]" : "space-y-3" },
      field({ name: "disposition", label: "Outcome", kind: "select", value: call.disposition || "", options }),
      field({ name: "notes", label: "Call notes", kind: "textarea", value: call.notes || "", rows: 2, maxlength: 5000 }),
    ),
    h("div", { class: "flex justify-end" }, save),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const disposition = form.elements.namedItem("disposition").value;
    const notes = form.elements.namedItem("notes").value.trim();
    const body = {};
    if (disposition) body.disposition = disposition;
    if (notes || call.notes) body.notes = notes;
    if (!Object.keys(body).length) {
      showErrors(form, {
        code: "validation_error",
        message: "Choose an outcome or write a note.",
        details: { field: "disposition" },
      });
      return;
    }
    try {
      const saved = await busy(save, "Saving…", () => api.updateCall(call.id, body));
      form.dataset.dirty = "";
      toast("Call outcome saved.", "success");
      if (onSaved) onSaved(saved);
    } catch (err) {
      showErrors(form, err);
    }
  });
  form.addEventListener("input", () => {
    form.dataset.dirty = "1";
  });
  return form;
}
