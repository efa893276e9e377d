// The Dialer view of one power-dialer session (#/dialer/<sessionId>): the session's live status
// in plain words and its counts, the current lead's details (fetched when the lead changes) and
// the campaign's script, the wrap-up (disposition buttons, notes, an optional callback time)
// with Next, and Pause, Resume, End, Drop voicemail, each enabled only in the statuses the API
// allows (API.md, "Campaigns and the dialer"); a 409 is said in words. It polls
// GET /dialer/sessions/{id} every 2 s while the session is live and stops once it has ended or
// the page is left (the router aborts `signal`). The member's callbacks are listed below.
import * as api from "../api.js";
import { h, icon, replace, setText } from "../dom.js";
import { localToIso } from "../dialogs/callback-form.js";
import { duration, label, localTimeIn, number } from "../format.js";
import { panel } from "../panel.js";
import { callbacksPanel } from "../panels/callbacks.js";
import { resource } from "../store.js";
import { badge, busy, errorMessage, errorState, field, loading, nextId, notice, section, toast } from "../ui.js";

const POLL_MS = 2000; // never more often: the API's limit for a live session's view
const POLL_AFTER_ERROR_MS = 5000;

// The statuses each action is allowed from (the API answers 409 otherwise).
const ALLOWED = {
  next: new Set(["wrap_up", "ready"]),
  pause: new Set(["ready", "wrap_up"]),
  resume: new Set(["paused"]),
  end: new Set(["connecting", "ready", "dialing", "connected", "wrap_up", "paused"]),
  "drop-voicemail": new Set(["connected"]),
};
const STATUS_WORDS = {
  connecting: "still calling your phone",
  ready: "waiting for a lead",
  dialing: "dialing a lead",
  connected: "on a call with a lead",
  wrap_up: "in wrap-up",
  paused: "paused",
  ended: "over",
};
const ACTION_WORDS = { next: "dial the next lead", pause: "pause", resume: "resume", end: "end the session", "drop-voicemail": "leave the voicemail" };

const DISPOSITIONS = [
  ["meeting_booked", "Meeting booked"],
  ["connected", "Talked"],
  ["callback_requested", "Call back later"],
  ["not_interested", "Not interested"],
  ["wrong_number", "Wrong number"],
  ["do_not_call", "Do not call"],
  ["left_voicemail", "Left voicemail"],
  ["no_answer", "No answer"],
];

const END_REASONS = {
  ended_by_member: "you ended it",
  ended_by_manager: "a manager ended it",
  member_hung_up: "you hung up",
  member_busy: "your phone was busy",
  member_no_answer: "your phone did not answer",
  member_failed: "the call to your phone failed",
  member_canceled: "the call to your phone was canceled",
  member_did_not_start: "1 was not pressed on your phone",
  conference_ended: "the call ended",
  campaign_not_active: "the campaign is no longer active",
  twilio_error: "Twilio refused the call",
};

/** {title, text} for a session, in words. */
export function describe(session, leadName) {
  const who = leadName || "the lead";
  switch (session.status) {
    case "connecting":
      return { title: "Calling your phone", text: "Answer your phone and press 1 to start dialing." };
    case "ready":
      if (session.note === "no_leads") return { title: "Waiting for a lead", text: "No lead can be called right now; the dialer will try again." };
      if (session.note === "twilio_error") return { title: "Waiting", text: "Twilio refused the last call; the dialer will try again." };
      return { title: "Ready", text: "You are on the line; the dialer is about to call the next lead." };
    case "dialing":
      return { title: `Dialing ${who}`, text: "The lead's phone is ringing. Stay on the line: a person who answers is put through at once." };
    case "connected":
      return { title: `Connected to ${who}`, text: "You are talking to the lead. When the call ends, save the outcome." };
    case "wrap_up":
      return { title: "Wrap-up", text: `The call with ${who} has ended. Choose the outcome, add notes, then press Next.` };
    case "paused":
      return { title: "Paused", text: "Nothing is dialled. Press Resume to go on, or End to stop." };
    case "ended": {
      const why = END_REASONS[session.endReason] || label(session.endReason || "ended");
      return { title: "Session ended", text: `This session has ended: ${why}.${session.note && session.endReason === "twilio_error" ? ` (${session.note})` : ""}` };
    }
    default:
      return { title: label(session.status), text: "" };
  }
}

