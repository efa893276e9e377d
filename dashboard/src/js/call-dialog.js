// The call dialog: pick who calls and from which number, place the call, then watch its
// status change (polling GET /calls/{id}) until it ends; a refused call says why.
import * as api from "./api.js";
import { h, icon, replace, setText } from "./dom.js";
import {
  callOutcome,
  clock,
  dateTime,
  duration,
  isFinalCall,
  label,
  leadLegPending,
  localTimeIn,
} from "./format.js";
import { outcomeForm } from "./outcome-form.js";
import { members, pref } from "./store.js";
import {
  badge,
  busy,
  errorMessage,
  errorState,
  field,
  formBanner,
  loading,
  nextId,
  notice,
  openDialog,
  showErrors,
} from "./ui.js";

const POLL_MS = 1000;
const STEPS = [
  { key: "queued", text: "Queued" },
  { key: "ringing", text: "Ringing your phone" },
  { key: "in-progress", text: "Connected" },
  { key: "ended", text: "Ended" },
];

function stepIndex(status) {
  if (isFinalCall({ status })) return 3;
  if (status === "in-progress") return 2;
  if (status === "initiated" || status === "ringing") return 1;
  return 0;
}

/** openCallDialog(lead, {onChange(call)}) — onChange runs on every status seen. */
export function openCallDialog(lead, { onChange } = {}) {
  const body = h("div", {}, loading("Loading team and caller IDs…"));
  const footer = h("div", { class: "flex gap-2" });
  let timer = null;
  let stopped = false;
  const dlg = openDialog({
    title: `Call ${lead.name}`,
    description: lead.phone,
    content: body,
    footer,
    onClose: () => {
      stopped = true;
      clearTimeout(timer);
    },
  });
  const closeBtn = () =>
    h("button", { type: "button", class: "btn btn-secondary", onclick: () => dlg.close() }, "Close");

  async function setup() {
    replace(body, loading("Loading team and caller IDs…"));
    replace(footer, closeBtn());
    let team;
    let numbers;
    try {
      [team, numbers] = await Promise.all([members({ fresh: true }), api.phoneNumbers()]);
      numbers = numbers.filter((n) => n.voice);
    } catch (err) {
      replace(body, errorState(err, setup, "Could not prepare the call"));
      return;
    }
    const active = team.filter((m) => m.active);
    if (!active.length) {
      replace(
        body,
        notice("warning", h("p", {}, "Nobody on the team can call yet. "), h("a", { href: "#/team", class: "link", onclick: () => dlg.close() }, "Add a team member")),
      );
      return;
    }
    if (!numbers.length) {
      replace(body, notice("warning", h("p", {}, "The Twilio account has no phone number to call from.")));
      return;
    }
    renderForm(active, numbers);
  }

  function renderForm(active, numbers) {
    const formId = nextId("call-form");
    const memberPref = pref("memberId");
    const callerPref = pref("callerId");
    const local = localTimeIn(lead.timezone);
    const form = h(
      "form",
      { id: formId, novalidate: true, class: "space-y-4" },
      formBanner(),
      lead.doNotCall
        ? notice("warning", h("p", { class: "font-semibold" }, "This lead is on the do-not-call list."), h("p", {}, "The call will be refused. Edit the lead if this is wrong."))
        : null,
      local
        ? h("p", { class: "text-sm text-slate-600" }, "Lead's local time: ", h("strong", {}, local), lead.timezone ? ` (${lead.timezone})` : "")
        : null,
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
        options: numbers.map((n) => [n.phoneNumber, n.friendlyName && n.friendlyName !== n.phoneNumber ? `${n.phoneNumber} · ${n.friendlyName}` : n.phoneNumber]),
        hint: "The number the lead sees.",
      }),
    );
    const start = h("button", { type: "submit", form: formId, class: "btn btn-success" }, icon("phone"), "Start call");
    replace(body, form);
    replace(footer, closeBtn(), start);
    form.elements.namedItem("teamMemberId").focus();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const teamMemberId = form.elements.namedItem("teamMemberId").value;
      const callerId = form.elements.namedItem("callerId").value;
      pref("memberId", teamMemberId);
      pref("callerId", callerId);
      let call;
      try {
        call = await busy(start, "Starting…", () => api.createCall({ leadId: lead.id, teamMemberId, callerId }));
      } catch (err) {
        if (err.code === "blocked") renderBlocked(err);
        else showErrors(form, err);
        return;
      }
      const member = active.find((m) => m.id === teamMemberId);
      renderLive(call, member);
    });
  }

  function renderBlocked(err) {
    replace(
      body,
      h(
        "div",
        { class: "space-y-3", "data-call-blocked": "" },
        notice(
          "warning",
          h("p", { class: "font-semibold" }, "This call cannot be placed"),
          h("p", { "data-blocked-message": "" }, errorMessage(err)),
          blockedFacts(err.details),
        ),
      ),
    );
    replace(footer, closeBtn());
    footer.querySelector("button").focus();
  }

  function renderLive(initial, member) {
    const started = Date.now();
    const statusText = h("p", { class: "text-lg font-semibold", "data-call-status": initial.status });
    const live = h("div", { role: "status", "aria-live": "polite", "aria-atomic": "true" }, statusText);
    const elapsed = h("p", { class: "text-sm tabular-nums text-slate-500", "aria-hidden": "true" });
    const legLine = h("p", { class: "text-sm text-slate-600" });
    const problem = h("div", {});
    const outcome_ = h("div", {});
    let outcomeShown = false;
    let settling = 0; // polls after the member leg ended, waiting for the lead leg's last word
    const stepsList = h("ol", { class: "flex flex-wrap gap-x-2 gap-y-1 text-xs", "aria-label": "Call progress" });
    replace(
      body,
      h(
        "div",
        { class: "space-y-4", "data-call-id": initial.id },
        h("div", { class: "flex items-start justify-between gap-3" }, live, elapsed),
        stepsList,
        legLine,
        problem,
        outcome_,
      ),
    );
    replace(footer, closeBtn());

    const ringingText = member ? `Ringing ${member.name}'s phone…` : "Ringing…";
    function show(call) {
      const final = isFinalCall(call);
      const outcome = callOutcome(call);
      const text = outcome
        ? `Call ended: ${outcome.text}`
        : {
            queued: "Placing the call…",
            initiated: ringingText,
            ringing: ringingText,
            "in-progress": call.leadLegStatus === "in-progress" || call.answeredAt ? `Connected to ${lead.name}` : `Connecting to ${lead.name}…`,
          }[call.status] || label(call.status);
      setText(statusText, text);
      statusText.dataset.callStatus = call.status;
      statusText.dataset.callOutcome = outcome ? outcome.key : "";
      const idx = stepIndex(call.status);
      const endTone = outcome?.key === "completed" ? "bg-emerald-600 text-white" : "bg-amber-500 text-white";
      replace(
        stepsList,
        STEPS.map((s, i) =>
          h(
            "li",
            {
              class: `rounded-full px-2 py-0.5 ${i < idx ? "bg-emerald-100 text-emerald-800" : i === idx ? (final ? endTone : "bg-indigo-600 text-white") : "bg-slate-100 text-slate-500"}`,
              "aria-current": i === idx ? "step" : null,
            },
            i === 3 && outcome ? outcome.short : s.text,
          ),
        ),
      );
      replace(
        legLine,
        call.leadLegStatus && !final ? ["Lead: ", badge(call.leadLegStatus)] : null,
        final && call.durationSeconds ? `The call lasted ${duration(call.durationSeconds)}.` : null,
      );
      if (call.errorMessage || call.errorCode) {
        replace(problem, notice("error", h("p", {}, call.errorMessage || `Error ${call.errorCode}`)));
      }
      if (final && !outcomeShown) {
        outcomeShown = true;
        setText(elapsed, "");
        replace(
          outcome_,
          h("h3", { class: "mb-2 text-sm font-semibold text-slate-800" }, "How did it go?"),
          outcomeForm(call, { onSaved: (saved) => onChange && onChange(saved) }),
        );
      }
      if (onChange) onChange(call);
    }

    let failures = 0;
    async function poll(callId) {
      if (stopped) return;
      let call;
      try {
        call = await api.getCall(callId);
        failures = 0;
      } catch (err) {
        failures += 1;
        if (err.status === 401) return;
        if (failures >= 3) replace(problem, notice("warning", h("p", {}, `Lost contact with the API (${errorMessage(err)}); still trying…`)));
        timer = setTimeout(() => poll(callId), POLL_MS * Math.min(failures + 1, 5));
        return;
      }
      if (stopped) return;
      if (failures === 0 && !call.errorMessage) replace(problem);
      show(call);
      if (leadLegPending(call)) settling += 1;
      if (!isFinalCall(call) || (leadLegPending(call) && settling < 10)) {
        timer = setTimeout(() => poll(callId), POLL_MS);
      }
    }

    const tick = setInterval(() => {
      if (stopped || isFinalCall({ status: statusText.dataset.callStatus })) {
        clearInterval(tick);
        return;
      }
      setText(elapsed, clock((Date.now() - started) / 1000));
    }, 500);
    show(initial);
    if (!isFinalCall(initial) || leadLegPending(initial)) timer = setTimeout(() => poll(initial.id), POLL_MS);
  }

  setup();
  return dlg;
}

