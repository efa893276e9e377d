// The call log: the team's calls of a range of days, newest first (GET /calls?from=&to=…),
// filtered by member, outcome and disposition, paged by cursor. The range and the filters are
// kept in the URL; lead names link to the leads. A caller sees their own calls only (the API
// answers so; the member filter then offers them alone).
import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { CALL_OUTCOMES, DISPOSITIONS, dateTime, duration, label } from "../format.js";
import { panel } from "../panel.js";
import { pager } from "../panels/pager.js";
import { rangeFromQuery, rangePicker } from "../panels/range-picker.js";
import { can, me } from "../roles.js";
import { members, namesOf, resource } from "../store.js";
import { badge, emptyState, loading, nextId, pageHeader } from "../ui.js";

const PAGE_SIZE = 25;

function select(id, name, first, options, value) {
  return h(
    "select",
    { id, name, class: "input" },
    h("option", { value: "" }, first),
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );
}

function filterForm(filters, onChange) {
  const ids = { member: nextId("member"), outcome: nextId("outcome"), disposition: nextId("disposition") };
  const memberSelect = select(ids.member, "teamMemberId", can("leads.all") ? "Everyone" : "Me", [], filters.teamMemberId);
  const outcomeSelect = select(ids.outcome, "outcome", "Any outcome", CALL_OUTCOMES.map((o) => [o, label(o)]), filters.outcome);
  const dispositionSelect = select(ids.disposition, "disposition", "Any disposition", DISPOSITIONS.map((d) => [d, label(d)]), filters.disposition);
  const cell = (id, text, control) => h("div", { class: "w-full sm:w-48" }, h("label", { for: id, class: "label" }, text), control);
  const form = h(
    "form",
    { class: "flex flex-wrap items-end gap-3", role: "search", "aria-label": "Filter calls", onsubmit: (e) => e.preventDefault() },
    cell(ids.member, "Team member", memberSelect),
    cell(ids.outcome, "Outcome", outcomeSelect),
    cell(ids.disposition, "Disposition", dispositionSelect),
  );
  form.addEventListener("change", () =>
    onChange({ teamMemberId: memberSelect.value, outcome: outcomeSelect.value, disposition: dispositionSelect.value }),
  );
  function offer(team) {
    if (!team) return;
    const offered = can("leads.all") ? team : team.filter((m) => m.id === me()?.id);
    for (const m of offered) {
      memberSelect.append(h("option", { value: m.id, selected: m.id === filters.teamMemberId }, m.active ? m.name : `${m.name} (deactivated)`));
    }
  }
  return { form, offer };
}

function row(call, names) {
  return h(
    "tr",
    { "data-call-id": call.id, "data-outcome": call.outcome || "" },
    h("td", { class: "whitespace-nowrap text-sm" }, h("time", { datetime: call.createdAt || "" }, dateTime(call.createdAt))),
    h(
      "td",
      { class: "max-w-[14rem]" },
      h("a", { href: `#/leads/${encodeURIComponent(call.leadId)}`, class: "link block truncate" }, call.leadName || "Unknown lead"),
    ),
    h("td", { class: "hidden md:table-cell" }, names.get(call.teamMemberId) || "Unknown member"),
    h("td", {}, badge(call.outcome, label(call.outcome))),
    h("td", { class: "hidden sm:table-cell", "data-disposition": call.disposition || "" }, call.disposition ? label(call.disposition) : h("span", { class: "text-slate-600" }, "—")),
    h("td", { class: "hidden whitespace-nowrap text-right tabular-nums lg:table-cell" }, call.talkSeconds ? duration(call.talkSeconds) : "—"),
  );
}

function table(items, names) {
  return h(
    "div",
    { class: "relative overflow-x-auto" },
    h(
      "table",
      { class: "table", "aria-label": "Calls", "data-call-log": "" },
      h(
        "thead",
        { class: "bg-slate-50" },
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "When"),
          h("th", { scope: "col" }, "Lead"),
          h("th", { scope: "col", class: "hidden md:table-cell" }, "Team member"),
          h("th", { scope: "col" }, "Outcome"),
          h("th", { scope: "col", class: "hidden sm:table-cell" }, "Disposition"),
          h("th", { scope: "col", class: "hidden text-right lg:table-cell" }, "Talk time"),
        ),
      ),
      h("tbody", { class: "divide-y divide-slate-100 bg-white" }, items.map((c) => row(c, names))),
    ),
  );
}

export async function renderCallLog({ main, query, signal, navigate }) {
  const range = rangeFromQuery(query);
  const filters = {
    teamMemberId: query.get("teamMemberId") || "",
    outcome: CALL_OUTCOMES.includes(query.get("outcome")) ? query.get("outcome") : "",
    disposition: DISPOSITIONS.includes(query.get("disposition")) ? query.get("disposition") : "",
  };
  const to = (r, f) => {
    const params = new URLSearchParams({ from: r.from, to: r.to });
    for (const [k, v] of Object.entries(f)) if (v) params.set(k, v);
    navigate(`#/calls?${params}`);
  };
  const at = { cursors: [null], page: 0 };
  const team = members({ fresh: true }).catch(() => null);
  const list = resource(
    async (s) => {
      const [page, people] = await Promise.all([
        api.callLog({ from: range.from, to: range.to, ...filters, limit: PAGE_SIZE, cursor: at.cursors[at.page] }, s),
        team,
      ]);
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
  const form = filterForm(filters, (f) => to(range, f));
  const tableArea = h("div", { "aria-live": "polite" });
  const pagerNav = h("nav", { "aria-label": "Pagination", class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });
  replace(
    main,
    pageHeader("Call log"),
    h(
      "div",
      { class: "card overflow-hidden" },
      h("div", { class: "flex flex-col gap-3 border-b border-slate-200 p-4" }, rangePicker(range, (f, t) => to({ from: f, to: t }, filters)), form.form),
      tableArea,
      pagerNav,
    ),
  );
  team.then(form.offer);
  const filtered = Boolean(filters.teamMemberId || filters.outcome || filters.disposition);
  panel(tableArea, list, {
    loading: () => loading("Loading calls…"),
    title: "Could not load the calls",
    render: ({ items, names }) => {
      if (items.length) return table(items, names);
      if (at.page > 0) return emptyState("No more calls.", null, h("button", { type: "button", class: "btn btn-secondary", onclick: () => go(0) }, "Back to the first page"));
      return emptyState(filtered ? "No calls match these filters." : "No calls in this range.", filtered ? "Try another outcome, disposition or member." : "Pick a longer range.");
    },
  });
  panel(pagerNav, list, {
    loading: () => [],
    error: () => [],
    render: ({ items, hasNext }) => {
      const nodes = pager({ page: at.page, pageSize: PAGE_SIZE, count: items.length, hasNext, onPrevious: () => go(at.page - 1), onNext: () => go(at.page + 1), noun: ["call", "calls"] });
      pagerNav.hidden = !nodes;
      return nodes || [];
    },
  });
  await list.start();
}