const STATUS_STYLE = {
  connecting: "bg-amber-50 ring-amber-200",
  ready: "bg-sky-50 ring-sky-200",
  dialing: "bg-indigo-50 ring-indigo-200",
  connected: "bg-emerald-50 ring-emerald-300",
  wrap_up: "bg-violet-50 ring-violet-200",
  paused: "bg-slate-100 ring-slate-300",
  ended: "bg-slate-100 ring-slate-300",
};

function statusCard() {
  const title = h("p", { class: "text-xl font-semibold text-slate-900", "data-session-title": "" });
  const text = h("p", { class: "mt-1 text-sm text-slate-700", "data-session-text": "" });
  const node = h("div", { class: "rounded-lg p-4 ring-1", role: "status", "aria-live": "polite", "data-session-status": "" }, title, text);
  return {
    node,
    show(session, leadName) {
      const d = describe(session, leadName);
      node.dataset.sessionStatus = session.status;
      node.setAttribute("class", `rounded-lg p-4 ring-1 ${STATUS_STYLE[session.status] || "bg-white ring-slate-200"}`);
      setText(title, d.title);
      setText(text, d.text);
    },
  };
}

function countsView(stats) {
  const s = stats || {};
  const item = (key, term, value) => h("div", { class: "rounded-md bg-slate-50 px-3 py-2", "data-session-count": key }, h("dt", { class: "text-xs font-medium text-slate-600" }, term), h("dd", { class: "text-lg font-semibold tabular-nums" }, value));
  return h(
    "dl",
    { class: "grid grid-cols-2 gap-2 p-4 sm:grid-cols-3" },
    item("dialed", "Dialled", number(s.dialed)),
    item("humans", "People", number(s.humans)),
    item("machines", "Machines", number(s.machines)),
    item("voicemails", "Voicemails left", number(s.voicemailsDropped)),
    item("noAnswer", "No answer", number(s.noAnswer)),
    item("talk", "Talk time", duration(s.talkSeconds)),
  );
}

function leadView(lead, status) {
  if (!lead) {
    const text = status === "ended" ? "The session has ended." : status === "connecting" ? "The first lead is dialled once you pressed 1." : "No lead right now.";
    return h("p", { class: "px-4 py-6 text-sm text-slate-600", "data-current-lead": "" }, text);
  }
  const row = (term, value) => h("div", { class: "grid grid-cols-3 gap-2 px-4 py-2" }, h("dt", { class: "font-medium text-slate-600" }, term), h("dd", { class: "col-span-2 min-w-0 break-words" }, value));
  const local = localTimeIn(lead.timezone);
  return h(
    "div",
    { "data-current-lead": lead.id },
    h(
      "div",
      { class: "flex flex-wrap items-center gap-2 px-4 pt-3" },
      h("h3", { class: "text-lg font-semibold" }, h("a", { href: `#/leads/${encodeURIComponent(lead.id)}`, class: "link", target: "_blank", rel: "noopener" }, lead.name)),
      badge(lead.status),
      lead.doNotCall ? badge("danger", "Do not call") : null,
    ),
    h(
      "dl",
      { class: "divide-y divide-slate-100 text-sm" },
      row("Phone", h("span", { class: "tabular-nums" }, lead.phone)),
      row("Company", lead.company || "—"),
      row("Email", lead.email || "—"),
      row("Local time", local || "—"),
      lead.notes ? row("Notes", h("span", { class: "whitespace-pre-wrap" }, lead.notes)) : null,
    ),
  );
}

/** The wrap-up form: disposition buttons (one pressed at a time), notes, a callback time. */
function wrapUpForm() {
  let chosen = "";
  const groupId = nextId("dispositions");
  const buttons = DISPOSITIONS.map(([value, text]) =>
    h("button", { type: "button", class: "btn btn-secondary btn-sm aria-pressed:bg-indigo-600 aria-pressed:text-white aria-pressed:ring-indigo-600", "aria-pressed": "false", "data-disposition": value }, text),
  );
  const setChosen = (value) => {
    chosen = value;
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.disposition === value));
  };
  for (const b of buttons) b.addEventListener("click", () => setChosen(chosen === b.dataset.disposition ? "" : b.dataset.disposition));
  const notes = field({ name: "notes", label: "Call notes", kind: "textarea", rows: 3, maxlength: 5000 });
  const callback = field({ name: "callbackAt", label: "Call back at (optional)", kind: "datetime-local", hint: "Your local time: the lead comes back to you first, in your session." });
  const node = h(
    "div",
    { class: "space-y-3 p-4" },
    h("div", { role: "group", "aria-labelledby": groupId }, h("p", { id: groupId, class: "label" }, "Outcome"), h("div", { class: "flex flex-wrap gap-2" }, buttons)),
    notes,
    callback,
  );
  const notesEl = notes.querySelector("textarea");
  const callbackEl = callback.querySelector("input");
  return {
    node,
    values() {
      const body = {};
      if (chosen) body.disposition = chosen;
      if (notesEl.value.trim()) body.notes = notesEl.value.trim();
      const at = localToIso(callbackEl.value);
      if (at) body.callbackAt = at;
      return body;
    },
    reset() {
      setChosen("");
      notesEl.value = "";
      callbackEl.value = "";
    },
    enable(on) {
      for (const el of [...buttons, notesEl, callbackEl]) el.disabled = !on;
    },
  };
}