/** The refusal's details (API: reason, leadLocalTime, timezones, allowedHours, opensAt) as a
 * short list; keys this version does not know are shown as they come. */
function blockedFacts(details) {
  if (!details || typeof details !== "object") return null;
  const rows = [];
  for (const [key, value] of Object.entries(details)) {
    if (value === null || value === undefined || key === "reason" || key.endsWith("Id")) continue;
    if (key === "leadLocalTime") {
      const times = typeof value === "object" ? Object.entries(value).map(([zone, t]) => `${t} (${zone})`) : [String(value)];
      rows.push(["Lead's local time", times.join(", ")]);
    } else if (key === "timezones") {
      if (!details.leadLocalTime) rows.push(["Time zones", [].concat(value).join(", ")]);
    } else if (key === "allowedHours") {
      rows.push(["Calling hours", `${value} in the lead's local time`]);
    } else if (key === "opensAt") {
      rows.push(["Calling opens", `${dateTime(value)} (your time)`]);
    } else {
      rows.push([label(key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()), typeof value === "object" ? JSON.stringify(value) : String(value)]);
    }
  }
  if (!rows.length) return null;
  return h(
    "dl",
    { class: "mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs" },
    rows.flatMap(([term, text]) => [h("dt", { class: "font-medium" }, term), h("dd", {}, text)]),
  );
}
