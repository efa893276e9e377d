// Compliance: the rules (admins edit the whole document; the shipped defaults can be put back)
// and the suppression ledger (anyone adds a number; managers and admins read the list, search
// it by number and import files; admins lift a channel). What each role sees follows
// roles.js; the API enforces it, and its refusals (403, 409) are said in plain words here.
import * as api from "../api.js";
import { CHANNEL_WORDS, sourceLabel } from "../compliance.js";
import { h, icon, replace } from "../dom.js";
import { openSuppressionImport } from "../dialogs/suppression-import.js";
import { dateTime } from "../format.js";
import { panel } from "../panel.js";
import { pager } from "../panels/pager.js";
import { rulesEditor } from "../panels/rules-editor.js";
import { can } from "../roles.js";
import { resource } from "../store.js";
import { busy, clearErrors, confirmDialog, emptyState, errorMessage, field, formBanner, formValues, loading, notice, pageHeader, section, showErrors, toast } from "../ui.js";

const PAGE = 25;

function legalNote() {
  return notice(
    "info",
    h("p", { class: "font-semibold" }, "The shipped defaults are a starting point, not legal advice."),
    h(
      "p",
      {},
      "They encode a few well-known rules and none of their exemptions: 08:00–21:00 everywhere (TCPA, 47 CFR § 64.1200(c)(1); the FTC's Telemarketing Sales Rule, 16 CFR § 310.4(c)); " +
        "Florida 08:00–20:00 and 3 calls in 24 hours (Fla. Stat. § 501.616(6)); Oklahoma likewise (15 O.S. § 775C.4); Maryland likewise (Com. Law § 14-4502); " +
        "Texas Sundays 12:00–21:00 (Tex. Bus. & Com. Code § 301.051); premium-rate and satellite prefixes blocked; US and Canada only. " +
        "Other states have rules of their own. Review them with counsel for your business.",
    ),
  );
}

// ---------------------------------------------------------------- rules

function rulesSection(signal) {
  const area = h("div", { "aria-live": "polite" });
  if (!can("compliance.rules")) {
    replace(
      area,
      h("div", { class: "space-y-3 p-4", "data-read-only": "" }, h("p", { class: "text-sm text-slate-700" }, "Only an admin can see and change the calling rules. Calls and texts that break them are refused, and the refusal says why and when the number can be reached."), legalNote()),
    );
    return { node: section("Rules", area), start: () => Promise.resolve() };
  }
  const rules = resource((s) => api.complianceRules(s), { signal });
  panel(area, rules, {
    loading: () => loading("Loading the rules…"),
    title: "Could not load the compliance rules",
    render: (doc) => [
      h("div", { class: "px-4 pt-4" }, legalNote()),
      rulesEditor({ doc, editable: true, onSave: (next) => api.saveComplianceRules(next), onDefaults: () => api.complianceDefaults() }),
    ],
  });
  return { node: section("Rules", area), start: () => rules.start() };
}

// ---------------------------------------------------------------- suppressions

function addForm(onAdded) {
  const form = h(
    "form",
    { novalidate: true, class: "grid gap-3 border-b border-slate-200 p-4 md:grid-cols-[1fr_auto_1fr_auto] md:items-end", "aria-label": "Add a number to the suppression list", "data-add-suppression": "" },
    h("div", { class: "md:col-span-4" }, formBanner()),
    field({ name: "phone", label: "Phone number", kind: "tel", required: true, autocomplete: "off", placeholder: "(212) 555-0142" }),
    field({ name: "channels", label: "Suppress", kind: "select", options: [["both", "Calls and texts"], ["voice", "Calls only"], ["sms", "Texts only"]] }),
    field({ name: "reason", label: "Reason (optional)", maxlength: 200, placeholder: "Asked by email not to be contacted" }),
  );
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, icon("plus"), "Add");
  form.append(h("div", {}, submit));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const values = formValues(form);
    if (!values.phone) {
      showErrors(form, { code: "validation_error", message: "Enter the number to suppress.", details: { field: "phone" } });
      return;
    }
    const body = { phone: values.phone };
    if (values.channels !== "both") body.channels = [values.channels];
    if (values.reason) body.reason = values.reason;
    try {
      const item = await busy(submit, "Adding…", () => api.addSuppression(body));
      form.elements.namedItem("phone").value = "";
      form.elements.namedItem("reason").value = "";
      toast(`${item.phone} is on the suppression list.`, "success");
      onAdded(item);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

function searchForm(phone, navigate) {
  const form = h(
    "form",
    { class: "flex flex-wrap items-end gap-2 border-b border-slate-200 p-4", role: "search", "aria-label": "Search the suppression list" },
    h(
      "div",
      { class: "w-full sm:w-72" },
      h("label", { for: "supp-search", class: "label" }, "Find a number"),
      h("input", { id: "supp-search", name: "phone", type: "search", class: "input", value: phone, placeholder: "(212) 555-0142", autocomplete: "off", "aria-describedby": "supp-search-hint" }),
    ),
    h("button", { type: "submit", class: "btn btn-secondary" }, "Search"),
    phone ? h("a", { href: "#/compliance", class: "btn btn-ghost" }, "Show all") : null,
    h("p", { id: "supp-search-hint", class: "hint w-full" }, "The whole number, in any common form: the list is looked up by exact number, not by part of one."),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = form.elements.namedItem("phone").value.trim();
    navigate(value ? `#/compliance?phone=${encodeURIComponent(value)}` : "#/compliance");
  });
  return form;
}

