// The compliance rules document (API.md, "Compliance"; README "Compliance rules") as a form:
// calling and texting hours (default and per state), attempts per 24 h, weekday windows per
// state, holidays, blocked prefixes and allowed countries. Saving PUTs the whole document; a
// 400 names the bad field by its path (`callingHours.byState.FL`, `holidays.default[1]`) and is
// shown next to that control. Admins edit; nothing here decides what is allowed (the API does).
import { h, icon, replace, setText } from "../dom.js";
import { busy, errorMessage, nextId, notice, toast } from "../ui.js";

const DAYS = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
];
const WINDOW_HINT = "HH:MM-HH:MM, the number's local time (e.g. 08:00-21:00)";

/** A labelled text input carrying the document path it edits (data-path). */
function input({ label, path, value, hint, placeholder, inputmode, width = "" }) {
  const id = nextId("rule");
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const control = h("input", {
    id,
    type: "text",
    class: `input ${width}`,
    value: value ?? "",
    placeholder,
    inputmode,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    dataset: { path },
  });
  return {
    control,
    node: h(
      "div",
      { class: "min-w-0" },
      h("label", { for: id, class: "label" }, label),
      control,
      hint ? h("p", { id: hintId, class: "hint" }, hint) : null,
      h("p", { id: errorId, class: "field-error", hidden: true, "data-error-for": path }),
    ),
  };
}

/**
 * Rows keyed by state: each row a state code and its value(s); Add and Remove buttons.
 * columns: [{key, label, placeholder, width}], the first is the state. Returns {node, rows()}
 * where rows() is [{el, values: {key: text}}].
 */
function stateRows({ title, name, columns, rows, addLabel, disabled }) {
  const list = h("div", { class: "space-y-2", "data-rows": name });
  const empty = h("p", { class: "text-sm text-slate-500" }, "None.");
  const entries = [];
  function refreshEmpty() {
    empty.hidden = entries.length > 0;
  }
  function addRow(values = {}, focus = false) {
    const inputs = {};
    const cells = columns.map((col) => {
      const id = nextId(`${name}-${col.key}`);
      const control =
        col.kind === "select"
          ? h("select", { id, class: "input", disabled }, col.options.map(([v, t]) => h("option", { value: v, selected: v === (values[col.key] ?? col.options[0][0]) }, t)))
          : h("input", { id, type: "text", class: `input ${col.width || ""}`, value: values[col.key] ?? "", placeholder: col.placeholder, autocomplete: "off", spellcheck: "false", disabled });
      inputs[col.key] = control;
      return h("div", { class: col.grow ? "min-w-0 flex-1" : "min-w-0" }, h("label", { for: id, class: "label text-xs" }, col.label), control);
    });
    const error = h("p", { class: "field-error w-full", hidden: true, "data-row-error": "" });
    const remove = disabled
      ? null
      : h("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": `Remove this ${addLabel.toLowerCase()} row` }, icon("close"), "Remove");
    const el = h("div", { class: "flex flex-wrap items-end gap-2 rounded-md bg-slate-50 p-2", dataset: { row: name, state: values.state || "" } }, cells, remove, error);
    const entry = { el, inputs, error };
    if (remove) {
      remove.addEventListener("click", () => {
        entries.splice(entries.indexOf(entry), 1);
        el.remove();
        refreshEmpty();
      });
    }
    entries.push(entry);
    list.append(el);
    refreshEmpty();
    if (focus) Object.values(inputs)[0].focus();
  }
  for (const values of rows) addRow(values);
  refreshEmpty();
  const add = disabled ? null : h("button", { type: "button", class: "btn btn-secondary btn-sm", onclick: () => addRow({}, true) }, icon("plus"), `Add ${addLabel.toLowerCase()}`);
  return {
    node: h("fieldset", { class: "space-y-2" }, h("legend", { class: "text-sm font-semibold text-slate-800" }, title), list, empty, add),
    rows: () => entries.map((e) => ({ el: e.el, error: e.error, inputs: e.inputs, values: Object.fromEntries(Object.entries(e.inputs).map(([k, c]) => [k, c.value.trim()])) })),
  };
}

