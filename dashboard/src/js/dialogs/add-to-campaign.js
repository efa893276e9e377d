// "Add to campaign" from the lead list (managers and admins): the selected leads
// (`{"leadIds"}`) or every lead matching the list's filter (`{"filter": {status,
// assignedToId}}`), into a campaign chosen here; then what was added and what was skipped, and
// why. A filter walks at most 10,000 leads per request: while the answer has a nextCursor,
// "Add the next leads" goes on from there.
import * as api from "../api.js";
import { h, setText } from "../dom.js";
import { label, number } from "../format.js";
import { busy, field, formBanner, nextId, openDialog, showErrors } from "../ui.js";

const REASONS = {
  archived: "archived",
  not_found: "not found",
  already_in_campaign: "already in this campaign",
  in_another_campaign: "in another campaign",
};

function skippedList(skipped, names) {
  if (!skipped?.length) return null;
  return h(
    "div",
    {},
    h("p", { class: "mt-3 text-sm font-medium text-slate-700" }, "Skipped:"),
    h(
      "ul",
      { class: "mt-1 list-disc space-y-0.5 pl-5 text-sm text-slate-700", "data-skipped-leads": "" },
      skipped.map((s) => h("li", { "data-reason": s.reason }, `${names.get(s.leadId) || s.leadId}: ${REASONS[s.reason] || label(s.reason)}`)),
    ),
  );
}

function resultView(total, last, names, campaign) {
  const more = Boolean(last.nextCursor);
  return h(
    "div",
    { role: "status", "data-add-result": "" },
    h(
      "dl",
      { class: "grid grid-cols-2 gap-3" },
      h("div", { class: "rounded-md bg-emerald-50 p-3", "data-add-stat": "added" }, h("dt", { class: "text-sm text-emerald-900" }, "Added"), h("dd", { class: "text-2xl font-semibold tabular-nums text-emerald-900" }, number(total.added))),
      h("div", { class: "rounded-md bg-slate-100 p-3", "data-add-stat": "skipped" }, h("dt", { class: "text-sm text-slate-700" }, "Skipped"), h("dd", { class: "text-2xl font-semibold tabular-nums text-slate-900" }, number(total.skipped))),
    ),
    h("p", { class: "mt-3 text-sm text-slate-700" }, `${number(total.added)} ${total.added === 1 ? "lead was" : "leads were"} added to ${campaign.name}.`, total.examined !== undefined ? ` ${number(total.examined)} leads examined.` : ""),
    more ? h("p", { class: "mt-1 text-sm text-amber-800" }, `More leads match the filter: one request walks at most ${number(last.limit)}. Add the next ones to go on.`) : null,
    skippedList(total.skippedLeads, names),
    total.skipped > total.skippedLeads.length ? h("p", { class: "mt-1 text-xs text-slate-600" }, `The first ${total.skippedLeads.length} skipped leads are listed.`) : null,
  );
}

/**
 * openAddToCampaign({leadIds?, filter?, names, describe, onAdded}): leadIds for a selection,
 * filter ({status, assignedToId}) for "all matching"; names: leadId -> name (for the skipped
 * list); describe: what is being added, in words.
 */
export async function openAddToCampaign({ leadIds = null, filter = null, names = new Map(), describe, onAdded }) {
  const opener = document.activeElement;
  let campaigns = [];
  let loadError = null;
  try {
    campaigns = (await api.allCampaigns()).filter((c) => c.status !== "archived");
  } catch (err) {
    loadError = err;
  }
  const formId = nextId("add-campaign");
  const options = [["", campaigns.length ? "Choose a campaign…" : "No campaign to add to"], ...campaigns.map((c) => [c.id, c.status === "paused" ? `${c.name} (paused)` : c.name])];
  const form = h(
    "form",
    { id: formId, novalidate: true, class: "space-y-4" },
    formBanner(),
    h("p", { class: "text-sm text-slate-700" }, describe),
    field({ name: "campaignId", label: "Campaign", kind: "select", options, required: true, autofocus: true }),
  );
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary", disabled: !campaigns.length }, "Add leads");
  const close = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
  const dlg = openDialog({ title: "Add to campaign", content: form, footer: [close, submit], opener });
  close.addEventListener("click", () => dlg.close());
  if (loadError) showErrors(form, loadError);

  const total = { added: 0, skipped: 0, skippedLeads: [], examined: filter ? 0 : undefined };
  let cursor = null;
  let campaign = null;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = form.elements.namedItem("campaignId")?.value || campaign?.id;
    if (!id) {
      showErrors(form, { code: "validation_error", message: "Choose a campaign.", details: { field: "campaignId" } });
      return;
    }
    campaign = campaign || campaigns.find((c) => c.id === id);
    const body = leadIds ? { leadIds } : { filter: { ...filter, ...(cursor ? { cursor } : {}) } };
    for (const k of Object.keys(body.filter || {})) if (!body.filter[k]) delete body.filter[k];
    try {
      const answer = await busy(submit, "Adding…", () => api.addCampaignLeads(id, body));
      total.added += answer.added || 0;
      total.skipped += answer.skipped || 0;
      total.skippedLeads = [...total.skippedLeads, ...(answer.skippedLeads || [])].slice(0, 50);
      if (filter) total.examined += answer.examined || 0;
      cursor = answer.nextCursor || null;
      form.replaceChildren(formBanner(), resultView(total, answer, names, campaign));
      setText(close, "Close");
      submit.hidden = !cursor;
      if (cursor) {
        submit.textContent = "Add the next leads";
        submit.focus();
      } else close.focus();
      if (onAdded) onAdded(answer);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return dlg;
}
