// Leads: search, filters (status, assignee, source, never called, opted out, campaign), the
// order and the page kept in the URL, cursor pagination, create/edit/archive, CSV import and
// export. One resource (the current page of leads, with the team's names) and
// two panels following it: the table and the pager.
import * as api from "../api.js";
import { h, icon, replace, saveBlob } from "../dom.js";
import { LEAD_STATUSES, label } from "../format.js";
import { openAddToCampaign } from "../dialogs/add-to-campaign.js";
import { openImportDialog } from "../dialogs/import-dialog.js";
import { openLeadForm } from "../dialogs/lead-form.js";
import { panel } from "../panel.js";
import { bulkBar, leadSelection } from "../panels/bulk-bar.js";
import { leadsTable } from "../panels/leads-table.js";
import { pager } from "../panels/pager.js";
import { can, me } from "../roles.js";
import { members, namesOf, rememberLead, resource } from "../store.js";
import { busy, emptyState, errorMessage, loading, nextId, pageHeader, toast } from "../ui.js";

const PAGE_SIZE = 25;
let kept = null; // {who, selection, seen}: the bulk selection, which outlives one page of the list

/** The selection as one drawing of the page uses it: its subscribers leave with the page. */
function forThisPage(selection, signal) {
  return {
    ...selection,
    subscribe(fn) {
      const off = selection.subscribe(fn);
      signal?.addEventListener("abort", off, { once: true });
      return off;
    },
  };
}

function exportButton(filters) {
  const button = h("button", { type: "button", class: "btn btn-secondary" }, icon("download"), "Export CSV");
  button.addEventListener("click", () =>
    busy(button, "Exporting…", async () => {
      try {
        const { blob, filename } = await api.exportLeads(filters());
        saveBlob(blob, filename);
        toast(`Exported ${filename}.`, "success");
      } catch (err) {
        toast(`Export failed: ${errorMessage(err)}`, "error");
      }
    }),
  );
  return button;
}

export const SORTS = [
  ["createdAt:desc", "Newest first"],
  ["createdAt:asc", "Oldest first"],
  ["name:asc", "Name A–Z"],
  ["name:desc", "Name Z–A"],
  ["lastContactedAt:desc", "Last contact, latest"],
  ["lastContactedAt:asc", "Last contact, earliest"],
];
export const SOURCES = ["manual", "csv_import", "inbound_sms"];
const DEFAULT_SORT = "createdAt:desc";

/** The list's state as the URL holds it: #/leads?q=&status=&assignedToId=&source=
 * &neverCalled=true&optedOut=true&campaignId=&sort=name&order=asc&page=2&cursor=… */
export function readListState(query) {
  const get = (name) => query.get(name) || "";
  const sort = get("sort") || "createdAt";
  const order = get("order") || (sort === "name" ? "asc" : "desc");
  const sortKey = SORTS.some(([k]) => k === `${sort}:${order}`) ? `${sort}:${order}` : DEFAULT_SORT;
  const page = Math.max(0, Number.parseInt(get("page"), 10) - 1 || 0);
  return {
    q: get("q"),
    status: LEAD_STATUSES.includes(get("status")) ? get("status") : "",
    assignee: get("assignedToId"),
    source: get("source"),
    neverCalled: get("neverCalled") === "true",
    optedOut: get("optedOut") === "true",
    campaignId: get("campaignId"),
    sortKey,
    page: get("cursor") ? page : 0,
    cursor: get("cursor"),
  };
}

/** The URL of a list state (the defaults left out). */
export function listHash(state) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.status) params.set("status", state.status);
  if (state.assignee) params.set("assignedToId", state.assignee);
  if (state.source) params.set("source", state.source);
  if (state.neverCalled) params.set("neverCalled", "true");
  if (state.optedOut) params.set("optedOut", "true");
  if (state.campaignId) params.set("campaignId", state.campaignId);
  if (state.sortKey && state.sortKey !== DEFAULT_SORT) {
    const [sort, order] = state.sortKey.split(":");
    params.set("sort", sort);
    params.set("order", order);
  }
  if (state.page > 0 && state.cursor) {
    params.set("page", String(state.page + 1));
    params.set("cursor", state.cursor);
  }
  const qs = params.toString();
  return `#/leads${qs ? `?${qs}` : ""}`;
}

