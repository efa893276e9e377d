// One campaign: its numbers (GET /campaigns/{id}/stats, with a warning when the abandon rate
// passes 3 %), its settings and script, its leads by state (ready, scheduled, done: tabs, cursor
// pages; managers remove a lead), and for a member of it "Start dialing" (or, with a session
// that has not ended, the way back to it). Managers and admins edit and archive it here.
import * as api from "../api.js";
import { h, icon, replace } from "../dom.js";
import { openCampaignForm } from "../dialogs/campaign-form.js";
import { dateTime, duration, label, number, percent, relative } from "../format.js";
import { panel } from "../panel.js";
import { pager } from "../panels/pager.js";
import { can, me } from "../roles.js";
import { members, namesOf, resource } from "../store.js";
import { badge, busy, confirmDialog, errorMessage, errorState, loading, notice, section, toast } from "../ui.js";
import { archiveCampaign, campaignBadge } from "./campaigns.js";

const PAGE_SIZE = 25;
const STATS_EVERY_MS = 15_000;
const ABANDON_LIMIT = 0.03;
const STATES = [
  ["ready", "Ready", "Waiting for their first attempt."],
  ["scheduled", "Scheduled", "Attempted or deferred: the next try is at the time shown."],
  ["done", "Done", "Will not be dialled again."],
];
const AMD_TEXT = { off: "Off", hangup: "Hang up on machines", voicemail: "Leave a voicemail" };

/** The signed-in member's session that has not ended, if any (any campaign). */
export async function liveSessionOfMine(signal) {
  const mine = me()?.id;
  if (!mine) return null;
  const page = await api.sessionsOf({ teamMemberId: mine, limit: 10 }, signal);
  return (page.items || []).find((s) => s.status !== "ended") || null;
}

/** POST /dialer/sessions and open the Dialer view; a session already live opens that one. */
export async function startDialing(button, campaign, navigate) {
  try {
    const session = await busy(button, "Starting…", () => api.startDialerSession(campaign.id));
    navigate(`#/dialer/${encodeURIComponent(session.id)}`);
  } catch (err) {
    const live = err.status === 409 && err.details?.sessionId;
    if (live) {
      toast("You already have a dialer session that has not ended: here it is.");
      navigate(`#/dialer/${encodeURIComponent(err.details.sessionId)}`);
    } else {
      toast(`Could not start dialing: ${errorMessage(err)}`, "error");
    }
  }
}

function statCard(key, title, value, hint) {
  return h(
    "div",
    { class: "rounded-lg bg-white p-4 ring-1 ring-slate-200", "data-campaign-stat": key },
    h("dt", { class: "text-sm font-medium text-slate-600" }, title),
    h("dd", { class: "mt-1 text-2xl font-semibold tabular-nums text-slate-900" }, value),
    hint ? h("dd", { class: "mt-0.5 text-xs text-slate-600" }, hint) : null,
  );
}

function statsView(s) {
  const over = Number(s.abandonRate) > ABANDON_LIMIT;
  return [
    over
      ? h(
          "div",
          { class: "mb-4", "data-abandon-warning": "" },
          notice(
            "warning",
            h("p", { class: "font-semibold" }, `The abandon rate is ${percent(s.abandonRate)}, over the 3 % limit.`),
            h("p", {}, "The law (FTC Telemarketing Sales Rule, 47 CFR 64.1200) allows at most 3 % of answered calls to be abandoned over 30 days. Dial with fewer callers per campaign or pause it until the rate falls."),
          ),
        )
      : null,
    h(
      "dl",
      { class: "grid grid-cols-2 gap-3 sm:grid-cols-4" },
      statCard("dials", "Dials", number(s.dials)),
      statCard("humans", "People reached", number(s.humans), `${percent(s.connectRate)} of dials`),
      statCard("machines", "Machines", number(s.machines)),
      statCard("voicemails", "Voicemails left", number(s.voicemails)),
      statCard("talk", "Talk time", duration(s.talkSeconds), s.humans ? `${duration(s.avgTalkSeconds)} on average` : null),
      statCard("conversions", "Conversions", number(s.conversions)),
      statCard("remaining", "Leads remaining", number(s.remaining)),
      statCard("abandon", "Abandon rate", percent(s.abandonRate), `${number(s.abandoned)} abandoned`),
    ),
  ];
}

