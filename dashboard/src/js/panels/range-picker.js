// The dashboard's date range: a preset or two dates, kept in the URL (#/?from=…&to=…).
import { h, setText } from "../dom.js";
import { addDays, isoDay } from "../format.js";
import { nextId } from "../ui.js";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PRESETS = [
  ["today", "Today", 0],
  ["7", "Last 7 days", 6],
  ["30", "Last 30 days", 29],
  ["90", "Last 90 days", 89],
  ["custom", "Custom range", null],
];

function presetRange(days) {
  const end = new Date();
  return { from: isoDay(addDays(end, -days)), to: isoDay(end) };
}

/** The range the URL asks for, or the last 7 days: {from, to, preset}. */
export function rangeFromQuery(query) {
  let from = query.get("from");
  let to = query.get("to");
  if (!DAY.test(from || "") || !DAY.test(to || "")) ({ from, to } = presetRange(6));
  const preset =
    PRESETS.find(([, , days]) => days !== null && presetRange(days).from === from && presetRange(days).to === to)?.[0] ||
    "custom";
  return { from, to, preset };
}

function labelled(id, text, control) {
  return h("div", {}, h("label", { for: id, class: "label" }, text), control);
}

/** rangePicker({from, to, preset}, go(from, to)) -> <form> */
export function rangePicker({ from, to, preset }, go) {
  const presetId = nextId("preset");
  const fromId = nextId("from");
  const toId = nextId("to");
  const presetSelect = h(
    "select",
    { id: presetId, class: "input" },
    PRESETS.map(([value, text]) => h("option", { value, selected: value === preset }, text)),
  );
  const fromInput = h("input", { id: fromId, type: "date", class: "input", value: from, max: to, required: true });
  const toInput = h("input", { id: toId, type: "date", class: "input", value: to, min: from, required: true });
  const rangeError = h("p", { class: "field-error w-full", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "flex flex-wrap items-end gap-2", "aria-label": "Date range", novalidate: true },
    labelled(presetId, "Range", presetSelect),
    labelled(fromId, "From", fromInput),
    labelled(toId, "To", toInput),
    h("button", { type: "submit", class: "btn btn-secondary" }, "Apply"),
    rangeError,
  );
  presetSelect.addEventListener("change", () => {
    const found = PRESETS.find(([v]) => v === presetSelect.value);
    if (found && found[2] !== null) {
      const r = presetRange(found[2]);
      go(r.from, r.to);
    } else {
      fromInput.focus();
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = fromInput.value;
    const t = toInput.value;
    if (!DAY.test(f) || !DAY.test(t) || f > t) {
      setText(rangeError, "Choose a start date on or before the end date.");
      rangeError.hidden = false;
      return;
    }
    go(f, t);
  });
  return form;
}
