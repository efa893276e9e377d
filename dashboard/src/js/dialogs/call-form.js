// The call dialog's first step: who calls (Twilio rings them first) and which caller ID the
// lead sees; the last choices are remembered.
import * as api from "../api.js";
import { h, icon } from "../dom.js";
import { localTimeIn } from "../format.js";
import { pref } from "../store.js";
import { busy, field, formBanner, nextId, notice, showErrors } from "../ui.js";

function numberText(n) {
  return n.friendlyName && n.friendlyName !== n.phoneNumber ? `${n.phoneNumber} · ${n.friendlyName}` : n.phoneNumber;
}

function facts(lead) {
  const local = localTimeIn(lead.timezone);
  return [
    lead.doNotCall
      ? notice("warning", h("p", { class: "font-semibold" }, "This lead is on the do-not-call list."), h("p", {}, "The call will be refused. Edit the lead if this is wrong."))
      : null,
    local ? h("p", { class: "text-sm text-slate-600" }, "Lead's local time: ", h("strong", {}, local), lead.timezone ? ` (${lead.timezone})` : "") : null,
  ];
}

/**
 * callForm({lead, active, numbers, onPlaced(call, member), onBlocked(err)}) -> {form, start}
 * `start` is the submit button (it sits in the dialog's footer).
 */
export function callForm({ lead, active, numbers, onPlaced, onBlocked }) {
  const formId = nextId("call-form");
  const memberPref = pref("memberId");
  const callerPref = pref("callerId");
  const form = h(
    "form",
    { id: formId, novalidate: true, class: "space-y-4" },
    formBanner(),
    facts(lead),
    field({
      name: "teamMemberId",
      label: "Who is calling",
      kind: "select",
      required: true,
      autofocus: true,
      value: active.some((m) => m.id === memberPref) ? memberPref : active[0].id,
      options: active.map((m) => [m.id, `${m.name} (${m.phone})`]),
      hint: "Twilio rings this person first; they press 1 to be connected to the lead.",
    }),
    field({
      name: "callerId",
      label: "Caller ID",
      kind: "select",
      required: true,
      value: numbers.some((n) => n.phoneNumber === callerPref) ? callerPref : numbers[0].phoneNumber,
      options: numbers.map((n) => [n.phoneNumber, numberText(n)]),
      hint: "The number the lead sees.",
    }),
  );
  const start = h("button", { type: "submit", form: formId, class: "btn btn-success" }, icon("phone"), "Start call");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const teamMemberId = pref("memberId", form.elements.namedItem("teamMemberId").value);
    const callerId = pref("callerId", form.elements.namedItem("callerId").value);
    let call;
    try {
      call = await busy(start, "Starting…", () => api.createCall({ leadId: lead.id, teamMemberId, callerId }));
    } catch (err) {
      if (err.code === "blocked") onBlocked(err);
      else showErrors(form, err);
      return;
    }
    onPlaced(call, active.find((m) => m.id === teamMemberId));
  });
  return { form, start };
}