function settings(c, names) {
  const row = (term, ...value) =>
    h("div", { class: "grid grid-cols-3 gap-2 px-4 py-2.5" }, h("dt", { class: "font-medium text-slate-600" }, term), h("dd", { class: "col-span-2 min-w-0 break-words text-slate-800" }, value));
  const who = (c.memberIds || []).map((id) => names.get(id) || "Unknown member");
  return h(
    "dl",
    { class: "divide-y divide-slate-100 text-sm" },
    row("Caller ID", c.callerId || "None: choose one before dialling"),
    row("Members", who.length ? who.join(", ") : "Nobody yet"),
    row("Attempts", `At most ${c.maxAttempts}, ${c.retryAfterMinutes} minutes apart`),
    row("Machines", AMD_TEXT[c.amd] || label(c.amd)),
    c.amd === "voicemail" ? row("Voicemail", h("span", { class: "whitespace-pre-wrap" }, c.voicemailMessage || "—")) : null,
    row("Next lead", c.autoAdvanceSeconds ? `By itself ${c.autoAdvanceSeconds} s after a conversation` : "When the caller presses Next"),
    row("Recording", c.record ? "On (the lead hears a notice)" : "Off"),
    row("Script", c.script ? h("span", { class: "whitespace-pre-wrap" }, c.script) : "—"),
  );
}

function stateCell(item) {
  if (item.state === "done") return label(item.doneReason || "done");
  if (item.reservedBy) return "Being dialled now";
  return item.nextAttemptAt ? `Next try ${dateTime(item.nextAttemptAt)}` : "—";
}

/** The leads of one state: a table with Remove (managers), and a pager. */
function leadsPanel(c, state, signal, onRemoved) {
  const at = { cursors: [null], page: 0 };
  const list = resource(
    async (s) => {
      const page = await api.campaignLeads(c.id, { state, limit: PAGE_SIZE, cursor: at.cursors[at.page] }, s);
      at.cursors[at.page + 1] = page.nextCursor || null;
      return { items: page.items || [], hasNext: Boolean(page.nextCursor) };
    },
    { signal },
  );
  const go = (page) => {
    if (page === 0) at.cursors = [null];
    at.page = page;
    list.reload();
  };
  const removable = can("campaigns.write") && c.status !== "archived";
  const remove = async (item, button) => {
    const name = item.name || "this lead";
    const ok = await confirmDialog({ title: `Remove ${name} from ${c.name}?`, message: "The dialer will not call them for this campaign. The lead and its history are kept.", confirmLabel: "Remove", danger: true });
    if (!ok) return;
    try {
      await busy(button, "Removing…", () => api.removeCampaignLead(c.id, item.leadId));
      toast(`Removed ${name} from the campaign.`, "success");
      list.refresh();
      onRemoved();
    } catch (err) {
      toast(`Could not remove ${name}: ${errorMessage(err)}`, "error");
    }
  };
  const area = h("div", {});
  const nav = h("nav", { "aria-label": `Pages of ${state} leads`, class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });
  panel(area, list, {
    loading: () => loading("Loading leads…"),
    title: "Could not load the campaign's leads",
    render: ({ items }) => {
      if (!items.length) return h("p", { class: "px-4 py-8 text-center text-sm text-slate-600", "data-state": "empty" }, at.page ? "No more leads." : `No ${state} leads.`);
      return h(
        "div",
        { class: "overflow-x-auto" },
        h(
          "table",
          { class: "table", "aria-label": `${label(state)} leads` },
          h(
            "thead",
            { class: "bg-slate-50" },
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Lead"),
              h("th", { scope: "col", class: "hidden sm:table-cell" }, "Phone"),
              h("th", { scope: "col", class: "text-right" }, "Attempts"),
              h("th", { scope: "col", class: "hidden md:table-cell" }, "Last attempt"),
              h("th", { scope: "col" }, state === "done" ? "Why" : "Next"),
              removable ? h("th", { scope: "col", class: "text-right" }, h("span", { class: "sr-only" }, "Actions")) : null,
            ),
          ),
          h(
            "tbody",
            { class: "divide-y divide-slate-100 bg-white" },
            items.map((item) =>
              h(
                "tr",
                { "data-lead-id": item.leadId },
                h("td", {}, h("a", { href: `#/leads/${encodeURIComponent(item.leadId)}`, class: "link" }, item.name || "Unknown lead"), item.company ? h("span", { class: "block text-xs text-slate-600" }, item.company) : null),
                h("td", { class: "hidden whitespace-nowrap tabular-nums sm:table-cell" }, item.phone || "—"),
                h("td", { class: "text-right tabular-nums" }, String(item.attempts ?? 0)),
                h("td", { class: "hidden md:table-cell" }, item.lastAttemptAt ? `${relative(item.lastAttemptAt)}${item.lastOutcome ? ` (${label(item.lastOutcome)})` : ""}` : "—"),
                h("td", {}, stateCell(item)),
                removable
                  ? h(
                      "td",
                      { class: "text-right" },
                      h("button", { type: "button", class: "btn btn-ghost btn-sm text-rose-700", "aria-label": `Remove ${item.name || item.leadId} from the campaign`, onclick: (e) => remove(item, e.currentTarget) }, icon("trash"), h("span", { class: "hidden lg:inline" }, "Remove")),
                    )
                  : null,
              ),
            ),
          ),
        ),
      );
    },
  });
  panel(nav, list, {
    loading: () => [],
    error: () => [],
    render: ({ items, hasNext }) => {
      const nodes = pager({ page: at.page, pageSize: PAGE_SIZE, count: items.length, hasNext, onPrevious: () => go(at.page - 1), onNext: () => go(at.page + 1) });
      nav.hidden = !nodes;
      return nodes || [];
    },
  });
  list.start();
  return [area, nav];
}