const filtered = (state) => Boolean(state.q || state.status || state.assignee || state.source || state.neverCalled || state.optedOut || state.campaignId);

/** The search box, the filters and the order. Typing searches in place (the URL follows,
 * without a history entry per key); any other change navigates (the URL holds it all). */
function filterForm(state, navigate, onSearch) {
  const ids = { q: nextId("q"), status: nextId("status"), assignee: nextId("assignee"), source: nextId("source"), sort: nextId("sort") };
  const searchInput = h("input", {
    id: ids.q,
    name: "q",
    type: "search",
    class: "input",
    value: state.q,
    placeholder: "Name, company, e-mail, phone",
    autocomplete: "off",
    "aria-describedby": `${ids.q}-hint`,
  });
  const statusSelect = h(
    "select",
    { id: ids.status, name: "status", class: "input" },
    h("option", { value: "" }, "Any status"),
    LEAD_STATUSES.map((s) => h("option", { value: s, selected: s === state.status }, label(s))),
  );
  const assigneeSelect = h("select", { id: ids.assignee, name: "assignedToId", class: "input" }, h("option", { value: "" }, "Anyone"));
  const sourceSelect = h(
    "select",
    { id: ids.source, name: "source", class: "input" },
    h("option", { value: "" }, "Any source"),
    SOURCES.map((s) => h("option", { value: s, selected: s === state.source }, label(s))),
  );
  if (state.source && !SOURCES.includes(state.source)) sourceSelect.append(h("option", { value: state.source, selected: true }, label(state.source)));
  const sortSelect = h(
    "select",
    { id: ids.sort, name: "sort", class: "input", disabled: Boolean(state.q || state.optedOut), title: state.q || state.optedOut ? "Search results and opted-out numbers are listed newest first" : null },
    SORTS.map(([key, text]) => h("option", { value: key, selected: key === state.sortKey }, text)),
  );
  const check = (name, checked, text) => h("label", { class: "flex items-center gap-2 py-2 text-sm" }, h("input", { type: "checkbox", name, checked, class: "size-4" }), text);
  const campaignChip = state.campaignId
    ? h("p", { class: "py-2 text-sm", "data-campaign-filter": "" }, "In one campaign ", h("a", { href: listHash({ ...state, campaignId: "", page: 0, cursor: "" }), class: "link" }, "(show all)"))
    : null;
  const form = h(
    "form",
    { class: "flex flex-wrap items-end gap-3 border-b border-slate-200 p-4", role: "search", "aria-label": "Filter leads", onsubmit: (e) => e.preventDefault() },
    h(
      "div",
      { class: "w-full lg:w-72" },
      h("label", { for: ids.q, class: "label" }, "Search"),
      searchInput,
      h("p", { id: `${ids.q}-hint`, class: "sr-only" }, "Results update as you type."),
    ),
    h("div", { class: "w-full sm:w-40" }, h("label", { for: ids.status, class: "label" }, "Status"), statusSelect),
    h("div", { class: "w-full sm:w-48" }, h("label", { for: ids.assignee, class: "label" }, "Assigned to"), assigneeSelect),
    h("div", { class: "w-full sm:w-40" }, h("label", { for: ids.source, class: "label" }, "Source"), sourceSelect),
    h("div", { class: "w-full sm:w-52" }, h("label", { for: ids.sort, class: "label" }, "Sort by"), sortSelect),
    check("neverCalled", state.neverCalled, "Never called"),
    check("optedOut", state.optedOut, "Opted out"),
    campaignChip,
    filtered(state) ? h("a", { href: "#/leads", class: "link py-2 text-sm" }, "Clear filters") : null,
  );
  const read = () => ({
    ...state,
    q: searchInput.value.trim(),
    status: statusSelect.value,
    assignee: assigneeSelect.value,
    source: sourceSelect.value,
    sortKey: sortSelect.value,
    neverCalled: form.elements.neverCalled.checked,
    optedOut: form.elements.optedOut.checked,
    page: 0,
    cursor: "",
  });
  form.addEventListener("change", (e) => {
    if (e.target === searchInput) return;
    navigate(listHash(read()));
  });
  let timer = null;
  searchInput.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => onSearch(read()), 250);
  });
  searchInput.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    clearTimeout(timer);
    onSearch(read());
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
      assigneeSelect.append(h("option", { value: m.id, selected: m.id === state.assignee }, m.active ? m.name : `${m.name} (deactivated)`));
    }
    if (state.assignee && !team.some((m) => m.id === state.assignee)) assigneeSelect.append(h("option", { value: state.assignee, selected: true }, "Unknown member"));
  }
  return { form, offer, searchInput };
}

