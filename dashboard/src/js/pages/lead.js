// One lead: details, calls and SMS as one timeline (kept live by polling while anything is in
// flight), the SMS composer, and the outcome of each call.
import * as api from "../api.js";
import { h, icon, isVisible, replace, setText } from "../dom.js";
import {
  LEAD_STATUSES,
  callOutcome,
  dateTime,
  duration,
  isFinalCall,
  isFinalMessage,
  label,
  leadLegPending,
  localTimeIn,
  relative,
  smsSegments,
} from "../format.js";
import { openCallDialog } from "../call-dialog.js";
import { openLeadForm } from "../lead-form.js";
import { dispositionLabel, outcomeForm } from "../outcome-form.js";
import { members, pref, rememberLead } from "../store.js";
import { archiveWithConfirm } from "./leads.js";
import {
  badge,
  busy,
  clearErrors,
  emptyState,
  errorMessage,
  errorState,
  formBanner,
  loading,
  nextId,
  notice,
  section,
  showErrors,
  toast,
} from "../ui.js";

const FAST_MS = 1500;
const SLOW_MS = 10_000;

export async function renderLead({ main, params, signal, navigate, setTitle }) {
  const leadId = params[0];
  replace(main, loading("Loading the lead…"));
  let lead;
  let team = [];
  try {
    [lead, team] = await Promise.all([
      api.getLead(leadId, signal),
      members({ fresh: true }).catch(() => []),
    ]);
  } catch (err) {
    if (err?.name === "AbortError") return null;
    replace(
      main,
      h("a", { href: "#/leads", class: "link text-sm" }, "← All leads"),
      h("h1", { class: "mt-2 text-2xl font-bold", tabindex: "-1", "data-page-title": "" }, err.status === 404 ? "Lead not found" : "Could not load the lead"),
      errorState(err, err.status === 404 ? null : () => navigate(`#/leads/${encodeURIComponent(leadId)}`)),
    );
    return null;
  }
  rememberLead(lead);
  setTitle(lead.name);
  const names = new Map(team.map((m) => [m.id, m.name]));
  let timer = null;
  let stopped = false;

  // ------------------------------------------------------------ header and details
  const title = h("h1", { class: "break-words text-2xl font-bold tracking-tight", tabindex: "-1", "data-page-title": "" });
  const badges = h("div", { class: "flex flex-wrap gap-1" });
  const callBtn = h("button", { type: "button", class: "btn btn-success" }, icon("phone"), "Call");
  const editBtn = h("button", { type: "button", class: "btn btn-secondary" }, icon("pencil"), "Edit");
  const archiveBtn = h("button", { type: "button", class: "btn btn-secondary text-rose-700" }, icon("archive"), "Archive");
  const details = h("dl", { class: "divide-y divide-slate-100 text-sm" });
  const statusId = nextId("lead-status");
  const statusSelect = h(
    "select",
    { id: statusId, class: "input" },
    LEAD_STATUSES.map((s) => h("option", { value: s }, label(s))),
  );

  function renderHeader() {
    setText(title, lead.name);
    replace(
      badges,
      badge(lead.status),
      lead.doNotCall ? badge("danger", "Do not call") : null,
      lead.smsOptOut ? badge("warning", "Opted out of SMS") : null,
    );
    if (document.activeElement !== statusSelect) statusSelect.value = lead.status;
    callBtn.title = lead.doNotCall ? "On the do-not-call list: the call will be refused" : "";
    const local = localTimeIn(lead.timezone);
    const row = (term, ...value) =>
      h("div", { class: "grid grid-cols-3 gap-2 px-4 py-2.5" }, h("dt", { class: "font-medium text-slate-500" }, term), h("dd", { class: "col-span-2 min-w-0 break-words text-slate-800" }, value));
    replace(
      details,
      row("Phone", h("span", { class: "tabular-nums" }, lead.phone)),
      row("Email", lead.email || "—"),
      row("Company", lead.company || "—"),
      row("Assigned to", lead.assignedToId ? names.get(lead.assignedToId) || "Unknown member" : "Unassigned"),
      row("Local time", local ? `${local}${lead.timezone ? ` (${lead.timezone})` : ""}` : "—"),
      row("Last contact", relative(lead.lastContactedAt)),
      row("Source", label(lead.source)),
      row("Added", dateTime(lead.createdAt)),
      lead.notes ? row("Notes", h("span", { class: "whitespace-pre-wrap" }, lead.notes)) : null,
    );
    renderComposerState();
  }

  statusSelect.addEventListener("change", async () => {
    const wanted = statusSelect.value;
    statusSelect.disabled = true;
    try {
      lead = await api.updateLead(lead.id, { status: wanted, version: lead.version });
      rememberLead(lead);
      toast(`Status set to ${label(wanted)}.`, "success");
    } catch (err) {
      toast(`Could not change the status: ${errorMessage(err)}`, "error");
      try {
        lead = await api.getLead(lead.id);
      } catch {
        /* keep what we had */
      }
    } finally {
      statusSelect.disabled = false;
      renderHeader();
    }
  });
  callBtn.addEventListener("click", () => openCallDialog(lead, { onChange: (call) => upsert("call", call, true) }));
  editBtn.addEventListener("click", () =>
    openLeadForm({
      lead,
      onSaved: (saved) => {
        lead = saved;
        setTitle(lead.name);
        renderHeader();
      },
    }),
  );
  archiveBtn.addEventListener("click", async () => {
    if (await archiveWithConfirm(lead)) navigate("#/leads");
  });

  // ------------------------------------------------------------ timeline
  const items = new Map(); // key -> {kind, data, node, sortKey}
  const list = h("ol", { class: "space-y-3", "aria-label": "Calls and messages, oldest first", "data-timeline": "" });
  const timelineState = h("div", {});
  const timelineProblems = h("div", { class: "space-y-2" });

  function sortKey(data) {
    return `${data.createdAt || ""}|${data.id}`;
  }

  function upsert(kind, data, schedule = false) {
    const key = `${kind}:${data.id}`;
    const existing = items.get(key);
    if (existing) {
      if (existing.data.updatedAt === data.updatedAt && existing.data.status === data.status && existing.data.disposition === data.disposition) return;
      existing.data = data;
      if (kind === "call") updateCallNode(existing);
      else replace(existing.node, messageContent(data));
    } else {
      const entry = { kind, data, sortKey: sortKey(data), node: null };
      entry.node = kind === "call" ? callNode(entry) : h("li", { "data-message-id": data.id }, messageContent(data));
      const after = [...items.values()].filter((e) => e.sortKey > entry.sortKey).sort((a, b) => (a.sortKey < b.sortKey ? -1 : 1))[0];
      if (after) list.insertBefore(entry.node, after.node);
      else list.append(entry.node);
      items.set(key, entry);
    }
    renderTimelineState();
    if (schedule) scheduleRefresh(FAST_MS);
  }

  let sourcesFailed = 0;
  function renderTimelineState() {
    replace(
      timelineState,
      items.size || sourcesFailed === 2 ? null : emptyState("No calls or messages yet", lead.smsOptOut ? "Call the lead to start." : "Call the lead or send a text to start."),
    );
  }

  function callNode(entry) {
    const head = h("div", {});
    const outcome = h("div", { class: "mt-3" });
    entry.head = head;
    entry.outcome = outcome;
    const node = h(
      "li",
      { "data-call-id": entry.data.id },
      h(
        "div",
        { class: "flex gap-3" },
        h("span", { class: "mt-0.5 grid size-8 shrink-0 place-items-center rounded-full bg-emerald-100 text-emerald-700", "aria-hidden": "true" }, icon("phone")),
        h("div", { class: "min-w-0 flex-1 rounded-lg border border-slate-200 bg-white p-3" }, head, outcome),
      ),
    );
    updateCallNode(entry);
    return node;
  }

  function updateCallNode(entry) {
    const call = entry.data;
    const who = names.get(call.teamMemberId) || "A team member";
    const final = isFinalCall(call);
    const outcome = callOutcome(call);
    replace(
      entry.head,
      h(
        "div",
        { class: "flex flex-wrap items-center gap-x-2 gap-y-1" },
        h("span", { class: "font-medium text-slate-900" }, `Call by ${who}`),
        h(
          "span",
          { "data-call-status": call.status, "data-call-outcome": outcome ? outcome.key : "" },
          outcome ? badge(outcome.key, outcome.short) : badge(call.status),
        ),
        h("time", { class: "ml-auto text-xs text-slate-500", datetime: call.createdAt || "" }, dateTime(call.createdAt)),
      ),
      h(
        "p",
        { class: "mt-1 text-sm text-slate-600" },
        [
          outcome ? outcome.text : "in progress…",
          call.callerId ? `from ${call.callerId}` : null,
          final && outcome?.key !== "completed" && call.durationSeconds ? `lasted ${duration(call.durationSeconds)}` : null,
        ]
          .filter(Boolean)
          .join(" · "),
      ),
      call.errorMessage ? h("p", { class: "mt-1 text-sm text-rose-700" }, call.errorMessage) : null,
    );
    const form = entry.outcome.querySelector("form");
    const busyForm = form && (form.dataset.dirty === "1" || form.contains(document.activeElement));
    if (!final || busyForm) {
      if (!final) replace(entry.outcome);
      return;
    }
    if (call.disposition || call.notes) {
      replace(
        entry.outcome,
        h(
          "div",
          { class: "rounded-md bg-slate-50 p-2 text-sm" },
          h(
            "div",
            { class: "flex items-center justify-between gap-2" },
            h("p", {}, h("span", { class: "font-medium" }, "Outcome: "), call.disposition ? dispositionLabel(call.disposition) : "—"),
            h(
              "button",
              {
                type: "button",
                class: "btn btn-ghost btn-sm",
                "aria-label": "Edit the call outcome",
                onclick: () => {
                  replace(entry.outcome, outcomeForm(call, { compact: true, onSaved: (saved) => forceCall(entry, saved) }));
                  entry.outcome.querySelector("select").focus();
                },
              },
              icon("pencil"),
              "Edit",
            ),
          ),
          call.notes ? h("p", { class: "mt-1 whitespace-pre-wrap text-slate-700" }, call.notes) : null,
        ),
      );
    } else {
      replace(entry.outcome, outcomeForm(call, { compact: true, onSaved: (saved) => forceCall(entry, saved) }));
    }
  }

  function forceCall(entry, saved) {
    entry.data = saved;
    replace(entry.outcome);
    updateCallNode(entry);
  }

  function messageContent(m) {
    const outbound = m.direction !== "inbound";
    const who = outbound ? names.get(m.teamMemberId) || "You" : lead.name;
    const failed = m.status === "failed" || m.status === "undelivered";
    return h(
      "div",
      { class: `flex ${outbound ? "justify-end" : "justify-start"}` },
      h(
        "div",
        { class: "max-w-[85%] sm:max-w-[70%]" },
        h(
          "div",
          {
            class: `rounded-2xl px-3 py-2 text-sm shadow-sm ${outbound ? (failed ? "rounded-br-sm bg-rose-50 text-rose-900 ring-1 ring-rose-200" : "rounded-br-sm bg-indigo-600 text-white") : "rounded-bl-sm bg-white text-slate-900 ring-1 ring-slate-200"}`,
          },
          h("span", { class: "sr-only" }, outbound ? "Sent text: " : "Received text: "),
          h("p", { class: "whitespace-pre-wrap break-words", "data-message-body": "" }, m.body),
        ),
        h(
          "p",
          { class: `mt-1 flex flex-wrap items-center gap-1 text-xs text-slate-500 ${outbound ? "justify-end" : ""}` },
          h("span", {}, who),
          "·",
          h("time", { datetime: m.createdAt || "" }, dateTime(m.createdAt)),
          outbound ? h("span", { "data-message-status": m.status }, badge(m.status)) : null,
        ),
        m.errorMessage || (failed && m.errorCode)
          ? h("p", { class: "mt-0.5 text-right text-xs text-rose-700" }, m.errorMessage || `Error ${m.errorCode}`)
          : null,
      ),
    );
  }

  // ------------------------------------------------------------ SMS composer
  const composerId = nextId("sms");
  const bodyId = `${composerId}-body`;
  const counter = h("p", { id: `${bodyId}-count`, class: "text-xs text-slate-500" });
  const textarea = h("textarea", {
    id: bodyId,
    name: "body",
    rows: 3,
    maxlength: 1600,
    class: "input",
    placeholder: "Write a text message…",
    "aria-describedby": `${bodyId}-count`,
  });
  const senderSelect = h(
    "select",
    { id: `${composerId}-from`, name: "teamMemberId", class: "input" },
    h("option", { value: "" }, "The team"),
    team.filter((m) => m.active).map((m) => h("option", { value: m.id, selected: m.id === pref("memberId") }, m.name)),
  );
  // The sender: one of the account's SMS numbers (the API needs one unless a Messaging
  // Service is configured; if the list cannot be loaded, the account's default is used).
  const fromSelect = h(
    "select",
    { id: `${composerId}-number`, name: "from", class: "input" },
    h("option", { value: "" }, "Account default"),
  );
  api
    .phoneNumbers(signal)
    .then((numbers) => {
      const usable = numbers.filter((n) => n.sms);
      if (!usable.length) return;
      const wanted = pref("smsFrom") || pref("callerId");
      replace(
        fromSelect,
        usable.map((n) => h("option", { value: n.phoneNumber, selected: n.phoneNumber === wanted }, n.phoneNumber)),
      );
    })
    .catch(() => {
      /* keep "Account default" */
    });
  const sendBtn = h("button", { type: "submit", class: "btn btn-primary" }, icon("message"), "Send");
  const optOutNote = h("div", { "data-sms-opt-out": "" });
  const composer = h(
    "form",
    { id: composerId, novalidate: true, class: "space-y-2 border-t border-slate-200 p-4", "aria-label": "Send a text message" },
    optOutNote,
    formBanner(),
    h("label", { for: bodyId, class: "label" }, "Text message"),
    textarea,
    h(
      "div",
      { class: "flex flex-wrap items-end justify-between gap-3" },
      counter,
      h(
        "div",
        { class: "flex flex-wrap items-end gap-2" },
        h("div", {}, h("label", { for: `${composerId}-from`, class: "label text-xs" }, "Sent by"), senderSelect),
        h("div", {}, h("label", { for: `${composerId}-number`, class: "label text-xs" }, "From number"), fromSelect),
        sendBtn,
      ),
    ),
  );

  function updateCounter() {
    const { length, segments, unicode } = smsSegments(textarea.value);
    setText(counter, length ? `${length} characters · ${segments} ${segments === 1 ? "segment" : "segments"}${unicode ? " (Unicode)" : ""} · Ctrl+Enter sends` : "Ctrl+Enter sends");
  }
  function renderComposerState() {
    const optedOut = Boolean(lead.smsOptOut);
    textarea.disabled = optedOut;
    senderSelect.disabled = optedOut;
    fromSelect.disabled = optedOut;
    sendBtn.disabled = optedOut;
    replace(
      optOutNote,
      optedOut
        ? notice("warning", h("p", { class: "font-semibold" }, `${lead.name} has opted out of text messages.`), h("p", {}, "Sending is disabled. They can opt back in by texting START."))
        : null,
    );
  }
  textarea.addEventListener("input", updateCounter);
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      composer.requestSubmit();
    }
  });
  composer.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(composer);
    const text = textarea.value.trim();
    if (!text) {
      showErrors(composer, { code: "validation_error", message: "Write a message first.", details: { field: "body" } });
      return;
    }
    const body = { leadId: lead.id, body: text };
    if (senderSelect.value) {
      body.teamMemberId = senderSelect.value;
      pref("memberId", senderSelect.value);
    }
    if (fromSelect.value) {
      body.from = fromSelect.value;
      pref("smsFrom", fromSelect.value);
    }
    try {
      const message = await busy(sendBtn, "Sending…", () => api.sendMessage(body));
      textarea.value = "";
      updateCounter();
      upsert("message", message, true);
      textarea.focus();
    } catch (err) {
      showErrors(composer, err);
      if (err.code === "blocked" && /opt/i.test(err.message)) {
        lead = { ...lead, smsOptOut: true };
        renderHeader();
      }
    }
  });
  updateCounter();

  // ------------------------------------------------------------ refresh loop
  async function refresh() {
    if (stopped) return;
    const problems = [];
    const [calls, messages, fresh] = await Promise.allSettled([
      api.callsForLead(lead.id, signal),
      api.messagesForLead(lead.id, signal),
      api.getLead(lead.id, signal),
    ]);
    if (stopped) return;
    if (calls.status === "fulfilled") for (const c of calls.value.items) upsert("call", c);
    else problems.push(["Call history", calls.reason]);
    if (messages.status === "fulfilled") for (const m of messages.value.items) upsert("message", m);
    else problems.push(["Text messages", messages.reason]);
    if (fresh.status === "fulfilled" && fresh.value.updatedAt !== lead.updatedAt) {
      lead = fresh.value;
      rememberLead(lead);
      renderHeader();
    }
    sourcesFailed = problems.filter(([, err]) => err?.name !== "AbortError").length;
    renderTimelineState();
    replace(
      timelineProblems,
      problems
        .filter(([, err]) => err?.name !== "AbortError")
        .map(([what, err]) => notice("error", h("p", {}, `${what} could not be loaded: ${errorMessage(err)}`))),
    );
    if (!loaded) {
      loaded = true;
      replace(timelineLoading);
      renderTimelineState();
    }
    const live = [...items.values()];
    const moving = live.some((e) => (e.kind === "call" ? !isFinalCall(e.data) : !isFinalMessage(e.data) && e.data.direction !== "inbound"));
    // A lead leg's last callback can trail the member leg's; wait for it a little while.
    settling = !moving && live.some((e) => e.kind === "call" && leadLegPending(e.data)) ? settling + 1 : 0;
    scheduleRefresh(moving || (settling > 0 && settling < 8) ? FAST_MS : SLOW_MS);
  }
  function scheduleRefresh(ms) {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      if (isVisible()) refresh().catch(() => scheduleRefresh(SLOW_MS));
      else scheduleRefresh(SLOW_MS);
    }, ms);
  }
  let loaded = false;
  let settling = 0;
  const timelineLoading = h("div", {}, loading("Loading calls and messages…"));

  replace(
    main,
    h("a", { href: "#/leads", class: "link text-sm" }, "← All leads"),
    h(
      "div",
      { class: "mt-2 mb-6 flex flex-wrap items-start justify-between gap-3" },
      h("div", { class: "min-w-0 space-y-1" }, title, badges),
      h("div", { class: "flex flex-wrap gap-2" }, callBtn, editBtn, archiveBtn),
    ),
    h(
      "div",
      { class: "grid gap-6 lg:grid-cols-3" },
      h(
        "div",
        { class: "space-y-6" },
        section(
          "Details",
          h("div", { class: "border-b border-slate-100 px-4 py-3" }, h("label", { for: statusId, class: "label" }, "Status"), statusSelect),
          details,
        ),
      ),
      h(
        "div",
        { class: "lg:col-span-2" },
        section(
          "Activity",
          h("div", { class: "space-y-3 p-4", "aria-live": "polite", "aria-relevant": "additions" }, timelineProblems, timelineLoading, list, timelineState),
          composer,
        ),
      ),
    ),
  );
  renderHeader();
  replace(timelineState);
  refresh().catch(() => scheduleRefresh(SLOW_MS));
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
