// The leads page's bulk actions, for the rows selected (POST /leads/bulk): assign to…, set
// status…, archive, restore (managers and admins), suppress (the numbers' voice and SMS), and
// the report of what was done: updated, skipped (already so), and each lead refused and why.
// Managers and admins also add the selection to a campaign (dialogs/add-to-campaign.js).
import * as api from "../api.js";
import { openAddToCampaign } from "../dialogs/add-to-campaign.js";
import { h, icon, replace } from "../dom.js";
import { LEAD_STATUSES, label } from "../format.js";
import { can, me } from "../roles.js";
import { busy, confirmDialog, errorMessage, nextId, notice } from "../ui.js";

/**
 * bulkBar({selection, names, onDone}) -> {node, update()}
 *   selection: {size, ids(), clear(), subscribe(fn)}; names(): Map of lead id -> name (rows
 *   seen), team: a Promise of the members; onDone(): after an action (the list reloads).
 */
export function bulkBar({ selection, leadNames, team, onDone }) {
  const count = h("p", { class: "text-sm font-medium text-slate-900", "data-selected-count": "" });
  const report = h("div", { "data-bulk-report": "", "aria-live": "polite" });
  const assignId = nextId("bulk-assign");
  const statusId = nextId("bulk-status");
  const assignSelect = h("select", { id: assignId, class: "input", "data-bulk-assign": "" }, h("option", { value: "" }, "Choose…"), h("option", { value: "-" }, "Nobody (unassign)"));
  const statusSelect = h(
    "select",
    { id: statusId, class: "input", "data-bulk-status": "" },
    h("option", { value: "" }, "Choose…"),
    LEAD_STATUSES.map((s) => h("option", { value: s }, label(s))),
  );
  team.then((people) => {
    const offered = can("leads.all") ? people || [] : (people || []).filter((m) => m.id === me()?.id);
    for (const m of offered.filter((p) => p.active)) assignSelect.append(h("option", { value: m.id }, m.name));
  });

  const button = (text, attrs, iconName) => h("button", { type: "button", class: "btn btn-secondary btn-sm", ...attrs }, iconName ? icon(iconName) : null, text);
  const assignBtn = button("Assign", {});
  const statusBtn = button("Set status", {});
  const archiveBtn = can("leads.archive") ? button("Archive", { class: "btn btn-secondary btn-sm text-rose-700" }, "archive") : null;
  const restoreBtn = can("leads.archive") ? button("Restore", {}) : null;
  const suppressBtn = button("Suppress", { class: "btn btn-secondary btn-sm text-rose-700" });
  const campaignBtn = can("campaigns.write") ? button("Add to campaign", {}, "flag") : null;
  const clearBtn = h("button", { type: "button", class: "btn btn-ghost btn-sm", onclick: () => selection.clear() }, "Clear selection");

  const cell = (id, text, control, btn) =>
    h("div", { class: "flex items-end gap-2" }, h("div", {}, h("label", { for: id, class: "label" }, text), control), btn);
  const bar = h(
    "div",
    { class: "flex flex-wrap items-end gap-3 border-b border-slate-200 bg-indigo-50/60 p-4", role: "region", "aria-label": "Bulk actions", "data-bulk-bar": "" },
    count,
    cell(assignId, "Assign to", assignSelect, assignBtn),
    cell(statusId, "Set status", statusSelect, statusBtn),
    h("div", { class: "flex flex-wrap gap-2" }, campaignBtn, archiveBtn, restoreBtn, suppressBtn, clearBtn),
  );

  function showReport(action, result) {
    const names = leadNames();
    const errors = result.errors || [];
    replace(
      report,
      h(
        "div",
        { class: "border-b border-slate-200 p-4" },
        notice(
          errors.length ? "warning" : "info",
          h(
            "p",
            { "data-bulk-result": action },
            `${label(action)}: ${result.updated} updated, ${result.skipped} skipped (already so)`,
            errors.length ? `, ${errors.length} not done:` : ".",
          ),
          errors.length
            ? h(
                "ul",
                { class: "mt-1 list-disc pl-5" },
                errors.map((e) => h("li", { "data-bulk-error": e.leadId }, `${names.get(e.leadId) || e.leadId}: ${e.message}`)),
              )
            : null,
        ),
      ),
    );
  }

  async function run(btn, action, value, confirm) {
    const ids = selection.ids();
    if (!ids.length) return;
    if (confirm && !(await confirmDialog(confirm(ids.length)))) return;
    await busy(btn, "Working…", async () => {
      try {
        const body = { leadIds: ids, action };
        if (value !== undefined) body.value = value;
        const result = await api.bulkLeads(body);
        showReport(action, result);
        selection.clear();
        onDone();
      } catch (err) {
        replace(report, h("div", { class: "border-b border-slate-200 p-4" }, notice("error", `Could not ${action} the leads: ${errorMessage(err)}`)));
      }
    });
  }

  assignBtn.addEventListener("click", () => {
    if (!assignSelect.value) return assignSelect.focus();
    return run(assignBtn, "assign", assignSelect.value === "-" ? null : assignSelect.value);
  });
  statusBtn.addEventListener("click", () => {
    if (!statusSelect.value) return statusSelect.focus();
    return run(statusBtn, "status", statusSelect.value);
  });
  archiveBtn?.addEventListener("click", () =>
    run(archiveBtn, "archive", undefined, (n) => ({
      title: `Archive ${n} ${n === 1 ? "lead" : "leads"}?`,
      message: "They leave every list and the funnel. Their calls, messages and phone numbers are kept; Restore brings them back.",
      confirmLabel: "Archive",
      danger: true,
    })),
  );
  restoreBtn?.addEventListener("click", () => run(restoreBtn, "restore"));
  campaignBtn?.addEventListener("click", () => {
    const n = selection.size();
    openAddToCampaign({
      leadIds: selection.ids(),
      names: leadNames(),
      describe: `The ${n} selected ${n === 1 ? "lead" : "leads"}.`,
      onAdded: () => {
        selection.clear();
        onDone();
      },
    });
  });
  suppressBtn.addEventListener("click", () =>
    run(suppressBtn, "suppress", undefined, (n) => ({
      title: `Suppress ${n} ${n === 1 ? "number" : "numbers"}?`,
      message: "Their numbers go on the suppression list for calls and texts: nobody can call or text them until an admin lifts it.",
      confirmLabel: "Suppress",
      danger: true,
    })),
  );

  // In the page only while rows are selected (its controls would otherwise sit beside the
  // filters' under the same words).
  const holder = h("div", {});
  function update() {
    const n = selection.size();
    count.textContent = `${n} selected`;
    if (n === 0 && bar.parentNode === holder) replace(holder);
    else if (n > 0 && bar.parentNode !== holder) replace(holder, bar);
  }
  selection.subscribe(update);
  update();
  return { node: h("div", {}, holder, report), update };
}

/** A selection of lead ids, kept across pages: {has, toggle, ids, size, clear, subscribe}. */
export function leadSelection() {
  const chosen = new Set();
  const subscribers = new Set();
  const changed = () => {
    for (const fn of [...subscribers]) fn();
  };
  return {
    has: (id) => chosen.has(id),
    toggle(id, on) {
      if (on) chosen.add(id);
      else chosen.delete(id);
      changed();
    },
    ids: () => [...chosen],
    size: () => chosen.size,
    clear() {
      chosen.clear();
      for (const input of document.querySelectorAll("[data-select-lead], [data-select-all]")) input.checked = false;
      changed();
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
  };
}