// The cursors of the pages seen, by list (its URL without page and cursor): Previous goes
// back to a page's own cursor; a page opened from a shared URL knows only its own.
const seenCursors = new Map();

function noLeads({ filters, page, first, create, importCsv }) {
  if (filters) {
    return emptyState("No leads match these filters.", "Try other words, another status or assignee.", h("a", { href: "#/leads", class: "btn btn-secondary" }, "Clear filters"));
  }
  if (page > 0) return emptyState("No more leads.", null, h("button", { type: "button", class: "btn btn-secondary", onclick: first }, "Back to the first page"));
  return emptyState(
    "No leads yet",
    "Add one by hand or import a CSV file to start calling.",
    h("button", { type: "button", class: "btn btn-primary", onclick: create }, "New lead"),
    importCsv ? h("button", { type: "button", class: "btn btn-secondary", onclick: importCsv }, "Import CSV") : null,
  );
}

/** "Add all matching the filter" (managers and admins): every lead with the list's status and
 * assignee into a campaign (`{"filter"}`); the API filters by those two only, so with a search
 * or another filter set the button says to clear them first. */
function addAllButton(current, team, names) {
  const button = h("button", { type: "button", class: "btn btn-secondary", "data-add-all": "" }, icon("flag"), "Add all matching the filter");
  button.addEventListener("click", async () => {
    const state = current();
    if (state.q || state.source || state.neverCalled || state.optedOut || state.campaignId) {
      toast("Only the status and assignee filters can be added as a whole: clear the search and the other filters first, or select the leads.", "error");
      return;
    }
    const people = await team;
    const who = state.assignee ? (people || []).find((m) => m.id === state.assignee)?.name || "a member" : "";
    const parts = [state.status ? `status ${label(state.status)}` : "", who ? `assigned to ${who}` : ""].filter(Boolean);
    openAddToCampaign({
      filter: { status: state.status || undefined, assignedToId: state.assignee || undefined },
      names,
      describe: parts.length ? `Every lead matching the filter: ${parts.join(", ")}.` : "Every lead in the list (no filter is set).",
    });
  });
  return button;
}

