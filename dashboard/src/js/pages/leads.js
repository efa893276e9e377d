// Leads: filters (status, assignee) kept in the URL, cursor pagination, create/edit/archive,
// CSV import and export; for managers and admins, row selection and "Add to campaign" (the
// selection, or every lead matching the filter: dialogs/add-to-campaign.js). One resource (the current page of leads, with the team's names) and
// two panels following it: the table and the pager.
import * as api from "../api.js";
import { h, icon, replace, saveBlob } from "../dom.js";
import { LEAD_STATUSES, label } from "../format.js";
import { openAddToCampaign } from "../dialogs/add-to-campaign.js";
import { openImportDialog } from "../dialogs/import-dialog.js";
import { openLeadForm } from "../dialogs/lead-form.js";
import { panel } from "../panel.js";
import { leadsTable } from "../panels/leads-table.js";
import { pager } from "../panels/pager.js";
import { can, me } from "../roles.js";
import { members, namesOf, rememberLead, resource } from "../store.js";
import { busy, emptyState, errorMessage, loading, nextId, pageHeader, toast } from "../ui.js";

const PAGE_SIZE = 25;

function exportButton() {
  const button = h("button", { type: "button", class: "btn btn-secondary" }, icon("download"), "Export CSV");
  button.addEventListener("click", () =>
    busy(button, "Exporting…", async () => {
      try {
        const { blob, filename } = await api.exportLeads();
        saveBlob(blob, filename);
        toast(`Exported ${filename}.`, "success");
      } catch (err) {
        toast(`Export failed: ${errorMessage(err)}`, "error");
      }
    }),
  );
  return button;
}

/** The filter form; a change navigates (the URL holds the filters). */
function filterForm({ status, assignee }, navigate) {
  const statusId = nextId("status");
  const assigneeId = nextId("assignee");
  const statusSelect = h(
    "select",
    { id: statusId, name: "status", class: "input" },
    h("option", { value: "" }, "Any status"),
    LEAD_STATUSES.map((s) => h("option", { value: s, selected: s === status }, label(s))),
  );
  const assigneeSelect = h("select", { id: assigneeId, name: "assignedToId", class: "input" }, h("option", { value: "" }, "Anyone"));
  const form = h(
    "form",
    { class: "flex flex-wrap items-end gap-3 border-b border-slate-200 p-4", role: "search", "aria-label": "Filter leads", onsubmit: (e) => e.preventDefault() },
    h("div", { class: "w-full sm:w-48" }, h("label", { for: statusId, class: "label" }, "Status"), statusSelect),
    h("div", { class: "w-full sm:w-56" }, h("label", { for: assigneeId, class: "label" }, "Assigned to"), assigneeSelect),
    status || assignee ? h("a", { href: "#/leads", class: "link py-2 text-sm" }, "Clear filters") : null,
  );
  form.addEventListener("change", () => {
    const params = new URLSearchParams();
    if (statusSelect.value) params.set("status", statusSelect.value);
    if (assigneeSelect.value) params.set("assignedToId", assigneeSelect.value);
    const qs = params.toString();
    navigate(`#/leads${qs ? `?${qs}` : ""}`);
  });
  /** The team as options once it has loaded (without it the list still works, unfiltered). */
  function offer(team) {
    if (!team) {
      assigneeSelect.disabled = true;
      return;
    }
    // A caller's list holds their leads and unassigned ones: the only filter is "mine".
    const offered = can("leads.all") ? team : team.filter((m) => m.id === me()?.id);
    for (const m of offered) {
      assigneeSelect.append(h("option", { value: m.id, selected: m.id === assignee }, m.active ? m.name : `${m.name} (deactivated)`));
    }
    if (assignee && !team.some((m) => m.id === assignee)) assigneeSelect.append(h("option", { value: assignee, selected: true }, "Unknown member"));
  }
  return { form, offer };
}

function noLeads({ filtered, page, first, create, importCsv }) {
  if (filtered) {
    return emptyState("No leads match these filters.", "Try another status or assignee.", h("a", { href: "#/leads", class: "btn btn-secondary" }, "Clear filters"));
  }
  if (page > 0) return emptyState("No more leads.", null, h("button", { type: "button", class: "btn btn-secondary", onclick: first }, "Back to the first page"));
  return emptyState(
    "No leads yet",
    "Add one by hand or import a CSV file to start calling.",
    h("button", { type: "button", class: "btn btn-primary", onclick: create }, "New lead"),
    importCsv ? h("button", { type: "button", class: "btn btn-secondary", onclick: importCsv }, "Import CSV") : null,
  );
}

/** The leads picked on this list (kept across its pages): ids, their names, one listener for
 * the table's "select all" box and one for the toolbar. */
function createSelection() {
  const ids = new Set();
  const names = new Map();
  const listeners = { table: null, bar: null };
  const notify = () => {
    for (const fn of Object.values(listeners)) if (fn) fn();
  };
  return {
    names,
    has: (id) => ids.has(id),
    toggle(id, on) {
      if (on) ids.add(id);
      else ids.delete(id);
      notify();
    },
    clear() {
      ids.clear();
      notify();
    },
    ids: () => [...ids],
    size: () => ids.size,
    onChange(fn) {
      listeners.table = fn;
    },
    onBar(fn) {
      listeners.bar = fn;
    },
  };
}

