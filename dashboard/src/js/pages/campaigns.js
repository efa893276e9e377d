// Campaigns: the list (name, status, leads ready/scheduled/done, members), cursor pagination;
// managers and admins create, edit and archive. A caller sees the campaigns they are in.
import * as api from "../api.js";
import { h, icon, replace } from "../dom.js";
import { openCampaignForm } from "../dialogs/campaign-form.js";
import { panel } from "../panel.js";
import { pager } from "../panels/pager.js";
import { can } from "../roles.js";
import { members, namesOf, resource } from "../store.js";
import { badge, confirmDialog, emptyState, errorMessage, loading, pageHeader, toast } from "../ui.js";

const PAGE_SIZE = 25;

export const CAMPAIGN_BADGE = { active: "active", paused: "warning", archived: "inactive" };

export function campaignBadge(status) {
  return badge(CAMPAIGN_BADGE[status] || status, { active: "Active", paused: "Paused", archived: "Archived" }[status] || status);
}

/** Archive after a confirmation; resolves with the archived campaign, or null. */
export async function archiveCampaign(c) {
  const ok = await confirmDialog({
    title: `Archive ${c.name}?`,
    message: "Nobody can dial it any more and its leads are free for another campaign. Its calls and numbers are kept. This cannot be undone.",
    confirmLabel: "Archive",
    danger: true,
  });
  if (!ok) return null;
  try {
    const archived = await api.archiveCampaign(c.id);
    toast(`Archived ${c.name}.`, "success");
    return archived;
  } catch (err) {
    toast(`Could not archive ${c.name}: ${errorMessage(err)}`, "error");
    return null;
  }
}

function count(n, what) {
  return h("span", { class: "tabular-nums", "data-count": what }, String(n ?? 0));
}

function row(c, names, onChanged) {
  const who = (c.memberIds || []).map((id) => names.get(id) || "Unknown member");
  const counts = c.counts || {};
  const writable = can("campaigns.write") && c.status !== "archived";
  return h(
    "tr",
    { "data-campaign-id": c.id },
    h("td", {}, h("a", { href: `#/campaigns/${encodeURIComponent(c.id)}`, class: "link" }, c.name), h("div", { class: "mt-1 sm:hidden" }, campaignBadge(c.status))),
    h("td", { class: "hidden sm:table-cell" }, campaignBadge(c.status)),
    h("td", { class: "text-right" }, count(counts.ready, "ready")),
    h("td", { class: "text-right" }, count(counts.scheduled, "scheduled")),
    h("td", { class: "text-right" }, count(counts.done, "done")),
    h("td", { class: "hidden md:table-cell" }, who.length ? who.join(", ") : h("span", { class: "italic text-slate-600" }, "Nobody yet")),
    h(
      "td",
      { class: "text-right" },
      writable
        ? h(
            "div",
            { class: "flex justify-end gap-1" },
            h("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": `Edit ${c.name}`, title: "Edit", onclick: () => openCampaignForm({ campaign: c, onSaved: onChanged }) }, icon("pencil")),
            h(
              "button",
              {
                type: "button",
                class: "btn btn-ghost btn-sm text-rose-700",
                "aria-label": `Archive ${c.name}`,
                title: "Archive",
                onclick: async () => {
                  if (await archiveCampaign(c)) onChanged();
                },
              },
              icon("archive"),
            ),
          )
        : null,
    ),
  );
}

function table(items, names, onChanged) {
  return h(
    "div",
    { class: "relative overflow-x-auto" },
    h(
      "table",
      { class: "table", "aria-label": "Campaigns" },
      h(
        "thead",
        { class: "bg-slate-50" },
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Name"),
          h("th", { scope: "col", class: "hidden sm:table-cell" }, "Status"),
          h("th", { scope: "col", class: "text-right" }, "Ready"),
          h("th", { scope: "col", class: "text-right" }, "Scheduled"),
          h("th", { scope: "col", class: "text-right" }, "Done"),
          h("th", { scope: "col", class: "hidden md:table-cell" }, "Members"),
          h("th", { scope: "col", class: "text-right" }, h("span", { class: "sr-only" }, "Actions")),
        ),
      ),
      h("tbody", { class: "divide-y divide-slate-100 bg-white" }, items.map((c) => row(c, names, onChanged))),
    ),
  );
}

export async function renderCampaigns({ main, signal, navigate }) {
  const at = { cursors: [null], page: 0 };
  const team = members({ fresh: true }).catch(() => []);
  const list = resource(
    async (s) => {
      const [page, people] = await Promise.all([api.listCampaigns({ limit: PAGE_SIZE, cursor: at.cursors[at.page] }, s), team]);
      at.cursors[at.page + 1] = page.nextCursor || null;
      return { items: page.items || [], hasNext: Boolean(page.nextCursor), names: namesOf(people) };
    },
    { signal },
  );
  const go = (page) => {
    if (page === 0) at.cursors = [null];
    at.page = page;
    list.reload();
  };
  const create = () => openCampaignForm({ onSaved: (c) => navigate(`#/campaigns/${encodeURIComponent(c.id)}`) });
  const newBtn = can("campaigns.write") ? h("button", { type: "button", class: "btn btn-primary", onclick: create }, icon("plus"), "New campaign") : null;
  const tableArea = h("div", { "aria-live": "polite" });
  const pagerNav = h("nav", { "aria-label": "Pagination", class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });
  replace(main, pageHeader("Campaigns", newBtn), h("div", { class: "card overflow-hidden" }, tableArea, pagerNav));
  panel(tableArea, list, {
    loading: () => loading("Loading campaigns…"),
    title: "Could not load campaigns",
    render: ({ items, names }) => {
      if (!items.length) {
        if (at.page > 0) return emptyState("No more campaigns.", null, h("button", { type: "button", class: "btn btn-secondary", onclick: () => go(0) }, "Back to the first page"));
        return can("campaigns.write")
          ? emptyState("No campaigns yet", "A campaign is a list of leads your team works through the power dialer.", h("button", { type: "button", class: "btn btn-primary", onclick: create }, "New campaign"))
          : emptyState("You are in no campaign yet", "A manager adds you to a campaign to dial it.");
      }
      return table(items, names, () => list.refresh());
    },
  });
  panel(pagerNav, list, {
    loading: () => [],
    error: () => [],
    render: ({ items, hasNext }) => {
      const nodes = pager({ page: at.page, pageSize: PAGE_SIZE, count: items.length, hasNext, onPrevious: () => go(at.page - 1), onNext: () => go(at.page + 1), noun: ["campaign", "campaigns"] });
      pagerNav.hidden = !nodes;
      return nodes || [];
    },
  });
  await list.start();
}