export async function renderLeads({ main, query, signal, navigate }) {
  let state = readListState(query);
  const listKey = () => listHash({ ...state, page: 0, cursor: "" });
  const cursors = () => {
    if (!seenCursors.has(listKey())) seenCursors.set(listKey(), [null]);
    return seenCursors.get(listKey());
  };
  if (state.page > 0) cursors()[state.page] = state.cursor;
  const team = members({ fresh: true }).catch(() => null); // without it: no names, no assignee filter
  /** The list's search, filters and order as the API takes them (the list and its export). */
  const listFilters = () => {
    const [sort, order] = state.sortKey.split(":");
    return {
      q: state.q || undefined,
      status: state.status || undefined,
      assignedToId: state.assignee || undefined,
      source: state.source || undefined,
      neverCalled: state.neverCalled ? "true" : undefined,
      optedOut: state.optedOut ? "true" : undefined,
      campaignId: state.campaignId || undefined,
      sort: state.q || state.sortKey === DEFAULT_SORT ? undefined : sort,
      order: state.q || state.sortKey === DEFAULT_SORT ? undefined : order,
    };
  };
  const list = resource(
    async (s) => {
      const params = {
        ...listFilters(),
        limit: PAGE_SIZE,
        cursor: state.page > 0 ? state.cursor || cursors()[state.page] || undefined : undefined,
      };
      const [page, people] = await Promise.all([api.listLeads(params, s), team]);
      cursors()[state.page + 1] = page.nextCursor || null;
      return { items: page.items, hasNext: Boolean(page.nextCursor), next: page.nextCursor, total: page.total ?? null, names: namesOf(people) };
    },
    { signal },
  );
  const go = (page, next) => {
    const cursor = page === 0 ? "" : next ?? cursors()[page] ?? "";
    if (page > 0 && !cursor) page = 0; // a page whose cursor this tab never saw: the first
    navigate(listHash({ ...state, page, cursor }));
  };
  /** Typing in the search box: the list reloads in place (focus stays in the box), the URL
   * follows without a history entry per key. */
  const search = (next) => {
    if (next.q === state.q) return;
    state = next;
    history.replaceState(null, "", listHash(state)); // the hash alone: the path and query stay (a path such as "//" is no URL)
    list.reload();
  };

  const importBtn = can("leads.import")
    ? h("button", { type: "button", class: "btn btn-secondary", onclick: () => openImportDialog({ onImported: () => go(0) }) }, icon("upload"), "Import CSV")
    : null;
  const newBtn = h("button", { type: "button", class: "btn btn-primary", onclick: () => openLeadForm({ onSaved: () => go(0) }) }, icon("plus"), "New lead");
  const filters = filterForm(state, navigate, search);
  // Bulk actions on the rows selected (kept across pages until an action or Clear: Next and
  // Previous draw the page anew, so the selection lives outside it).
  const who = me()?.id ?? null; // a new sign-in starts with nothing selected
  if (!kept || kept.who !== who) kept = { who, selection: leadSelection(), seen: new Map() }; // seen: lead id -> name, for the bulk report
  const selection = forThisPage(kept.selection, signal);
  const seen = kept.seen;
  const bulk = bulkBar({ selection, leadNames: () => seen, team, onDone: () => list.reload() });
  const tableArea = h("div", { "aria-live": "polite", "aria-busy": "false" });
  const pagerNav = h("nav", { "aria-label": "Pagination", class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });
  const actions = [newBtn, importBtn, can("leads.export") ? exportButton(listFilters) : null, can("campaigns.write") ? addAllButton(() => state, team, seen) : null].filter(Boolean);
  replace(main, pageHeader("Leads", ...actions), h("div", { class: "card overflow-hidden" }, filters.form, bulk.node, tableArea, pagerNav));
  team.then(filters.offer);

  list.subscribe((st) => tableArea.setAttribute("aria-busy", String(st.status === "loading")));
  panel(tableArea, list, {
    loading: () => loading(state.q ? "Searching…" : "Loading leads…"),
    title: "Could not load leads",
    render: ({ items, names }) => {
      if (!items.length) return noLeads({ filters: filtered(state), page: state.page, first: () => go(0), create: () => newBtn.click(), importCsv: importBtn ? () => importBtn.click() : null });
      for (const lead of items) {
        rememberLead(lead);
        seen.set(lead.id, lead.name);
      }
      return leadsTable(items, { names, onChanged: () => list.reload(), selection });
    },
  });
  panel(pagerNav, list, {
    loading: () => [],
    error: () => [],
    render: ({ items, hasNext, next, total }) => {
      const nodes = pager({ page: state.page, pageSize: PAGE_SIZE, count: items.length, total, hasNext, onPrevious: () => go(state.page - 1), onNext: () => go(state.page + 1, next) });
      pagerNav.hidden = !nodes;
      return nodes || [];
    },
  });
  await list.start();
}
