// Leads: filters (status, assignee) kept in the URL, cursor pagination, create/edit/archive,
// CSV import and export.
import * as api from "../api.js";
import { h, icon, replace, saveBlob } from "../dom.js";
import { LEAD_STATUSES, label, relative } from "../format.js";
import { openCallDialog } from "../call-dialog.js";
import { openImportDialog } from "../import-dialog.js";
import { openLeadForm } from "../lead-form.js";
import { members, rememberLead } from "../store.js";
import {
  badge,
  busy,
  confirmDialog,
  emptyState,
  errorMessage,
  errorState,
  loading,
  nextId,
  pageHeader,
  toast,
} from "../ui.js";

const PAGE_SIZE = 25;

export async function archiveWithConfirm(lead) {
  const ok = await confirmDialog({
    title: `Archive ${lead.name}?`,
    message: "The lead leaves every list and the funnel. Its calls, messages and phone number are kept.",
    confirmLabel: "Archive",
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.archiveLead(lead.id);
  } catch (err) {
    toast(`Could not archive ${lead.name}: ${errorMessage(err)}`, "error");
    return false;
  }
  toast(`Archived ${lead.name}.`, "success");
  return true;
}

export async function renderLeads({ main, query, signal, navigate }) {
  const status = LEAD_STATUSES.includes(query.get("status")) ? query.get("status") : "";
  const assignee = query.get("assignedToId") || "";
  const state = { cursors: [null], page: 0 };

  const exportBtn = h("button", { type: "button", class: "btn btn-secondary" }, icon("download"), "Export CSV");
  exportBtn.addEventListener("click", () =>
    busy(exportBtn, "Exporting…", async () => {
      try {
        const { blob, filename } = await api.exportLeads();
        saveBlob(blob, filename);
        toast(`Exported ${filename}.`, "success");
      } catch (err) {
        toast(`Export failed: ${errorMessage(err)}`, "error");
      }
    }),
  );
  const importBtn = h(
    "button",
    { type: "button", class: "btn btn-secondary", onclick: () => openImportDialog({ onImported: () => reload(true) }) },
    icon("upload"),
    "Import CSV",
  );
  const newBtn = h(
    "button",
    { type: "button", class: "btn btn-primary", onclick: () => openLeadForm({ onSaved: () => reload(true) }) },
    icon("plus"),
    "New lead",
  );

  const statusId = nextId("status");
  const assigneeId = nextId("assignee");
  const statusSelect = h(
    "select",
    { id: statusId, name: "status", class: "input" },
    h("option", { value: "" }, "Any status"),
    LEAD_STATUSES.map((s) => h("option", { value: s, selected: s === status }, label(s))),
  );
  const assigneeSelect = h(
    "select",
    { id: assigneeId, name: "assignedToId", class: "input" },
    h("option", { value: "" }, "Anyone"),
  );
  function applyFilters() {
    const params = new URLSearchParams();
    if (statusSelect.value) params.set("status", statusSelect.value);
    if (assigneeSelect.value) params.set("assignedToId", assigneeSelect.value);
    const qs = params.toString();
    navigate(`#/leads${qs ? `?${qs}` : ""}`);
  }
  statusSelect.addEventListener("change", applyFilters);
  assigneeSelect.addEventListener("change", applyFilters);
  const filters = h(
    "form",
    { class: "flex flex-wrap items-end gap-3 border-b border-slate-200 p-4", role: "search", "aria-label": "Filter leads", onsubmit: (e) => e.preventDefault() },
    h("div", { class: "w-full sm:w-48" }, h("label", { for: statusId, class: "label" }, "Status"), statusSelect),
    h("div", { class: "w-full sm:w-56" }, h("label", { for: assigneeId, class: "label" }, "Assigned to"), assigneeSelect),
    status || assignee
      ? h("a", { href: "#/leads", class: "link py-2 text-sm" }, "Clear filters")
      : null,
  );

  const tableArea = h("div", { "aria-live": "polite", "aria-busy": "false" });
  const pager = h("nav", { "aria-label": "Pagination", class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });

  replace(
    main,
    pageHeader("Leads", newBtn, importBtn, exportBtn),
    h("div", { class: "card overflow-hidden" }, filters, tableArea, pager),
  );

  let names = new Map();
  try {
    const team = await members({ fresh: true });
    names = new Map(team.map((m) => [m.id, m.name]));
    for (const m of team) {
      assigneeSelect.append(h("option", { value: m.id, selected: m.id === assignee }, m.active ? m.name : `${m.name} (deactivated)`));
    }
    if (assignee && !names.has(assignee)) assigneeSelect.append(h("option", { value: assignee, selected: true }, "Unknown member"));
  } catch (err) {
    if (err?.name === "AbortError") return null;
    assigneeSelect.disabled = true; // the list still loads; only the filter is lost
  }

  async function reload(fromStart = false) {
    if (fromStart) {
      state.cursors = [null];
      state.page = 0;
    }
    tableArea.setAttribute("aria-busy", "true");
    replace(tableArea, loading("Loading leads…"));
    replace(pager);
    let page;
    try {
      page = await api.listLeads({ status, assignedToId: assignee, limit: PAGE_SIZE, cursor: state.cursors[state.page] }, signal);
    } catch (err) {
      if (err?.name === "AbortError") return;
      tableArea.setAttribute("aria-busy", "false");
      replace(tableArea, errorState(err, () => reload(), "Could not load leads"));
      return;
    }
    tableArea.setAttribute("aria-busy", "false");
    state.cursors[state.page + 1] = page.nextCursor || null;
    renderTable(page.items);
    renderPager(page.items.length, Boolean(page.nextCursor));
  }

  function renderTable(items) {
    if (!items.length) {
      replace(
        tableArea,
        status || assignee
          ? emptyState("No leads match these filters.", "Try another status or assignee.", h("a", { href: "#/leads", class: "btn btn-secondary" }, "Clear filters"))
          : state.page > 0
            ? emptyState("No more leads.", null, h("button", { type: "button", class: "btn btn-secondary", onclick: () => reload(true) }, "Back to the first page"))
            : emptyState(
                "No leads yet",
                "Add one by hand or import a CSV file to start calling.",
                h("button", { type: "button", class: "btn btn-primary", onclick: () => newBtn.click() }, "New lead"),
                h("button", { type: "button", class: "btn btn-secondary", onclick: () => importBtn.click() }, "Import CSV"),
              ),
      );
      return;
    }
    for (const lead of items) rememberLead(lead);
    const rows = items.map((lead) => {
      const flags = [
        lead.doNotCall ? badge("danger", "Do not call") : null,
        lead.smsOptOut ? badge("warning", "SMS opt-out") : null,
      ];
      return h(
        "tr",
        { "data-lead-id": lead.id },
        h(
          "td",
          { class: "max-w-[12rem] sm:max-w-[14rem]" },
          h("a", { href: `#/leads/${encodeURIComponent(lead.id)}`, class: "link block truncate" }, lead.name),
          h("span", { class: "block truncate text-xs text-slate-500" }, [lead.company, lead.email].filter(Boolean).join(" · ")),
          h("span", { class: "block text-xs text-slate-500 sm:hidden" }, lead.phone),
          h("div", { class: "mt-1 flex flex-wrap gap-1 sm:hidden" }, badge(lead.status), flags),
        ),
        h("td", { class: "hidden whitespace-nowrap tabular-nums sm:table-cell" }, lead.phone),
        h("td", { class: "hidden sm:table-cell" }, h("div", { class: "flex flex-wrap gap-1" }, badge(lead.status), flags)),
        h("td", { class: "hidden md:table-cell" }, lead.assignedToId ? names.get(lead.assignedToId) || "Unknown" : h("span", { class: "text-slate-400" }, "Unassigned")),
        h("td", { class: "hidden whitespace-nowrap lg:table-cell" }, relative(lead.lastContactedAt)),
        h(
          "td",
          { class: "text-right" },
          h(
            "div",
            { class: "flex justify-end gap-1" },
            h(
              "button",
              {
                type: "button",
                class: "btn btn-ghost btn-sm text-emerald-700",
                "aria-label": `Call ${lead.name}`,
                title: lead.doNotCall ? "On the do-not-call list" : "Call",
                onclick: () => openCallDialog(lead, {}),
              },
              icon("phone"),
              h("span", { class: "hidden xl:inline" }, "Call"),
            ),
            h(
              "button",
              {
                type: "button",
                class: "btn btn-ghost btn-sm",
                "aria-label": `Edit ${lead.name}`,
                title: "Edit",
                onclick: () => openLeadForm({ lead, onSaved: () => reload() }),
              },
              icon("pencil"),
            ),
            h(
              "button",
              {
                type: "button",
                class: "btn btn-ghost btn-sm text-rose-700",
                "aria-label": `Archive ${lead.name}`,
                title: "Archive",
                onclick: async () => {
                  if (await archiveWithConfirm(lead)) reload();
                },
              },
              icon("archive"),
            ),
          ),
        ),
      );
    });
    replace(
      tableArea,
      h(
        "div",
        { class: "relative overflow-x-auto" },
        h(
          "table",
          { class: "table", "aria-label": "Leads" },
          h(
            "thead",
            { class: "bg-slate-50" },
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Name"),
              h("th", { scope: "col", class: "hidden sm:table-cell" }, "Phone"),
              h("th", { scope: "col", class: "hidden sm:table-cell" }, "Status"),
              h("th", { scope: "col", class: "hidden md:table-cell" }, "Assigned to"),
              h("th", { scope: "col", class: "hidden lg:table-cell" }, "Last contact"),
              h("th", { scope: "col", class: "text-right" }, h("span", { class: "sr-only" }, "Actions")),
            ),
          ),
          h("tbody", { class: "divide-y divide-slate-100 bg-white" }, rows),
        ),
      ),
    );
  }

  function renderPager(count, hasNext) {
    if (state.page === 0 && !hasNext) {
      replace(pager, count ? h("p", { class: "text-sm text-slate-600" }, `${count} ${count === 1 ? "lead" : "leads"}`) : null);
      pager.hidden = !count;
      return;
    }
    pager.hidden = false;
    const first = state.page * PAGE_SIZE + 1;
    const prev = h(
      "button",
      { type: "button", class: "btn btn-secondary btn-sm", disabled: state.page === 0, onclick: () => { state.page -= 1; reload(); } },
      icon("chevronLeft"),
      "Previous",
    );
    const next = h(
      "button",
      { type: "button", class: "btn btn-secondary btn-sm", disabled: !hasNext, onclick: () => { state.page += 1; reload(); } },
      "Next",
      icon("chevronRight"),
    );
    replace(
      pager,
      h("p", { class: "text-sm text-slate-600" }, count ? `Showing ${first}–${first + count - 1}` : ""),
      h("div", { class: "flex gap-2" }, prev, next),
    );
  }

  await reload(true);
  return null;
}
