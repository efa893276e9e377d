// The call dialog's second step: the call's status, live (GET /calls/{id} every second until it
// ends and the lead leg's last word is in), its steps, and the outcome form once it has ended.
import * as api from "../api.js";
import { h, replace, setText } from "../dom.js";
import { callOutcome, clock, duration, isFinalCall, label, leadLegPending } from "../format.js";
import { outcomeForm } from "../panels/outcome-form.js";
import { poll } from "../store.js";
import { badge, errorMessage, notice } from "../ui.js";

const POLL_MS = 1000;
const SETTLE_POLLS = 10; // polls to wait, after the member leg ended, for the lead leg's end
const STEPS = [
  { key: "queued", text: "Queued" },
  { key: "ringing", text: "Ringing your phone" },
  { key: "answered", text: "You answered" },
  { key: "ended", text: "Ended" },
];
const LEAD_RINGING = new Set(["queued", "initiated", "ringing"]);

function stepIndex(status) {
  if (isFinalCall({ status })) return 3;
  if (status === "in-progress") return 2;
  if (status === "initiated" || status === "ringing") return 1;
  return 0;
}

/** How far the member's own leg got: 0 placed, 1 rang, 2 answered (a final call included). */
function memberReached(call) {
  if (call.status === "in-progress" || call.status === "completed") return 2;
  if (["initiated", "ringing", "busy", "no-answer", "canceled"].includes(call.status)) return 1;
  return 0;
}

/** The third step says what the lead leg did, never "Connected" unless the lead answered. */
function answeredText(call) {
  const leg = call.leadLegStatus;
  if (leg === "in-progress" || leg === "completed" || Number(call.talkSeconds) > 0) return "Connected";
  if (!isFinalCall(call) && LEAD_RINGING.has(leg)) return "Ringing the lead";
  return "You answered";
}

function statusText(call, lead, member) {
  const outcome = callOutcome(call);
  if (outcome) return `Call ended: ${outcome.text}`;
  const ringing = member ? `Ringing ${member.name}'s phone…` : "Ringing…";
  const leg = call.leadLegStatus;
  let answered = "Answered: press 1 to call the lead";
  if (leg === "in-progress" || call.answeredAt) answered = `Connected to ${lead.name}`;
  else if (LEAD_RINGING.has(leg)) answered = `Ringing ${lead.name}…`;
  const texts = { queued: "Placing the call…", initiated: ringing, ringing, "in-progress": answered };
  return texts[call.status] || label(call.status);
}

function steps(call) {
  const final = isFinalCall(call);
  const idx = stepIndex(call.status);
  const reached = memberReached(call);
  const outcome = callOutcome(call);
  const endTone = outcome?.key === "completed" ? "bg-emerald-700 text-white" : "bg-amber-700 text-white";
  const tone = (i) => {
    if (final && i < 3) return i <= reached ? "bg-emerald-100 text-emerald-800" : "bg-slate-100 text-slate-600";
    if (i < idx) return "bg-emerald-100 text-emerald-800";
    if (i > idx) return "bg-slate-100 text-slate-600";
    return final ? endTone : "bg-indigo-600 text-white";
  };
  const text = (s, i) => (i === 3 && outcome ? outcome.short : i === 2 ? answeredText(call) : s.text);
  return STEPS.map((s, i) =>
    h("li", { class: `rounded-full px-2 py-0.5 ${tone(i)}`, "aria-current": i === idx ? "step" : null, "data-step": s.key }, text(s, i)),
  );
}

/**
 * callProgress(call, {lead, member, signal, onChange(call)}) -> node
 * Follows the call until it ends; onChange runs on every status seen and on a saved outcome.
 */
export function callProgress(initial, { lead, member, signal, onChange }) {
  const started = Date.now();
  const status = h("p", { class: "text-lg font-semibold", "data-call-status": initial.status });
  const elapsed = h("p", { class: "text-sm tabular-nums text-slate-600", "aria-hidden": "true" });
  const stepsList = h("ol", { class: "flex flex-wrap gap-x-2 gap-y-1 text-xs", "aria-label": "Call progress" });
  const legLine = h("p", { class: "text-sm text-slate-600" });
  const problem = h("div", {});
  const outcomeBox = h("div", {});
  let failures = 0;
  let settling = 0;

  function show(call) {
    const final = isFinalCall(call);
    const outcome = callOutcome(call);
    setText(status, statusText(call, lead, member));
    status.dataset.callStatus = call.status;
    status.dataset.callOutcome = outcome ? outcome.key : "";
    replace(stepsList, steps(call));
    replace(
      legLine,
      call.leadLegStatus && !final ? ["Lead: ", badge(call.leadLegStatus)] : null,
      final && call.durationSeconds ? `The call lasted ${duration(call.durationSeconds)}.` : null,
    );
    if (call.errorCode === "blocked") {
      // Compliance checked the number again when 1 was pressed and refused to dial it.
      replace(
        problem,
        notice(
          "warning",
          h("p", { class: "font-semibold" }, "The lead was not dialled"),
          h("p", { "data-blocked-message": "" }, `The number became blocked after the call was placed: ${call.errorMessage || "a compliance rule refused it"}.`),
        ),
      );
    } else if (call.errorMessage || call.errorCode) replace(problem, notice("error", h("p", {}, call.errorMessage || `Error ${call.errorCode}`)));
    if (final && !outcomeBox.hasChildNodes()) {
      setText(elapsed, "");
      replace(
        outcomeBox,
        h("h3", { class: "mb-2 text-sm font-semibold text-slate-800" }, "How did it go?"),
        outcomeForm(call, { onSaved: (saved) => onChange && onChange(saved) }),
      );
    }
    if (onChange) onChange(call);
  }

  const more = (call) => !isFinalCall(call) || (leadLegPending(call) && settling < SETTLE_POLLS);
  const follow = poll(
    async () => {
      const call = await api.getCall(initial.id);
      failures = 0;
      if (signal.aborted) return call;
      if (!call.errorMessage) replace(problem);
      show(call);
      if (leadLegPending(call)) settling += 1;
      return call;
    },
    {
      signal,
      background: true,
      delay: (call, err) => {
        if (!err) return more(call) ? POLL_MS : null;
        failures += 1;
        if (err.status === 401) return null;
        if (failures >= 3) replace(problem, notice("warning", h("p", {}, `Lost contact with the API (${errorMessage(err)}); still trying…`)));
        return POLL_MS * Math.min(failures + 1, 5);
      },
    },
  );

  const tick = setInterval(() => {
    if (signal.aborted || isFinalCall({ status: status.dataset.callStatus })) clearInterval(tick);
    else setText(elapsed, clock((Date.now() - started) / 1000));
  }, 500);
  show(initial);
  if (!isFinalCall(initial) || leadLegPending(initial)) follow.after(POLL_MS);
  return h(
    "div",
    { class: "space-y-4", "data-call-id": initial.id },
    h("div", { class: "flex items-start justify-between gap-3" }, h("div", { role: "status", "aria-live": "polite", "aria-atomic": "true" }, status), elapsed),
    stepsList,
    legLine,
    problem,
    outcomeBox,
  );
}
