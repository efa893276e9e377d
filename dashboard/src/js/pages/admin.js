// Admin: API keys (create, shown once; revoke) and the audit log (filter by action, paged by
// the API's cursor; the filter is kept in the URL). Two resources, one panel each.
import * as api from "../api.js";
import { h } from "../dom.js";
import { panel } from "../panel.js";
import { apiKeyForm, apiKeysTable } from "../panels/api-keys.js";
import { AUDIT_ACTIONS, auditTable } from "../panels/audit-log.js";
import { pager } from "../panels/pager.js";
import { resource } from "../store.js";
import { emptyState, loading, nextId, pageHeader, section } from "../ui.js";

const AUDIT_PAGE = 25;

function actionFilter(action, navigate) {
  const id = nextId("audit-action");
  const known = AUDIT_ACTIONS.includes(action) || !action ? AUDIT_ACTIONS : [action, ...AUDIT_ACTIONS];
  const select = h(
    "select",
    { id, name: "action", class: "input" },
    h("option", { value: "" }, "Every action"),
    known.map((a) => h("option", { value: a, selected: a === action }, a)),
  );
  select.addEventListener("change", () => navigate(select.value ? `#/admin?action=${encodeURIComponent(select.value)}` : "#/admin"));
  return h(
    "form",
    { class: "flex flex-wrap items-end gap-3 border-b border-slate-200 p-4", role: "search", "aria-label": "Filter the audit log", onsubmit: (e) => e.preventDefault() },
    h("div", { class: "w-full sm:w-72" }, h("label", { for: id, class: "label" }, "Action"), select),
  );
}

export async function renderAdmin({ main, query, signal, navigate }) {
  const action = (query.get("action") || "").slice(0, 64);
  const keys = resource((s) => api.apiKeys(s), { signal });
  const at = { cursors: [null], page: 0 };
  const audit = resource(
    async (s) => {
      const page = await api.auditLog({ action, limit: AUDIT_PAGE, cursor: at.cursors[at.page] }, s);
      at.cursors[at.page + 1] = page.nextCursor || null;
      return { items: page.items || [], hasNext: Boolean(page.nextCursor) };
    },
    { signal },
  );
  const go = (page) => {
    at.page = page;
    audit.reload();
  };
  // A key created or revoked is in the log at once.
  const changed = () => {
    keys.refresh();
    audit.refresh();
  };

  const keysArea = h("div", { "aria-live": "polite" });
  const auditArea = h("div", { "aria-live": "polite" });
  const auditPager = h("nav", { "aria-label": "Audit log pages", class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });
  main.replaceChildren(
    pageHeader("Admin"),
    h(
      "div",
      { class: "space-y-6" },
      section("API keys", h("p", { class: "px-4 pt-3 text-sm text-slate-600" }, "For scripts and integrations: a key acts with its role, is shown once, and can be revoked at any time."), apiKeyForm({ onCreated: changed }), keysArea),
      section("Audit log", actionFilter(action, navigate), auditArea, auditPager),
    ),
  );

  panel(keysArea, keys, {
    loading: () => loading("Loading API keys…"),
    title: "Could not load the API keys",
    render: (list) => (list.length ? apiKeysTable(list, { onChanged: changed }) : emptyState("No API keys yet", "Create one for a script or an integration.")),
  });
  panel(auditArea, audit, {
    loading: () => loading("Loading the audit log…"),
    title: "Could not load the audit log",
    render: ({ items }) => {
      if (items.length) return auditTable(items);
      if (at.page > 0) return emptyState("No more entries.");
      return emptyState(action ? `Nothing recorded as ${action} yet.` : "Nothing recorded yet.");
    },
  });
  panel(auditPager, audit, {
    loading: () => [],
    error: () => [],
    render: ({ items, hasNext }) => {
      const nodes = pager({ page: at.page, pageSize: AUDIT_PAGE, count: items.length, hasNext, onPrevious: () => go(at.page - 1), onNext: () => go(at.page + 1), noun: ["entry", "entries"] });
      auditPager.hidden = !nodes;
      return nodes || [];
    },
  });
  await Promise.all([keys.start(), audit.start()]);
}