function controls(run) {
  const make = (action, text, iconName, cls) => {
    const b = h("button", { type: "button", class: `btn ${cls}`, "data-action": action }, iconName ? icon(iconName) : null, text);
    b.addEventListener("click", () => run(action, b));
    return b;
  };
  return {
    next: make("next", "Next", "chevronRight", "btn-primary"),
    pause: make("pause", "Pause", "pause", "btn-secondary"),
    resume: make("resume", "Resume", "play", "btn-secondary"),
    drop: make("drop-voicemail", "Drop voicemail", "message", "btn-secondary"),
    end: make("end", "End session", "close", "btn-danger"),
  };
}

/** A refusal in words: 409 says what the session is doing now. */
function refusal(action, err) {
  if (err.status === 409) {
    if (err.details?.field === "voicemailMessage") return "This campaign has no voicemail message to leave. Ask a manager to add one.";
    const now = err.details?.status;
    if (now) return `You cannot ${ACTION_WORDS[action]} now: the session is ${STATUS_WORDS[now] || label(now)}. The view shows where it is now.`;
    return `You cannot ${ACTION_WORDS[action]} now: ${errorMessage(err)}`;
  }
  return `Could not ${ACTION_WORDS[action]}: ${errorMessage(err)}`;
}

function dialerPage(first, { session, signal, setTitle }) {
  const status = statusCard();
  const counts = h("div", {});
  const leadBox = h("div", {});
  const scriptBox = h("div", { class: "whitespace-pre-wrap p-4 text-sm text-slate-800", "data-script": "" }, "Loading the script…");
  const problem = h("div", { role: "alert", class: "empty:hidden" });
  const campaignLink = h("a", { href: `#/campaigns/${encodeURIComponent(first.campaignId)}`, class: "link text-sm" }, "← The campaign");
  const subtitle = h("p", { class: "text-sm text-slate-600" });
  const hint = h("p", { class: "text-xs text-slate-600" });
  const wrap = wrapUpForm();
  const callbacks = callbacksPanel(signal);
  const state = { leadId: null, lead: null, callId: first.currentCallId, campaign: null };

  const show = (s) => {
    status.show(s, state.lead && state.lead.id === s.currentLeadId ? state.lead.name : null);
    replace(counts, countsView(s.stats));
    for (const [action, button] of Object.entries(buttons)) {
      const key = action === "drop" ? "drop-voicemail" : action;
      if (button.getAttribute("aria-busy") !== "true") button.disabled = !ALLOWED[key].has(s.status);
    }
    buttons.pause.hidden = s.status === "paused";
    buttons.resume.hidden = s.status !== "paused";
    buttons.drop.hidden = state.campaign ? !state.campaign.voicemailMessage : false;
    wrap.enable(s.status === "wrap_up" || s.status === "connected");
    if (s.currentCallId && s.currentCallId !== state.callId) wrap.reset();
    state.callId = s.currentCallId || state.callId;
    followLead(s);
  };

  async function followLead(s) {
    const id = s.currentLeadId || null;
    if (id === state.leadId) return;
    state.leadId = id;
    if (!id) {
      // Keep the last lead on screen through wrap-up; say so once nothing is current.
      if (s.status !== "wrap_up") {
        state.lead = null;
        replace(leadBox, leadView(null, s.status));
      }
      return;
    }
    replace(leadBox, loading("Loading the lead…"));
    try {
      const lead = await api.getLead(id, signal);
      if (state.leadId !== id) return;
      state.lead = lead;
      replace(leadBox, leadView(lead, s.status));
      status.show(session.get().data || s, lead.name);
    } catch (err) {
      if (err?.name === "AbortError" || state.leadId !== id) return;
      replace(leadBox, errorState(err, null, "Could not load the lead"));
    }
  }

  async function run(action, button) {
    replace(problem);
    const current = session.get().data;
    // Next and Pause from wrap-up save the conversation's outcome first (the API does both).
    const saving = (action === "next" || action === "pause") && current?.status === "wrap_up";
    const body = saving ? wrap.values() : undefined;
    try {
      const next = await busy(button, "Working…", () => api.sessionAction(first.id, action, body));
      if (saving) {
        if (Object.keys(body).length) toast("Outcome saved.", "success");
        if (body.callbackAt) callbacks.refresh();
        wrap.reset();
      }
      session.set({ status: "ready", data: next, error: null });
      session.after(next.status === "ended" ? null : POLL_MS);
    } catch (err) {
      replace(problem, notice(err.status === 409 ? "warning" : "error", h("p", {}, refusal(action, err))));
      session.refresh();
    }
  }
  const buttons = controls(run);

  api.getCampaign(first.campaignId, signal).then(
    (c) => {
      state.campaign = c;
      setTitle(`Dialer · ${c.name}`);
      setText(subtitle, `Campaign: ${c.name}`);
      setText(campaignLink, `← ${c.name}`);
      setText(hint, c.autoAdvanceSeconds ? `After a conversation the next lead is dialled by itself after ${c.autoAdvanceSeconds} s.` : "After a conversation, press Next to dial the next lead.");
      replace(scriptBox, c.script || h("span", { class: "text-slate-600" }, "This campaign has no script."));
      const s = session.get().data;
      if (s) show(s);
    },
    (err) => {
      if (err?.name !== "AbortError") replace(scriptBox, errorState(err, null, "Could not load the campaign"));
    },
  );

  panel(counts, session, { loading: null, error: null, render: (s) => show(s) });
  return [
    campaignLink,
    h("div", { class: "mt-2 mb-4" }, h("h1", { class: "text-2xl font-bold tracking-tight", tabindex: "-1", "data-page-title": "" }, "Dialer"), subtitle),
    h(
      "div",
      { class: "grid gap-6 lg:grid-cols-3" },
      h(
        "div",
        { class: "space-y-6 lg:col-span-2" },
        h(
          "section",
          { class: "card space-y-3 p-4", "aria-label": "Session" },
          status.node,
          problem,
          h("div", { class: "flex flex-wrap gap-2" }, buttons.pause, buttons.resume, buttons.drop, buttons.end),
        ),
        section("Current lead", leadBox),
        section("Wrap-up", wrap.node, h("div", { class: "flex flex-wrap items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" }, hint, buttons.next)),
      ),
      h("div", { class: "space-y-6" }, section("This session", counts), section("Script", scriptBox), section("Your callbacks", callbacks.node)),
    ),
  ];
}