/** Tabs for the three states; the chosen one's leads below. */
function leadsByState(c, signal, onRemoved) {
  const panelBox = h("div", { role: "tabpanel", tabindex: "0", id: `campaign-leads-panel` });
  const tabs = STATES.map(([key, text, hint]) =>
    h("button", { type: "button", role: "tab", id: `campaign-tab-${key}`, "aria-controls": "campaign-leads-panel", "aria-selected": "false", tabindex: "-1", title: hint, "data-state-tab": key, class: "border-b-2 border-transparent px-3 py-2 text-sm font-medium text-slate-600 hover:text-slate-900 aria-selected:border-indigo-600 aria-selected:text-indigo-700" }, text, " ", h("span", { class: "tabular-nums", "data-tab-count": key }, `(${number(c.counts?.[key])})`)),
  );
  let controller = null;
  function choose(index, focus = false) {
    tabs.forEach((t, i) => {
      t.setAttribute("aria-selected", String(i === index));
      t.tabIndex = i === index ? 0 : -1;
    });
    if (focus) tabs[index].focus();
    panelBox.setAttribute("aria-labelledby", tabs[index].id);
    if (controller) controller.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    replace(panelBox, leadsPanel(c, STATES[index][0], controller.signal, onRemoved));
  }
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => choose(i));
    t.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (step) {
        e.preventDefault();
        choose((i + step + tabs.length) % tabs.length, true);
      }
    });
  });
  choose(0);
  const setCounts = (counts) => {
    for (const [key] of STATES) {
      const el = tabs.find((t) => t.dataset.stateTab === key)?.querySelector("[data-tab-count]");
      if (el) el.textContent = `(${number(counts?.[key])})`;
    }
  };
  return { setCounts, nodes: [h("div", { role: "tablist", "aria-label": "Leads by state", class: "flex gap-1 overflow-x-auto border-b border-slate-200 px-2" }, tabs), panelBox] };
}

