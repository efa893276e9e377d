// The call dialog's first step: who calls (Twilio rings them first) and which caller ID the
// lead sees; the last choices are remembered. Only an admin picks who calls; anyone else
// calls as themselves (the API acts as the signed-in member: no teamMemberId is sent).
import * as api from "../api.js";
import { h, icon } from "../dom.js";
import { localTimeIn, phone } from "../format.js";
import { pref } from "../store.js";
import { busy, field, formBanner, nextId, notice, phoneText, showErrors } from "../ui.js";

function numberText(n) {
  return n.friendlyName && n.friendlyName !== n.phoneNumber ? `${phone(n.phoneNumber)} · ${n.friendlyName}` : phone(n.phoneNumber);
}

function facts(lead) {
  const local = localTimeIn(lead.timezone);
  return [
    lead.doNotCall
      ? notice("warning", h("p", { class: "font-semibold" }, "This lead is on the do-not-call list."), h("p", {}, "The call will be refused. Only an admin can take the number off the list, on the Compliance page."))
      : null,
    local ? h("p", { class: "text-sm text-slate-600" }, "Lead's local time: ", h("strong", {}, local), lead.timezone ? ` (${lead.timezone})` : "") : null,
  ];
}

function picker(active, self) {
  const memberPref = pref("memberId");
  const fallback = active.some((m) => m.id === self?.id) ? self.id : active[0].id;
  return field({
    name: "teamMemberId",
    label: "Who is calling",
    kind: "select",
    required: true,
    autofocus: true,
    value: active.some((m) => m.id === memberPref) ? memberPref : fallback,
    options: active.map((m) => [m.id, `${m.name} (${phone(m.phone)})`]),
    hint: "Twilio rings this person first; they press 1 to be connected to the lead.",
  });
}

function yourPhone(self) {
  return h(
    "p",
    { class: "text-sm text-slate-700", "data-calling-as": "" },
    "Twilio rings your phone first",
    self?.phone ? [" (", phoneText(self.phone), ")"] : null,
    "; press 1 to be connected to the lead.",
  );
}

/**
 * callForm({lead, active, self, pickMember, numbers, onPlaced(call, member), onBlocked(err)})
 * -> {form, start}; `start` is the submit button (it sits in the dialog's footer). With
 * `pickMember` (admins) the form asks who calls, from the `active` members.
 */
export function callForm({ lead, active, self, pickMember, numbers, onPlaced, onBlocked }) {
  const formId = nextId("call-form");
  const callerPref = pref("callerId");
  const form = h(
    "form",
    { id: formId, novalidate: true, class: "space-y-4" },
    formBanner(),
    facts(lead),
    pickMember ? picker(active, self) : yourPhone(self),
    field({
      name: "callerId",
      label: "Caller ID",
      kind: "select",
      required: true,
      autofocus: !pickMember,
      value: numbers.some((n) => n.phoneNumber === callerPref) ? callerPref : numbers[0].phoneNumber,
      options: numbers.map((n) => [n.phoneNumber, numberText(n)]),
      hint: "The number the lead sees.",
    }),
  );
  const start = h("button", { type: "submit", form: formId, class: "btn btn-success" }, icon("phone"), "Start call");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const teamMemberId = pickMember ? pref("memberId", form.elements.namedItem("teamMemberId").value) : null;
    const callerId = pref("callerId", form.elements.namedItem("callerId").value);
    const body = { leadId: lead.id, callerId };
    if (teamMemberId) body.teamMemberId = teamMemberId;
    let call;
    try {
      call = await busy(start, "Starting…", () => api.createCall(body));
    } catch (err) {
      if (err.code === "blocked") onBlocked(err);
      else showErrors(form, err);
      return;
    }
    onPlaced(call, teamMemberId ? active.find((m) => m.id === teamMemberId) : self);
  });
  return { form, start };
}