export async function renderDialer({ main, params, signal, setTitle }) {
  const id = params[0];
  const every = (data, err) => {
    if (err) return err.status === 404 || err.status === 403 ? null : POLL_AFTER_ERROR_MS;
    return data && data.status === "ended" ? null : POLL_MS;
  };
  // A poll that left before an action and answers after it carries an older version: the
  // session as the action left it stays (and decides the next poll).
  const load = async (s) => {
    const fresh = await api.getSession(id, s);
    const shown = session.get().data;
    return shown && shown.id === fresh.id && Number(fresh.version) < Number(shown.version) ? shown : fresh;
  };
  const session = resource(load, { signal, every, hiddenEvery: POLL_MS });
  let drawn = false;
  const frame = h("div", {});
  replace(main, frame);
  await new Promise((resolve) => {
    const stop = session.subscribe((st) => {
      if (drawn) return;
      if (st.status === "ready") {
        drawn = true;
        replace(frame, dialerPage(st.data, { session, signal, setTitle }));
        stop();
        resolve();
      } else if (st.status === "error") {
        const missing = st.error?.status === 404;
        replace(
          frame,
          h("a", { href: "#/campaigns", class: "link text-sm" }, "← Campaigns"),
          h("h1", { class: "mt-2 text-2xl font-bold", tabindex: "-1", "data-page-title": "" }, missing ? "Dialer session not found" : "Could not load the dialer session"),
          errorState(st.error, missing ? null : () => session.refresh()),
        );
        resolve();
      }
    });
    replace(frame, loading("Loading the session…"));
    session.start();
  });
}