/** The bulk bar: "N selected", Add to campaign, Add all matching the filter, Clear. */
function bulkBar(selection, { status, assignee, team, onAdded }) {
  const count = h("p", { class: "text-sm text-slate-700", "aria-live": "polite", "data-selected-count": "" });
  const addSelected = h("button", { type: "button", class: "btn btn-secondary btn-sm" }, icon("plus"), "Add to campaign");
  const addAll = h("button", { type: "button", class: "btn btn-secondary btn-sm" }, "Add all matching the filter");
  const clear = h("button", { type: "button", class: "btn btn-ghost btn-sm" }, "Clear selection");
  const sync = () => {
    const n = selection.size();
    count.textContent = n ? `${n} ${n === 1 ? "lead" : "leads"} selected` : "Select leads to add them to a campaign.";
    addSelected.disabled = n === 0;
    clear.hidden = n === 0;
  };
  sync();
  selection.onBar(sync);
  addSelected.addEventListener("click", () =>
    openAddToCampaign({
      leadIds: selection.ids(),
      names: selection.names,
      describe: `The ${selection.size()} selected ${selection.size() === 1 ? "lead" : "leads"}.`,
      onAdded: () => {
        selection.clear();
        onAdded();
      },
    }),
  );
  addAll.addEventListener("click", async () => {
    const people = await team;
    const who = assignee ? (people || []).find((m) => m.id === assignee)?.name || "a member" : "";
    const parts = [status ? `status ${label(status)}` : "", who ? `assigned to ${who}` : ""].filter(Boolean);
    openAddToCampaign({
      filter: { status: status || undefined, assignedToId: assignee || undefined },
      names: selection.names,
      describe: parts.length ? `Every lead matching the filter: ${parts.join(", ")}.` : "Every lead in the list (no filter is set).",
      onAdded,
    });
  });
  clear.addEventListener("click", () => {
    selection.clear();
    for (const el of document.querySelectorAll("[data-select-lead], [data-select-page]")) el.checked = false;
  });
  return h("div", { class: "flex flex-wrap items-center gap-2 border-b border-slate-200 bg-slate-50 px-4 py-2", "data-bulk-bar": "" }, count, h("div", { class: "ml-auto flex flex-wrap gap-2" }, addSelected, addAll, clear));
}

export async function renderLeads({ main, query, signal, navigate }) {
  const status = LEAD_STATUSES.includes(query.get("status")) ? query.get("status") : "";
  const assignee = query.get("assignedToId") || "";
  const at = { cursors: [null], page: 0 };
  const team = members({ fresh: true }).catch(() => null); // without it: no names, no assignee filter
  const list = resource(
    async (s) => {
      const [page, people] = await Promise.all([api.listLeads({ status, assignedToId: assignee, limit: PAGE_SIZE, cursor: at.cursors[at.page] }, s), team]);
      at.cursors[at.page + 1] = page.nextCursor || null;
      return { items: page.items, hasNext: Boolean(page.nextCursor), names: namesOf(people) };
    },
    { signal },
  );
  const go = (page) => {
    if (page === 0) at.cursors = [null];
    at.page = page;
    list.reload();
  };

  const importBtn = can("leads.import")
    ? h("button", { type: "button", class: "btn btn-secondary", onclick: () => openImportDialog({ onImported: () => go(0) }) }, icon("upload"), "Import CSV")
    : null;
  const newBtn = h("button", { type: "button", class: "btn btn-primary", onclick: () => openLeadForm({ onSaved: () => go(0) }) }, icon("plus"), "New lead");
  const filters = filterForm({ status, assignee }, navigate);
  const tableArea = h("div", { "aria-live": "polite", "aria-busy": "false" });
  const pagerNav = h("nav", { "aria-label": "Pagination", class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });
  const actions = [newBtn, importBtn, can("leads.export") ? exportButton() : null].filter(Boolean);
  const selection = can("campaigns.write") ? createSelection() : null;
  const bar = selection ? bulkBar(selection, { status, assignee, team, onAdded: () => list.refresh() }) : null;
  replace(main, pageHeader("Leads", ...actions), h("div", { class: "card overflow-hidden" }, filters.form, bar, tableArea, pagerNav));
  team.then(filters.offer);

  list.subscribe((state) => tableArea.setAttribute("aria-busy", String(state.status === "loading")));
  panel(tableArea, list, {
    loading: () => loading("Loading leads…"),
    title: "Could not load leads",
    render: ({ items, names }) => {
      if (!items.length) return noLeads({ filtered: Boolean(status || assignee), page: at.page, first: () => go(0), create: () => newBtn.click(), importCsv: importBtn ? () => importBtn.click() : null });
      for (const lead of items) {
        rememberLead(lead);
        if (selection) selection.names.set(lead.id, lead.name);
      }
      return leadsTable(items, { names, onChanged: () => list.reload(), selection });
    },
  });
  panel(pagerNav, list, {
    loading: () => [],
    error: () => [],
    render: ({ items, hasNext }) => {
      const nodes = pager({ page: at.page, pageSize: PAGE_SIZE, count: items.length, hasNext, onPrevious: () => go(at.page - 1), onNext: () => go(at.page + 1) });
      pagerNav.hidden = !nodes;
      return nodes || [];
    },
  });
  await list.start();
}
