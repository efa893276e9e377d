// One lead: the header, the details, the calls and texts as one timeline (kept live by polling
// while anything is in flight) and the SMS composer. The lead lives in a store that every
// panel follows, so a status change, an edit or a STOP reply shows everywhere at once.
import * as api from "../api.js";
import { h } from "../dom.js";
import { openArchiveLead } from "../dialogs/archive-lead.js";
import { openCallbackForm } from "../dialogs/callback-form.js";
import { openCallDialog } from "../dialogs/call-dialog.js";
import { openLeadForm } from "../dialogs/lead-form.js";
import { panel } from "../panel.js";
import { leadCompliance } from "../panels/lead-compliance.js";
import { leadDetails } from "../panels/lead-details.js";
import { leadHeader } from "../panels/lead-header.js";
import { smsComposer } from "../panels/sms-composer.js";
import { timeline } from "../panels/timeline.js";
import { can } from "../roles.js";
import { createStore, members, namesOf, rememberLead, resource } from "../store.js";
import { errorMessage, errorState, loading, section, toast } from "../ui.js";

const FAST_MS = 1500;
const SLOW_MS = 10_000;
const SETTLE_POLLS = 8; // fast polls to wait for a lead leg's last callback

function backLink() {
  return h("a", { href: "#/leads", class: "link text-sm" }, "← All leads");
}

function failedPage(err, leadId, navigate) {
  const missing = err.status === 404;
  return [
    backLink(),
    h("h1", { class: "mt-2 text-2xl font-bold", tabindex: "-1", "data-page-title": "" }, missing ? "Lead not found" : "Could not load the lead"),
    errorState(err, missing ? null : () => navigate(`#/leads/${encodeURIComponent(leadId)}`)),
  ];
}

/** The timeline's poll: calls, texts and the lead itself, fast while anything moves. */
function followActivity(leadStore, tl, signal) {
  let settling = 0;
  const every = (results, error) => {
    if (error) return SLOW_MS;
    settling = !tl.moving() && tl.settling() ? settling + 1 : 0;
    return tl.moving() || (settling > 0 && settling < SETTLE_POLLS) ? FAST_MS : SLOW_MS;
  };
  const id = leadStore.get().id;
  const activity = resource(
    (s) => Promise.allSettled([api.callsForLead(id, s), api.messagesForLead(id, s), api.getLead(id, s)]),
    { signal, every, hiddenEvery: SLOW_MS },
  );
  panel(tl.node, activity, {
    loading: null,
    error: null,
    render: ([calls, messages, fresh]) => {
      tl.show([calls, messages]);
      if (fresh.status === "fulfilled" && changed(fresh.value, leadStore.get())) leadStore.set(fresh.value);
    },
  });
  return activity;
}

function leadPage({ lead, team }, { signal, navigate, setTitle }) {
  const leadStore = createStore(lead);
  const remember = (next) => {
    rememberLead(next);
    setTitle(next.name);
  };
  remember(lead);
  leadStore.subscribe(remember);
  const names = namesOf(team);
  const tl = timeline({ leadStore, names });
  const activity = followActivity(leadStore, tl, signal);
  const changed = (kind) => (data) => {
    tl.upsert(kind, data);
    activity.after(FAST_MS);
  };
  const header = leadHeader(leadStore, {
    onCall: () => openCallDialog(leadStore.get(), { onChange: changed("call") }),
    onEdit: () => openLeadForm({ lead: leadStore.get(), onSaved: (saved) => leadStore.set(saved) }),
    onCallback: () => openCallbackForm(leadStore.get()),
    canArchive: can("leads.archive"),
    onArchive: async () => {
      if (await openArchiveLead(leadStore.get())) navigate("#/leads");
    },
    onRestore: async () => {
      const { id, name } = leadStore.get();
      try {
        leadStore.set(await api.restoreLead(id));
        toast(`Restored ${name}.`, "success");
      } catch (err) {
        toast(`Could not restore ${name}: ${errorMessage(err)}`, "error");
      }
    },
  });
  const composer = smsComposer({ leadStore, team, signal, onSent: changed("message") });
  // An archived lead cannot be texted: no composer until it is restored.
  const hideComposer = (next) => {
    composer.hidden = Boolean(next.archived);
  };
  hideComposer(lead);
  leadStore.subscribe(hideComposer);
  activity.start();
  return [
    backLink(),
    header,
    h(
      "div",
      { class: "grid gap-6 lg:grid-cols-3" },
      h("div", { class: "space-y-6" }, leadDetails(leadStore, names), leadCompliance(leadStore, signal)),
      h("div", { class: "lg:col-span-2" }, section("Activity", tl.node, composer)),
    ),
  ];
}

export async function renderLead({ main, params, signal, navigate, setTitle }) {
  const leadId = params[0];
  const page = resource(
    async (s) => {
      const [lead, team] = await Promise.all([api.getLead(leadId, s), members({ fresh: true }).catch(() => [])]);
      return { lead, team };
    },
    { signal },
  );
  panel(main, page, {
    loading: () => loading("Loading the lead…"),
    error: (err) => failedPage(err, leadId, navigate),
    render: (data) => leadPage(data, { signal, navigate, setTitle }),
  });
  await page.start();
}

/** Whether the lead as just read differs from the one shown: an edit (updatedAt), or its
 * number's suppressions (doNotCall, smsOptOut: views of the compliance ledger, which a STOP
 * changes without touching the lead). */
function changed(fresh, shown) {
  return (
    fresh.updatedAt !== shown.updatedAt ||
    fresh.smsOptOut !== shown.smsOptOut ||
    fresh.doNotCall !== shown.doNotCall
  );
}