function header(c, { live, navigate, onChanged }) {
  const mine = (c.memberIds || []).includes(me()?.id);
  const actions = [];
  if (live) {
    const here = live.campaignId === c.id;
    actions.push(h("a", { href: `#/dialer/${encodeURIComponent(live.id)}`, class: "btn btn-success", "data-live-session": live.id }, icon("phone"), here ? "Return to your dialer session" : "Return to your dialer session (another campaign)"));
  } else if (mine && c.status === "active") {
    const start = h("button", { type: "button", class: "btn btn-success" }, icon("phone"), "Start dialing");
    start.addEventListener("click", () => startDialing(start, c, navigate));
    actions.push(start);
  }
  if (can("campaigns.write") && c.status !== "archived") {
    actions.push(h("a", { href: "#/leads", class: "btn btn-secondary" }, icon("plus"), "Add leads"));
    actions.push(h("button", { type: "button", class: "btn btn-secondary", onclick: () => openCampaignForm({ campaign: c, onSaved: onChanged }) }, icon("pencil"), "Edit"));
    actions.push(
      h(
        "button",
        {
          type: "button",
          class: "btn btn-secondary text-rose-700",
          onclick: async () => {
            if (await archiveCampaign(c)) onChanged();
          },
        },
        icon("archive"),
        "Archive",
      ),
    );
  }
  const why =
    !live && mine && c.status !== "active"
      ? notice("info", h("p", {}, `This campaign is ${c.status}: nobody can dial it now.`))
      : !mine && c.status === "active" && !live
        ? h("p", { class: "text-sm text-slate-600" }, "You are not a member of this campaign, so you cannot dial it.")
        : null;
  return h(
    "div",
    { class: "mt-2 mb-6 space-y-3" },
    h(
      "div",
      { class: "flex flex-wrap items-start justify-between gap-3" },
      h("div", { class: "min-w-0 space-y-1" }, h("h1", { class: "break-words text-2xl font-bold tracking-tight", tabindex: "-1", "data-page-title": "" }, c.name), h("div", { class: "flex gap-1" }, campaignBadge(c.status), c.createdAt ? badge("", `Created ${relative(c.createdAt)}`) : null)),
      h("div", { class: "flex flex-wrap gap-2" }, actions),
    ),
    why,
  );
}

export async function renderCampaign({ main, params, signal, navigate, setTitle }) {
  const id = params[0];
  const page = resource(
    async (s) => {
      const [campaign, team, live] = await Promise.all([api.getCampaign(id, s), members().catch(() => []), liveSessionOfMine(s).catch(() => null)]);
      return { campaign, names: namesOf(team), live };
    },
    { signal },
  );
  const statsEvery = (data, err) => (err && (err.status === 404 || err.status === 403) ? null : STATS_EVERY_MS);
  const stats = resource((s) => api.campaignStats(id, s), { signal, every: statsEvery });
  const statsBox = h("div", { class: "p-4", "aria-live": "off" });
  panel(statsBox, stats, { loading: () => loading("Loading the numbers…"), render: statsView, title: "Could not load the campaign's numbers" });
  let leadsNodes = null;
  const refreshAll = () => {
    leadsNodes = null;
    page.refresh();
    stats.refresh();
  };
  panel(main, page, {
    loading: () => loading("Loading the campaign…"),
    error: (err, retry) => [
      h("a", { href: "#/campaigns", class: "link text-sm" }, "← All campaigns"),
      h("h1", { class: "mt-2 text-2xl font-bold", tabindex: "-1", "data-page-title": "" }, err.status === 404 ? "Campaign not found" : "Could not load the campaign"),
      errorState(err, err.status === 404 ? null : retry),
    ],
    render: ({ campaign, names, live }) => {
      setTitle(campaign.name);
      leadsNodes = leadsNodes || leadsByState(campaign, signal, () => stats.refresh().then(() => page.refresh()));
      leadsNodes.setCounts(campaign.counts);
      return [
        h("a", { href: "#/campaigns", class: "link text-sm" }, "← All campaigns"),
        header(campaign, { live, navigate, onChanged: refreshAll }),
        h(
          "div",
          { class: "space-y-6" },
          section("Numbers", statsBox),
          h(
            "div",
            { class: "grid gap-6 lg:grid-cols-3" },
            h("div", {}, section("Settings", settings(campaign, names))),
            h("div", { class: "lg:col-span-2" }, section("Leads", leadsNodes.nodes)),
          ),
        ),
      ];
    },
  });
  await Promise.all([page.start(), stats.start()]);
}