const list = (text) =>
  String(text || "")
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** "3" -> 3; "" -> null; anything else as typed (the API names it in its 400). */
function cap(text) {
  if (text === "") return null;
  return /^\d+$/.test(text) ? Number(text) : text;
}

class LocalError extends Error {
  constructor(path, message, row) {
    super(message);
    this.details = { field: path };
    this.code = "validation_error";
    this.row = row;
  }
}

function hoursPart(key, title, doc, disabled) {
  const def = input({ label: `${title}: every number`, path: `${key}.default`, value: doc?.default, hint: WINDOW_HINT, placeholder: "08:00-21:00" });
  def.control.disabled = disabled;
  const rows = stateRows({
    title: `${title} by state (narrow the default)`,
    name: key,
    addLabel: "State",
    disabled,
    columns: [
      { key: "state", label: "State", placeholder: "FL", width: "w-20" },
      { key: "window", label: "Window", placeholder: "08:00-20:00", width: "w-36" },
    ],
    rows: Object.entries(doc?.byState || {}).map(([state, window]) => ({ state, window })),
  });
  return {
    node: h("div", { class: "space-y-3" }, def.node, rows.node),
    collect(problems) {
      const byState = {};
      for (const r of rows.rows()) {
        const state = r.values.state.toUpperCase();
        const path = `${key}.byState.${state}`;
        r.el.dataset.path = path;
        if (state in byState) problems.push(new LocalError(path, `${state} appears twice: keep one row per state.`, r));
        byState[state] = r.values.window;
      }
      return { default: def.control.value.trim(), byState };
    },
  };
}

