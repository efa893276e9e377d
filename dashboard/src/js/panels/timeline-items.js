// The two kinds of item on a lead's timeline: a call (status, outcome, and the outcome form
// once it has ended) and a text message (a bubble; its body is a stranger's text, set as text).
import { callAudio } from "../api.js";
import { h, icon, replace } from "../dom.js";
import { callOutcome, dateTime, duration, isFinalCall, phone } from "../format.js";
import { badge } from "../ui.js";
import { dispositionLabel, outcomeForm } from "./outcome-form.js";

/** A button that fetches the call's audio (with the token) and swaps itself for a player. */
function audioPlayer(call) {
  const kind = call.voicemail ? "voicemail" : "recording";
  const box = h("div", { class: "mt-2", "data-call-audio": kind });
  const button = h(
    "button",
    {
      type: "button",
      class: "btn btn-ghost btn-sm",
      "aria-label": `Play the ${kind} of this call`,
      onclick: async () => {
        button.disabled = true;
        try {
          const blob = await callAudio(call.id);
          const player = h("audio", { controls: "", src: URL.createObjectURL(blob), "aria-label": `The ${kind}` });
          replace(box, player);
          player.play().catch(() => {});
        } catch (err) {
          button.disabled = false;
          replace(box, button, h("p", { class: "mt-1 text-sm text-rose-700", role: "alert" }, `Could not load the ${kind}: ${err.message || err}`));
        }
      },
    },
    icon("play"),
    call.voicemail ? "Play voicemail" : "Play recording",
  );
  replace(box, button);
  return box;
}

function callHead(call, who) {
  const outcome = callOutcome(call);
  const final = isFinalCall(call);
  const inbound = call.direction === "inbound";
  const title = inbound
    ? call.teamMemberId && call.teamMemberId !== "-"
      ? `Call from the lead · taken by ${who}`
      : "Call from the lead"
    : `Call by ${who}`;
  return [
    h(
      "div",
      { class: "flex flex-wrap items-center gap-x-2 gap-y-1" },
      h("span", { class: "font-medium text-slate-900" }, title),
      h(
        "span",
        { "data-call-status": call.status, "data-call-outcome": outcome ? outcome.key : "" },
        outcome ? badge(outcome.key, outcome.short) : badge(call.status),
      ),
      h("time", { class: "ml-auto text-xs text-slate-600", datetime: call.createdAt || "" }, dateTime(call.createdAt)),
    ),
    h(
      "p",
      { class: "mt-1 text-sm text-slate-600" },
      [
        outcome ? outcome.text : "in progress…",
        call.callerId ? `from ${phone(call.callerId)}` : null,
        final && outcome?.key !== "completed" && call.durationSeconds ? `lasted ${duration(call.durationSeconds)}` : null,
      ]
        .filter(Boolean)
        .join(" · "),
    ),
    call.errorMessage ? h("p", { class: "mt-1 text-sm text-rose-700" }, call.errorMessage) : null,
    call.voicemail || call.recording ? audioPlayer(call) : null,
  ];
}

function savedOutcome(call, onEdit) {
  return h(
    "div",
    { class: "rounded-md bg-slate-50 p-2 text-sm" },
    h(
      "div",
      { class: "flex items-center justify-between gap-2" },
      h("p", {}, h("span", { class: "font-medium" }, "Outcome: "), call.disposition ? dispositionLabel(call.disposition) : "—"),
      h(
        "button",
        { type: "button", class: "btn btn-ghost btn-sm", "aria-label": "Edit the call outcome", onclick: onEdit },
        icon("pencil"),
        "Edit",
      ),
    ),
    call.notes ? h("p", { class: "mt-1 whitespace-pre-wrap text-slate-700" }, call.notes) : null,
  );
}

/**
 * callItem(call, {who}) -> {node, update(call)}: the call's line on the timeline. Once the call
 * has ended it offers the outcome form, or shows the saved outcome with an Edit button; a
 * form the user is typing in is never redrawn under them.
 */
export function callItem(call, { who }) {
  const head = h("div", {});
  const outcomeBox = h("div", { class: "mt-3" });
  const node = h(
    "li",
    { "data-call-id": call.id },
    h(
      "div",
      { class: "flex gap-3" },
      h("span", { class: "mt-0.5 grid size-8 shrink-0 place-items-center rounded-full bg-emerald-100 text-emerald-700", "aria-hidden": "true" }, icon("phone")),
      h("div", { class: "min-w-0 flex-1 rounded-lg border border-slate-200 bg-white p-3" }, head, outcomeBox),
    ),
  );
  const form = (current) => outcomeForm(current, { compact: true, onSaved: (saved) => force(saved) });

  function update(current) {
    replace(head, callHead(current, who(current)));
    const open = outcomeBox.querySelector("form");
    const typing = open && (open.dataset.dirty === "1" || open.contains(document.activeElement));
    if (!isFinalCall(current) || typing) {
      if (!isFinalCall(current)) replace(outcomeBox);
      return;
    }
    if (current.disposition || current.notes) {
      replace(
        outcomeBox,
        savedOutcome(current, () => {
          replace(outcomeBox, form(current));
          outcomeBox.querySelector("select").focus();
        }),
      );
    } else {
      replace(outcomeBox, form(current));
    }
  }
  function force(saved) {
    item.data = saved;
    replace(outcomeBox);
    update(saved);
  }
  const item = { node, update, data: call };
  update(call);
  return item;
}

function bubbleClass(outbound, failed) {
  if (!outbound) return "rounded-bl-sm bg-white text-slate-900 ring-1 ring-slate-200";
  return failed ? "rounded-br-sm bg-rose-50 text-rose-900 ring-1 ring-rose-200" : "rounded-br-sm bg-indigo-600 text-white";
}

/** messageItem(message, {who}) -> {node, update(message)}: a text as a chat bubble. */
export function messageItem(message, { who }) {
  const node = h("li", { "data-message-id": message.id });
  function update(m) {
    const outbound = m.direction !== "inbound";
    const failed = m.status === "failed" || m.status === "undelivered";
    replace(
      node,
      h(
        "div",
        { class: `flex ${outbound ? "justify-end" : "justify-start"}` },
        h(
          "div",
          { class: "max-w-[85%] sm:max-w-[70%]" },
          h(
            "div",
            { class: `rounded-2xl px-3 py-2 text-sm shadow-sm ${bubbleClass(outbound, failed)}` },
            h("span", { class: "sr-only" }, outbound ? "Sent text: " : "Received text: "),
            h("p", { class: "whitespace-pre-wrap break-words", "data-message-body": "" }, m.body),
          ),
          h(
            "p",
            { class: `mt-1 flex flex-wrap items-center gap-1 text-xs text-slate-600 ${outbound ? "justify-end" : ""}` },
            h("span", {}, who(m)),
            "·",
            h("time", { datetime: m.createdAt || "" }, dateTime(m.createdAt)),
            outbound ? h("span", { "data-message-status": m.status }, badge(m.status)) : null,
          ),
          m.errorMessage || (failed && m.errorCode)
            ? h("p", { class: "mt-0.5 text-right text-xs text-rose-700" }, m.errorMessage || `Error ${m.errorCode}`)
            : null,
        ),
      ),
    );
  }
  update(message);
  return { node, update, data: message };
}
