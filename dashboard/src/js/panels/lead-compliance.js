// "Can we call or text them now?" on a lead's page: GET /leads/{id}/compliance says, per
// channel, whether the number may be reached right now and, if not, why (compliance.js puts it
// in plain words, with when it opens in the viewer's and the lead's local time). Below it, the
// number's suppression from the same answer (channels, reason, source) with a link to the
// Compliance page for those who may read the list.
import * as api from "../api.js";
import { CHANNEL_WORDS, explain, sourceLabel } from "../compliance.js";
import { h } from "../dom.js";
import { dateTime } from "../format.js";
import { panel } from "../panel.js";
import { can } from "../roles.js";
import { resource } from "../store.js";
import { badge, loading, section } from "../ui.js";

const EVERY_MS = 60_000; // the hours move on: ask again every minute

function channelRow(channel, answer) {
  const words = CHANNEL_WORDS[channel];
  if (!answer) return null;
  const head = h("dt", { class: "font-medium text-slate-700" }, channel === "voice" ? "Calls" : "Texts");
  if (answer.allowed) {
    return h(
      "div",
      { class: "px-4 py-3", "data-compliance-channel": channel, "data-allowed": "true" },
      head,
      h("dd", { class: "mt-1" }, badge("active", `Can be ${words.verb} now`)),
    );
  }
  const why = explain({ reason: answer.reason, ...(answer.details || {}) }, { channel, message: answer.message });
  return h(
    "div",
    { class: "px-4 py-3", "data-compliance-channel": channel, "data-allowed": "false", "data-reason": answer.reason || "" },
    head,
    h(
      "dd",
      { class: "mt-1 space-y-1 text-sm" },
      badge("danger", `Cannot be ${words.verb} now`),
      h("p", { class: "font-medium text-slate-800" }, why.title),
      h("p", { class: "text-slate-700", "data-compliance-why": "" }, why.text),
      why.facts.map(([term, text]) => h("p", { class: "text-xs text-slate-600" }, `${term}: ${text}`)),
    ),
  );
}

function suppressionRows(item) {
  const rows = [];
  for (const channel of ["voice", "sms"]) {
    const rec = item[channel] || (item.channels?.includes(channel) ? item : null);
    if (!rec) continue;
    rows.push(
      h(
        "li",
        { "data-suppressed-channel": channel },
        h("span", { class: "font-medium" }, channel === "voice" ? "Calls" : "Texts"),
        `: ${sourceLabel(rec.source)}`,
        rec.reason ? ` (“${rec.reason}”)` : "",
        rec.createdAt ? `, ${dateTime(rec.createdAt)}` : "",
      ),
    );
  }
  return rows;
}

function suppressionBox(item) {
  if (!item || !(item.channels || []).length) return null;
  return h(
    "div",
    { class: "border-t border-slate-100 px-4 py-3 text-sm", "data-lead-suppression": "" },
    h("p", { class: "font-medium text-slate-800" }, "This number is suppressed"),
    h("ul", { class: "mt-1 list-disc space-y-0.5 pl-5 text-slate-700" }, suppressionRows(item)),
    can("suppressions.read")
      ? h("p", { class: "mt-1" }, h("a", { href: `#/compliance?phone=${encodeURIComponent(item.phone)}`, class: "link" }, "See it on the Compliance page"))
      : h("p", { class: "mt-1 text-xs text-slate-600" }, "Only an admin can take it off the list (an opt-out the person texted: only their START)."),
  );
}

/** leadCompliance(leadStore, signal) -> the section; follows the lead (its number, its flags). */
export function leadCompliance(leadStore, signal) {
  const area = h("div", { "aria-live": "polite", "data-lead-compliance": "" });
  const state = resource((s) => api.leadCompliance(leadStore.get().id, s), { signal, every: EVERY_MS });
  panel(area, state, {
    loading: () => loading("Checking the compliance rules…"),
    title: "Could not check the compliance rules",
    render: (answer) => [
      h("dl", { class: "divide-y divide-slate-100" }, channelRow("voice", answer.voice), channelRow("sms", answer.sms)),
      suppressionBox(answer.suppression),
    ],
  });
  let seen = leadStore.get();
  leadStore.subscribe((next) => {
    const moved = ["phone", "doNotCall", "smsOptOut", "state", "archived", "lastContactedAt"].some((k) => next[k] !== seen[k]);
    if (moved) state.refresh();
    seen = next;
  });
  state.start();
  return section("Can we contact them now?", area);
}
