// A lead's calls and texts as one timeline, oldest first. Items are added and updated in place
// (a poll that brings nothing new changes nothing on screen), so a form being filled in on the
// timeline survives every refresh.
import { h, replace } from "../dom.js";
import { isFinalCall, isFinalMessage, leadLegPending } from "../format.js";
import { emptyState, errorMessage, loading, notice } from "../ui.js";
import { callItem, messageItem } from "./timeline-items.js";

const sortKey = (data) => `${data.createdAt || ""}|${data.id}`;

function unchanged(before, after) {
  return before.updatedAt === after.updatedAt && before.status === after.status && before.disposition === after.disposition;
}

/**
 * timeline({leadStore, names}) -> {node, upsert(kind, data), show(results), moving(), settling()}
 * show(results) takes the poll's [calls, messages] settled results: adds what is new, and
 * says which source could not be loaded.
 */
export function timeline({ leadStore, names }) {
  const items = new Map(); // "call:<id>" | "message:<id>" -> {node, update, data, kind, sortKey}
  const list = h("ol", { class: "space-y-3", "aria-label": "Calls and messages, oldest first", "data-timeline": "" });
  const state = h("div", {});
  const problems = h("div", { class: "space-y-2" });
  const waiting = h("div", {}, loading("Loading calls and messages…"));
  let failed = 0;
  let loaded = false;

  const who = {
    call: (call) => names.get(call.teamMemberId) || "A team member",
    message: (m) => (m.direction !== "inbound" ? names.get(m.teamMemberId) || "You" : leadStore.get().name),
  };

  function renderState() {
    const lead = leadStore.get();
    const text = lead.smsOptOut ? "Call the lead to start." : "Call the lead or send a text to start.";
    replace(state, !loaded || items.size || failed === 2 ? null : emptyState("No calls or messages yet", text));
  }

  function insert(kind, data) {
    const entry = (kind === "call" ? callItem : messageItem)(data, { who: who[kind] });
    Object.assign(entry, { kind, sortKey: sortKey(data) });
    const after = [...items.values()]
      .filter((e) => e.sortKey > entry.sortKey)
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : 1))[0];
    if (after) list.insertBefore(entry.node, after.node);
    else list.append(entry.node);
    items.set(`${kind}:${data.id}`, entry);
  }

  function upsert(kind, data) {
    const existing = items.get(`${kind}:${data.id}`);
    if (!existing) insert(kind, data);
    else if (!unchanged(existing.data, data)) {
      existing.data = data;
      existing.update(data);
    }
    renderState();
  }

  function show([calls, messages]) {
    const trouble = [];
    if (calls.status === "fulfilled") for (const c of calls.value.items) upsert("call", c);
    else trouble.push(["Call history", calls.reason]);
    if (messages.status === "fulfilled") for (const m of messages.value.items) upsert("message", m);
    else trouble.push(["Text messages", messages.reason]);
    const real = trouble.filter(([, err]) => err?.name !== "AbortError");
    failed = real.length;
    replace(problems, real.map(([what, err]) => notice("error", h("p", {}, `${what} could not be loaded: ${errorMessage(err)}`))));
    if (!loaded) {
      loaded = true;
      replace(waiting);
    }
    renderState();
  }

  const all = () => [...items.values()];
  const node = h("div", { class: "space-y-3 p-4", "aria-live": "polite", "aria-relevant": "additions" }, problems, waiting, list, state);
  leadStore.subscribe(renderState);
  return {
    node,
    upsert,
    show,
    /** A call or an outbound text still changing status. */
    moving: () => all().some((e) => (e.kind === "call" ? !isFinalCall(e.data) : !isFinalMessage(e.data) && e.data.direction !== "inbound")),
    /** A call whose lead leg's last callback may still be on its way. */
    settling: () => all().some((e) => e.kind === "call" && leadLegPending(e.data)),
  };
}