/** The server's refusal of a removal, for people. */
function removalProblem(err, phone, channel) {
  const what = CHANNEL_WORDS[channel]?.nouns || "calls and texts";
  if (err.status === 409) {
    return `${phone} opted out of texts itself by replying STOP. Only that person can lift it, by texting START to us; it stays on the list.`;
  }
  if (err.status === 403) return `Only an admin can take a number off the suppression list: ${phone} still refuses ${what}.`;
  if (err.status === 404) return `${phone} is no longer suppressed for ${what}; the list has been refreshed.`;
  return `Could not remove ${phone}: ${errorMessage(err)}`;
}

function rowsOf(item) {
  const rows = [];
  for (const channel of ["voice", "sms"]) {
    if (!(item.channels || []).includes(channel)) continue;
    const rec = item[channel] || item;
    rows.push({ item, channel, rec });
  }
  return rows;
}

function suppressionTable(items, { canRemove, onRemove }) {
  return h(
    "div",
    { class: "relative overflow-x-auto" }, // relative: the sr-only header stays inside the scroller
    h(
      "table",
      { class: "table", "aria-label": "Suppressed numbers" },
      h(
        "thead",
        { class: "bg-slate-50" },
        h("tr", {}, ["Number", "Channel", "Reason", "Source", "Added by", "When"].map((t) => h("th", { scope: "col" }, t)), canRemove ? h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")) : null),
      ),
      h(
        "tbody",
        { class: "divide-y divide-slate-100" },
        items.flatMap((item) =>
          rowsOf(item).map(({ channel, rec }) =>
            h(
              "tr",
              { "data-phone": item.phone, "data-channel": channel, "data-source": rec.source || "" },
              h("td", { class: "whitespace-nowrap font-medium tabular-nums text-slate-900" }, item.phone),
              h("td", {}, channel === "voice" ? "Calls" : "Texts"),
              h("td", { class: "max-w-xs break-words" }, rec.reason || "—"),
              h("td", {}, sourceLabel(rec.source)),
              h("td", {}, rec.createdBy?.name || (rec.createdBy?.type === "system" ? "The system" : "—")),
              h("td", { class: "whitespace-nowrap" }, dateTime(rec.createdAt)),
              canRemove
                ? h(
                    "td",
                    { class: "text-right" },
                    h(
                      "button",
                      { type: "button", class: "btn btn-ghost btn-sm text-rose-700", "aria-label": `Remove ${item.phone} from the ${channel === "voice" ? "calls" : "texts"} suppression list`, onclick: (e) => onRemove(item.phone, channel, e.currentTarget) },
                      "Remove",
                    ),
                  )
                : null,
            ),
          ),
        ),
      ),
    ),
  );
}

function suppressionSection({ phone, signal, navigate }) {
  const readable = can("suppressions.read");
  const canRemove = can("suppressions.remove");
  const problem = h("div", { role: "alert", class: "empty:hidden px-4 pt-4", "data-remove-error": "" });
  const area = h("div", { "aria-live": "polite" });
  const pagerNav = h("nav", { "aria-label": "Suppression list pages", class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });
  const at = { cursors: [null], page: 0 };
  const list = readable
    ? resource(
        async (s) => {
          const page = await api.listSuppressions({ phone: phone || undefined, limit: PAGE, cursor: at.cursors[at.page] }, s);
          at.cursors[at.page + 1] = page.nextCursor || null;
          return { items: page.items || [], hasNext: Boolean(page.nextCursor) };
        },
        { signal },
      )
    : null;
  const go = (n) => {
    at.page = n;
    list.reload();
  };

  async function onRemove(number, channel, button) {
    replace(problem);
    const what = channel === "voice" ? "calls" : "texts";
    const ok = await confirmDialog({
      title: `Remove ${number} for ${what}?`,
      message: `The team will be able to ${channel === "voice" ? "call" : "text"} ${number} again (within the calling rules). This is recorded in the audit log.`,
      confirmLabel: "Remove",
      danger: true,
    });
    if (!ok) return;
    try {
      await busy(button, "Removing…", () => api.removeSuppression(number, channel));
      toast(`${number} can be ${CHANNEL_WORDS[channel].verb} again.`, "success");
      list.refresh();
    } catch (err) {
      replace(problem, notice("error", h("p", { class: "font-semibold" }, "Not removed"), h("p", {}, removalProblem(err, number, channel))));
      if (err.status === 404) list.refresh();
    }
  }

  const importBtn = can("suppressions.import") ? h("button", { type: "button", class: "btn btn-secondary", onclick: () => openSuppressionImport({ onImported: () => list && list.reload() }) }, icon("upload"), "Import numbers") : null;
  const head = h(
    "div",
    { class: "flex flex-wrap items-center justify-between gap-3 px-4 pt-3" },
    h("p", { class: "text-sm text-slate-600" }, "Numbers here are never called or texted (on the channels listed), whichever lead holds them. Anyone can add one."),
    importBtn,
  );
  const nodes = [head, addForm(() => list && list.refresh())];
  if (!readable) {
    nodes.push(h("p", { class: "p-4 text-sm text-slate-600", "data-read-only": "" }, "Only managers and admins can see the list."));
    return { node: section("Suppression list", nodes), start: () => Promise.resolve() };
  }
  nodes.push(searchForm(phone, navigate), problem, area, pagerNav);
  panel(area, list, {
    loading: () => loading("Loading the suppression list…"),
    title: "Could not load the suppression list",
    error: (err, retry) => {
      if (err.status === 400 && phone) {
        return h("div", { class: "p-4", "data-search-error": "" }, notice("warning", h("p", { class: "font-semibold" }, `“${phone}” is not a whole phone number`), h("p", {}, "Search with the complete number, e.g. (212) 555-0142 or +12125550142.")));
      }
      return h("div", { class: "p-4" }, notice("error", h("p", { class: "font-semibold" }, "Could not load the suppression list"), h("p", {}, errorMessage(err))), h("button", { type: "button", class: "btn btn-secondary btn-sm mt-3", onclick: retry }, "Try again"));
    },
    render: ({ items }) => {
      if (items.length) return suppressionTable(items, { canRemove, onRemove });
      if (phone) return emptyState(`${phone} is not suppressed`, "Calls and texts to it follow the calling rules.");
      if (at.page > 0) return emptyState("No more numbers.");
      return emptyState("No suppressed numbers yet", "Add one above, or import a list.");
    },
  });
  panel(pagerNav, list, {
    loading: () => [],
    error: () => [],
    render: ({ items, hasNext }) => {
      const nodes2 = pager({ page: at.page, pageSize: PAGE, count: items.length, hasNext, onPrevious: () => go(at.page - 1), onNext: () => go(at.page + 1), noun: ["number", "numbers"] });
      pagerNav.hidden = !nodes2;
      return nodes2 || [];
    },
  });
  return { node: section("Suppression list", nodes), start: () => list.start() };
}

export async function renderCompliance({ main, query, signal, navigate }) {
  const phone = (query.get("phone") || "").trim().slice(0, 40);
  const rules = rulesSection(signal);
  const suppressions = suppressionSection({ phone, signal, navigate });
  replace(main, pageHeader("Compliance"), h("div", { class: "space-y-6" }, suppressions.node, rules.node));
  await Promise.all([rules.start(), suppressions.start()]);
}
