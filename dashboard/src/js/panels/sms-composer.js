// The SMS composer on a lead's page: the text (with its length in segments), who sends it (an
// admin may pick; anyone else sends as themselves) and from which number. Disabled, with the reason, while the lead has opted out.
import * as api from "../api.js";
import { h, icon, replace, setText } from "../dom.js";
import { phone, smsSegments } from "../format.js";
import { can } from "../roles.js";
import { pref } from "../store.js";
import { refusal } from "./refusal.js";
import { busy, clearErrors, formBanner, nextId, notice, showErrors } from "../ui.js";

function counterText(value) {
  const { length, segments, unicode } = smsSegments(value);
  if (!length) return "Ctrl+Enter sends";
  return `${length} characters · ${segments} ${segments === 1 ? "segment" : "segments"}${unicode ? " (Unicode)" : ""} · Ctrl+Enter sends`;
}

function senderSelect(id, team) {
  return h(
    "select",
    { id, name: "teamMemberId", class: "input" },
    h("option", { value: "" }, "The team"),
    team.filter((m) => m.active).map((m) => h("option", { value: m.id, selected: m.id === pref("memberId") }, m.name)),
  );
}

/** One of the account's SMS numbers (the API needs one unless a Messaging Service is
 * configured; if the list cannot be loaded, the account's default is used). */
function numberSelect(id, signal) {
  const select = h("select", { id, name: "from", class: "input" }, h("option", { value: "" }, "Account default"));
  api
    .phoneNumbers(signal)
    .then((numbers) => {
      const usable = numbers.filter((n) => n.sms);
      if (!usable.length) return;
      const wanted = pref("smsFrom") || pref("callerId");
      replace(select, usable.map((n) => h("option", { value: n.phoneNumber, selected: n.phoneNumber === wanted }, phone(n.phoneNumber))));
    })
    .catch(() => {
      /* keep "Account default" */
    });
  return select;
}

function labelled(id, text, control) {
  return h("div", {}, h("label", { for: id, class: "label text-xs" }, text), control);
}

/** smsComposer({leadStore, team, signal, onSent(message)}) -> <form> */
export function smsComposer({ leadStore, team, signal, onSent }) {
  const id = nextId("sms");
  const bodyId = `${id}-body`;
  const counter = h("p", { id: `${bodyId}-count`, class: "text-xs text-slate-600" });
  const textarea = h("textarea", { id: bodyId, name: "body", rows: 3, maxlength: 1600, class: "input", placeholder: "Write a text message…", "aria-describedby": `${bodyId}-count` });
  const sender = can("calls.as_member") ? senderSelect(`${id}-from`, team) : null;
  const from = numberSelect(`${id}-number`, signal);
  const sendBtn = h("button", { type: "submit", class: "btn btn-primary" }, icon("message"), "Send");
  const optOutNote = h("div", { "data-sms-opt-out": "" });
  const form = h(
    "form",
    { id, novalidate: true, class: "space-y-2 border-t border-slate-200 p-4", "aria-label": "Send a text message" },
    optOutNote,
    formBanner(),
    h("label", { for: bodyId, class: "label" }, "Text message"),
    textarea,
    h(
      "div",
      { class: "flex flex-wrap items-end justify-between gap-3" },
      counter,
      h("div", { class: "flex flex-wrap items-end gap-2" }, sender ? labelled(`${id}-from`, "Sent by", sender) : null, labelled(`${id}-number`, "From number", from), sendBtn),
    ),
  );

  const updateCounter = () => setText(counter, counterText(textarea.value));
  function showOptOut(lead) {
    const optedOut = Boolean(lead.smsOptOut);
    for (const control of [textarea, sender, from, sendBtn]) if (control) control.disabled = optedOut;
    replace(
      optOutNote,
      optedOut
        ? notice("warning", h("p", { class: "font-semibold" }, `${lead.name} has opted out of text messages.`), h("p", {}, "Sending is disabled. They can opt back in by texting START."))
        : null,
    );
  }

  async function send(e) {
    e.preventDefault();
    clearErrors(form);
    const text = textarea.value.trim();
    if (!text) {
      showErrors(form, { code: "validation_error", message: "Write a message first.", details: { field: "body" } });
      return;
    }
    const body = { leadId: leadStore.get().id, body: text };
    if (sender?.value) body.teamMemberId = pref("memberId", sender.value);
    if (from.value) body.from = pref("smsFrom", from.value);
    try {
      const message = await busy(sendBtn, "Sending…", () => api.sendMessage(body));
      textarea.value = "";
      updateCounter();
      onSent(message);
      textarea.focus();
    } catch (err) {
      if (err.code === "blocked") {
        clearErrors(form);
        replace(form.querySelector("[data-form-error]"), h("div", { "data-sms-blocked": "" }, refusal(err, { channel: "sms", heading: "This text cannot be sent" })));
        form.querySelector("[data-form-error]").focus();
        if (err.details?.reason === "opted_out") leadStore.update((lead) => ({ ...lead, smsOptOut: true }));
        return;
      }
      showErrors(form, err);
    }
  }

  textarea.addEventListener("input", updateCounter);
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", send);
  updateCounter();
  showOptOut(leadStore.get());
  leadStore.subscribe(showOptOut);
  return form;
}