/** rulesEditor({doc, editable, onSave(doc) -> Promise<doc>, onDefaults() -> Promise<doc>}) -> node */
export function rulesEditor({ doc, editable, onSave, onDefaults }) {
  const disabled = !editable;
  const formId = nextId("rules");
  const banner = h("div", { "data-form-error": "", tabindex: "-1", role: "alert", class: "empty:hidden" });
  const body = h("div", { class: "space-y-6" });
  let parts = null;

  function build(current) {
    const calling = hoursPart("callingHours", "Calling hours", current.callingHours, disabled);
    const texting = hoursPart("textingHours", "Texting hours", current.textingHours, disabled);
    const attemptsDefault = input({
      label: "Calls per number in 24 hours: every number",
      path: "maxAttemptsPer24h.default",
      value: current.maxAttemptsPer24h?.default ?? "",
      hint: "A whole number; empty for no cap.",
      inputmode: "numeric",
      width: "w-32",
    });
    attemptsDefault.control.disabled = disabled;
    const attempts = stateRows({
      title: "Calls per number in 24 hours by state (the smallest cap wins)",
      name: "maxAttemptsPer24h",
      addLabel: "State",
      disabled,
      columns: [
        { key: "state", label: "State", placeholder: "FL", width: "w-20" },
        { key: "cap", label: "Calls", placeholder: "3", width: "w-24" },
      ],
      rows: Object.entries(current.maxAttemptsPer24h?.byState || {}).map(([state, n]) => ({ state, cap: String(n) })),
    });
    const weekdayRows = [];
    for (const [state, days] of Object.entries(current.weekdays?.byState || {})) {
      for (const [day, window] of Object.entries(days || {})) weekdayRows.push({ state, day, window: window ?? "" });
    }
    const weekdays = stateRows({
      title: "Days of the week by state (narrow that state's window; an empty window closes the day)",
      name: "weekdays",
      addLabel: "Day rule",
      disabled,
      columns: [
        { key: "state", label: "State", placeholder: "TX", width: "w-20" },
        { key: "day", label: "Day", kind: "select", options: DAYS },
        { key: "window", label: "Window (empty: closed)", placeholder: "12:00-21:00", width: "w-36" },
      ],
      rows: weekdayRows,
    });
    const holidaysDefault = input({
      label: "Holidays: every number",
      path: "holidays.default",
      value: (current.holidays?.default || []).join(", "),
      hint: "Closed all day: YYYY-MM-DD (that date) or MM-DD (every year), separated by commas.",
      placeholder: "12-25, 2027-01-01",
    });
    holidaysDefault.control.disabled = disabled;
    const holidays = stateRows({
      title: "Holidays by state",
      name: "holidays",
      addLabel: "State",
      disabled,
      columns: [
        { key: "state", label: "State", placeholder: "TX", width: "w-20" },
        { key: "dates", label: "Dates", placeholder: "07-04, 12-25", grow: true },
      ],
      rows: Object.entries(current.holidays?.byState || {}).map(([state, dates]) => ({ state, dates: (dates || []).join(", ") })),
    });
    const prefixes = input({
      label: "Blocked prefixes",
      path: "blockedPrefixes",
      value: (current.blockedPrefixes || []).join(", "),
      hint: "Numbers starting with these are never called or texted (leads, members' phones, caller IDs): + and digits, separated by commas.",
    });
    prefixes.control.disabled = disabled;
    const countries = input({
      label: "Allowed countries",
      path: "allowedCountries",
      value: (current.allowedCountries || []).join(", "),
      hint: "ISO country codes (US, CA…); numbers elsewhere are refused.",
    });
    countries.control.disabled = disabled;

    parts = {
      collect() {
        const problems = [];
        const capsByState = {};
        for (const r of attempts.rows()) {
          const state = r.values.state.toUpperCase();
          const path = `maxAttemptsPer24h.byState.${state}`;
          r.el.dataset.path = path;
          if (state in capsByState) problems.push(new LocalError(path, `${state} appears twice: keep one row per state.`, r));
          capsByState[state] = r.values.cap === "" ? r.values.cap : cap(r.values.cap);
        }
        const wdByState = {};
        for (const r of weekdays.rows()) {
          const state = r.values.state.toUpperCase();
          const path = `weekdays.byState.${state}.${r.values.day}`;
          r.el.dataset.path = path;
          wdByState[state] = wdByState[state] || {};
          if (r.values.day in wdByState[state]) problems.push(new LocalError(path, `${state} has two rows for the same day: keep one.`, r));
          wdByState[state][r.values.day] = r.values.window === "" ? null : r.values.window;
        }
        const hoByState = {};
        for (const r of holidays.rows()) {
          const state = r.values.state.toUpperCase();
          const path = `holidays.byState.${state}`;
          r.el.dataset.path = path;
          if (state in hoByState) problems.push(new LocalError(path, `${state} appears twice: keep one row per state.`, r));
          hoByState[state] = list(r.values.dates);
        }
        const out = {
          callingHours: calling.collect(problems),
          textingHours: texting.collect(problems),
          maxAttemptsPer24h: { default: cap(attemptsDefault.control.value.trim()), byState: capsByState },
          weekdays: { byState: wdByState },
          holidays: { default: list(holidaysDefault.control.value), byState: hoByState },
          blockedPrefixes: list(prefixes.control.value),
          allowedCountries: list(countries.control.value).map((c) => c.toUpperCase()),
        };
        return { doc: out, problems };
      },
    };
    replace(
      body,
      section2("Calling hours", calling.node),
      section2("Texting hours", texting.node),
      section2("Attempts", h("div", { class: "space-y-3" }, attemptsDefault.node, attempts.node)),
      section2("Days of the week", weekdays.node),
      section2("Holidays", h("div", { class: "space-y-3" }, holidaysDefault.node, holidays.node)),
      section2("Restricted numbers", h("div", { class: "grid gap-4 md:grid-cols-2" }, prefixes.node, countries.node)),
    );
  }

  function section2(title, content) {
    return h("div", { class: "space-y-3 border-t border-slate-100 pt-4 first:border-0 first:pt-0" }, h("h3", { class: "text-sm font-semibold uppercase tracking-wide text-slate-600" }, title), content);
  }

  function clear() {
    replace(banner);
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    for (const el of form.querySelectorAll(".field-error")) {
      el.hidden = true;
      setText(el, "");
    }
  }

  /** The control (or row) a path names: exact, else without its [index], else its parents. */
  function target(path) {
    let p = String(path || "");
    while (p) {
      const el = form.querySelector(`[data-path="${CSS.escape(p)}"]`);
      if (el) return el;
      if (/\[\d+\]$/.test(p)) p = p.replace(/\[\d+\]$/, "");
      else if (p.includes(".")) p = p.slice(0, p.lastIndexOf("."));
      else p = "";
    }
    return null;
  }

  function showProblem(err) {
    clear();
    const path = err.details?.field;
    const el = err.row ? err.row.el : path ? target(path) : null; // a local problem names its row
    let focus = null;
    if (el && el.matches("input, select")) {
      el.setAttribute("aria-invalid", "true");
      const msg = form.querySelector(`[data-error-for="${CSS.escape(el.dataset.path)}"]`);
      if (msg) {
        setText(msg, err.message);
        msg.hidden = false;
      }
      focus = el;
    } else if (el) {
      const msg = el.querySelector("[data-row-error]");
      if (msg) {
        setText(msg, err.message);
        msg.hidden = false;
      }
      const controls = [...el.querySelectorAll("input, select")];
      for (const c of controls) c.setAttribute("aria-invalid", "true");
      focus = controls[controls.length - 1] || null;
    }
    replace(
      banner,
      notice("error", h("p", { class: "font-semibold" }, "The rules were not saved"), h("p", {}, errorMessage(err)), path ? h("p", { class: "text-xs" }, `Field: ${path}`) : null),
    );
    if (focus) focus.focus();
    else banner.focus();
  }

  const save = editable ? h("button", { type: "submit", class: "btn btn-primary", form: formId }, "Save rules") : null;
  const restore = editable && onDefaults ? h("button", { type: "button", class: "btn btn-secondary" }, icon("refresh"), "Restore shipped defaults") : null;
  const form = h(
    "form",
    { id: formId, novalidate: true, class: "space-y-6 p-4", "aria-label": "Compliance rules", "data-rules-form": "" },
    banner,
    body,
    editable ? h("div", { class: "flex flex-wrap justify-end gap-2 border-t border-slate-100 pt-4" }, restore, save) : null,
  );
  build(doc);
  if (disabled) form.setAttribute("data-read-only", "");

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!editable) return;
    clear();
    const { doc: next, problems } = parts.collect();
    if (problems.length) {
      showProblem(problems[0]);
      return;
    }
    try {
      const saved = await busy(save, "Saving…", () => onSave(next));
      build(saved);
      toast("Compliance rules saved. They apply from the next call or text.", "success");
    } catch (err) {
      if (err.status === 400) showProblem(err);
      else {
        replace(banner, notice("error", h("p", { class: "font-semibold" }, "The rules were not saved"), h("p", {}, errorMessage(err))));
        banner.focus();
      }
    }
  });
  if (restore) {
    restore.addEventListener("click", async () => {
      clear();
      try {
        const defaults = await busy(restore, "Loading the defaults…", () => onDefaults());
        build(defaults);
        replace(banner, notice("info", h("p", {}, "The shipped defaults are in the form. Review them, then Save rules to apply them.")));
        banner.focus();
      } catch (err) {
        const missing = err.status === 404 || (err.status === 403 && err.code !== "forbidden");
        replace(
          banner,
          notice("error", h("p", { class: "font-semibold" }, "Could not load the shipped defaults"), h("p", {}, missing ? "This version of the API does not offer them (GET /compliance/rules/defaults)." : errorMessage(err))),
        );
        banner.focus();
      }
    });
  }
  return form;
}
