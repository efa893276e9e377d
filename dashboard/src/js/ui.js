// Reusable pieces built from dom.h: dialogs (focus kept inside, returned to the opener),
// toasts (announced through live regions), loading/empty/error states, badges, form fields.
import { activeElement, append, byId, h, icon, replace, setText } from "./dom.js";
import { label, number, phone } from "./format.js";

let uid = 0;
export function nextId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

// ---------------------------------------------------------------- toasts

/** A short message, announced by a live region; it never takes clicks (the region has
 * pointer-events: none), so it never hides a button under it. */
export function toast(message, kind = "info") {
  const region = byId(kind === "error" ? "toasts-alert" : "toasts");
  if (!region) return;
  const styles = {
    info: "bg-slate-900 text-white",
    success: "bg-emerald-700 text-white",
    error: "bg-rose-700 text-white",
  };
  const item = h(
    "div",
    { class: `rounded-md px-4 py-3 text-sm shadow-lg ${styles[kind] || styles.info}` },
    message,
  );
  region.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 5000);
}

// ---------------------------------------------------------------- states

export function loading(text = "Loading…") {
  return h(
    "div",
    { class: "flex items-center gap-2 px-4 py-8 text-sm text-slate-500", role: "status" },
    h("span", { class: "spinner text-indigo-600", "aria-hidden": "true" }),
    text,
  );
}

export function emptyState(title, text, ...actions) {
  return h(
    "div",
    { class: "px-6 py-10 text-center", "data-state": "empty" },
    h("p", { class: "text-sm font-semibold text-slate-800" }, title),
    text ? h("p", { class: "mt-1 text-sm text-slate-500" }, text) : null,
    actions.length ? h("div", { class: "mt-4 flex justify-center gap-2" }, actions) : null,
  );
}

export function errorState(err, retry, title = "Something went wrong") {
  return h(
    "div",
    {
      class: "m-4 rounded-md border border-rose-200 bg-rose-50 p-4 text-sm text-rose-800",
      role: "alert",
      "data-state": "error",
    },
    h("p", { class: "font-semibold" }, title),
    h("p", { class: "mt-1" }, errorMessage(err)),
    retry
      ? h("button", { type: "button", class: "btn btn-secondary btn-sm mt-3", onclick: retry }, "Try again")
      : null,
  );
}

export function errorMessage(err) {
  if (!err) return "Unknown error.";
  if (err.code === "not_found" || err.status === 404 || err.status === 403) {
    return err.message || "Not found.";
  }
  return err.message || String(err);
}

export function notice(kind, ...children) {
  const styles = {
    warning: "border-amber-200 bg-amber-50 text-amber-900",
    info: "border-sky-200 bg-sky-50 text-sky-900",
    error: "border-rose-200 bg-rose-50 text-rose-800",
  };
  return h(
    "div",
    { class: `flex gap-2 rounded-md border p-3 text-sm ${styles[kind] || styles.info}` },
    icon(kind === "info" ? "message" : "warning", "size-5 shrink-0"),
    h("div", { class: "min-w-0" }, children),
  );
}

// ---------------------------------------------------------------- badges

const BADGE = {
  new: "bg-sky-100 text-sky-800",
  contacted: "bg-indigo-100 text-indigo-800",
  qualified: "bg-amber-100 text-amber-800",
  not_interested: "bg-slate-200 text-slate-700",
  converted: "bg-emerald-100 text-emerald-800",
  completed: "bg-emerald-100 text-emerald-800",
  delivered: "bg-emerald-100 text-emerald-800",
  received: "bg-sky-100 text-sky-800",
  answered: "bg-emerald-100 text-emerald-800",
  queued: "bg-slate-100 text-slate-700",
  initiated: "bg-slate-100 text-slate-700",
  sending: "bg-slate-100 text-slate-700",
  sent: "bg-sky-100 text-sky-800",
  ringing: "bg-amber-100 text-amber-800",
  "in-progress": "bg-indigo-100 text-indigo-800",
  busy: "bg-orange-100 text-orange-800",
  "no-answer": "bg-orange-100 text-orange-800",
  canceled: "bg-slate-200 text-slate-700",
  "not-connected": "bg-slate-200 text-slate-700",
  failed: "bg-rose-100 text-rose-800",
  undelivered: "bg-rose-100 text-rose-800",
  active: "bg-emerald-100 text-emerald-800",
  inactive: "bg-slate-200 text-slate-600",
  warning: "bg-amber-100 text-amber-900",
  danger: "bg-rose-100 text-rose-800",
  // the call log's outcomes
  connected: "bg-emerald-100 text-emerald-800",
  voicemail: "bg-violet-100 text-violet-800",
  no_answer: "bg-orange-100 text-orange-800",
  not_connected: "bg-slate-200 text-slate-700",
  in_progress: "bg-indigo-100 text-indigo-800",
  unread: "bg-indigo-600 text-white",
};

export function badge(status, text) {
  return h(
    "span",
    { class: `badge ${BADGE[status] || "bg-slate-100 text-slate-700"}`, "data-status": status || "" },
    text ?? label(status),
  );
}

// ---------------------------------------------------------------- dialogs

/**
 * openDialog({title, description, content, footer, wide, onClose, opener}) -> {dialog, body, close}
 * A modal <dialog>: Escape closes it, focus moves into it and returns to the opener (the
 * element focused when it opened, unless given: callers that load data first pass it).
 */
export function openDialog({ title, description, content, footer, wide = false, onClose, opener: from }) {
  const opener = from || activeElement();
  const titleId = nextId("dlg-title");
  const descId = description ? nextId("dlg-desc") : null;
  const body = h("div", { class: "px-5 py-4" }, content);
  const foot = h(
    "div",
    { class: "flex flex-wrap justify-end gap-2 border-t border-slate-200 bg-slate-50 px-5 py-3" },
    footer,
  );
  const closeBtn = h(
    "button",
    { type: "button", class: "btn btn-ghost btn-sm", "aria-label": "Close" },
    icon("close", "size-5"),
  );
  const dialog = h(
    "dialog",
    {
      class: `m-auto w-[calc(100%-1.5rem)] ${wide ? "max-w-3xl" : "max-w-lg"} overflow-hidden rounded-xl bg-white p-0 text-slate-900 shadow-2xl`,
      "aria-labelledby": titleId,
      "aria-describedby": descId,
    },
    h(
      "div",
      { class: "flex items-start justify-between gap-3 border-b border-slate-200 px-5 py-4" },
      h(
        "div",
        { class: "min-w-0" },
        h("h2", { id: titleId, class: "text-lg font-semibold" }, title),
        description ? h("p", { id: descId, class: "mt-0.5 text-sm text-slate-500" }, description) : null,
      ),
      closeBtn,
    ),
    h("div", { class: "max-h-[75vh] overflow-y-auto" }, body),
    footer ? foot : null,
  );
  let closed = false;
  function close(result) {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    if (onClose) onClose(result);
    if (opener && typeof opener.focus === "function" && opener.isConnected) opener.focus();
  }
  closeBtn.addEventListener("click", () => close());
  dialog.addEventListener("cancel", (e) => {
    e.preventDefault();
    close();
  });
  // A modal <dialog> makes the page inert, but Tab past its last control leaves for the
  // browser's own UI; keep focus cycling inside instead.
  dialog.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const focusable = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  focusFirst(dialog, body);
  return { dialog, body, footer: foot, close, isOpen: () => !closed };
}

const FOCUSABLE =
  "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

function focusFirst(dialog, body) {
  const preferred =
    body.querySelector("[autofocus]") ||
    body.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])");
  (preferred || dialog.querySelector("button")).focus();
}

export function confirmDialog({ title, message, confirmLabel = "Confirm", danger = false }) {
  return new Promise((resolve) => {
    let answered = false;
    const ok = h(
      "button",
      { type: "button", class: `btn ${danger ? "btn-danger" : "btn-primary"}` },
      confirmLabel,
    );
    const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
    const dlg = openDialog({
      title,
      content: h("p", { class: "text-sm text-slate-600" }, message),
      footer: [cancel, ok],
      onClose: () => {
        if (!answered) resolve(false);
      },
    });
    cancel.addEventListener("click", () => dlg.close());
    ok.addEventListener("click", () => {
      answered = true;
      resolve(true);
      dlg.close();
    });
    cancel.focus();
  });
}

// ---------------------------------------------------------------- forms

/**
 * A labelled control. kind: "text" | "email" | "tel" | "password" | "date" | "select" |
 * "textarea" | "checkbox". options: [[value, text], ...] for selects.
 */
export function field({
  name,
  label: text,
  kind = "text",
  value = "",
  required = false,
  options = [],
  hint,
  autocomplete,
  placeholder,
  rows = 3,
  maxlength,
  autofocus = false,
  disabled = false,
}) {
  const id = nextId(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  const common = {
    id,
    name,
    required,
    autocomplete,
    placeholder,
    maxlength,
    autofocus,
    disabled,
    "aria-describedby": describedBy,
  };
  const error = h("p", { id: errorId, class: "field-error", hidden: true });
  if (kind === "checkbox") {
    const input = h("input", {
      ...common,
      type: "checkbox",
      class: "size-4 rounded border-slate-300 text-indigo-600",
      checked: Boolean(value),
    });
    return h(
      "div",
      { class: "flex items-start gap-2", dataset: { field: name } },
      h("div", { class: "pt-0.5" }, input),
      h(
        "div",
        {},
        h("label", { for: id, class: "text-sm font-medium text-slate-700" }, text),
        hint ? h("p", { id: hintId, class: "hint mt-0" }, hint) : null,
        error,
      ),
    );
  }
  let control;
  if (kind === "select") {
    control = h(
      "select",
      { ...common, class: "input" },
      options.map(([v, t]) => h("option", { value: v, selected: String(v) === String(value ?? "") }, t)),
    );
  } else if (kind === "textarea") {
    control = h("textarea", { ...common, rows, class: "input" });
    control.value = value ?? "";
  } else {
    control = h("input", { ...common, type: kind, class: "input", value: value ?? "" });
  }
  return h(
    "div",
    { dataset: { field: name } },
    h(
      "label",
      { for: id, class: "label" },
      text,
      required ? h("span", { class: "text-rose-600", "aria-hidden": "true" }, " *") : null,
    ),
    control,
    hint ? h("p", { id: hintId, class: "hint" }, hint) : null,
    error,
  );
}

/** The form's values: text trimmed, checkboxes as booleans. */
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") values[el.name] = el.checked;
    else values[el.name] = typeof el.value === "string" ? el.value.trim() : el.value;
  }
  return values;
}

/** Mark `fields` that are empty in `values` as required; true when any was missing. */
export function flagMissing(form, values, fields) {
  const missing = fields.filter((k) => !values[k]);
  if (missing.length) {
    showErrors(form, {
      code: "validation_error",
      message: "Fill in the required fields.",
      details: { fields: missing.map((f) => ({ field: f, message: "Required." })) },
    });
  }
  return missing.length > 0;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".field-error")) {
    el.hidden = true;
    setText(el, "");
  }
  const banner = form.querySelector("[data-form-error]");
  if (banner) replace(banner);
}

/**
 * Show an ApiError on a form: field errors (details.fields or details.field) next to their
 * controls, everything else in the form's banner. Focuses the first invalid control.
 */
export function showErrors(form, err, extra) {
  clearErrors(form);
  const details = err?.details || {};
  const problems = Array.isArray(details.fields)
    ? details.fields
    : details.field
      ? [{ field: details.field, message: err.message }]
      : [];
  let first = null;
  let shown = 0;
  for (const p of problems) {
    const name = String(p.field || "").split(".")[0];
    const control = name ? form.elements.namedItem(name) : null;
    if (!control || !control.id) continue;
    control.setAttribute("aria-invalid", "true");
    const msg = byId(`${control.id}-error`);
    if (msg) {
      setText(msg, p.message);
      msg.hidden = false;
    }
    first = first || control;
    shown += 1;
  }
  const banner = form.querySelector("[data-form-error]");
  if (banner && (shown === 0 || err.code !== "validation_error")) {
    replace(banner, notice("error", h("p", {}, errorMessage(err)), extra || null));
  }
  if (first) first.focus();
  else if (banner) banner.focus();
}

/**
 * showErrors for a failed save of an edit form. When someone else saved first (409) and
 * `reload` is given (an edit), the banner also offers "Load the latest version", which runs it.
 */
export function showSaveErrors(form, err, reload) {
  const offer =
    err.status === 409 && reload
      ? h("button", { type: "button", class: "btn btn-secondary btn-sm mt-2", onclick: reload }, "Load the latest version")
      : null;
  showErrors(form, err, offer);
}

export function formBanner() {
  return h("div", { "data-form-error": "", tabindex: "-1", role: "alert", class: "mb-3 empty:hidden" });
}

/** Disable a button while `work` runs, with a spinner and a busy label. */
export async function busy(button, text, work) {
  const original = Array.from(button.childNodes);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  replace(button, h("span", { class: "spinner", "aria-hidden": "true" }), text);
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    replace(button, original);
  }
}

/**
 * A secret shown once (a temporary password, an API key): a read-only field holding it and a
 * Copy button. The value is set as a property, never parsed.
 */
export function secretField({ label: text, value, hint }) {
  const id = nextId("secret");
  const hintId = hint ? `${id}-hint` : null;
  const input = h("input", {
    id,
    type: "text",
    readonly: true,
    class: "input font-mono",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": hintId,
    "data-secret": "",
  });
  input.value = String(value ?? "");
  const copy = h(
    "button",
    { type: "button", class: "btn btn-secondary shrink-0", "aria-label": `Copy the ${String(text).toLowerCase()}` },
    "Copy",
  );
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      toast("Copied to the clipboard.", "success");
    } catch {
      input.focus();
      input.select();
      toast("Selected: press Ctrl+C (or ⌘C) to copy.");
    }
  });
  return h(
    "div",
    {},
    h("label", { for: id, class: "label" }, text),
    h("div", { class: "flex gap-2" }, input, copy),
    hint ? h("p", { id: hintId, class: "hint" }, hint) : null,
  );
}

// ---------------------------------------------------------------- file imports

/**
 * An upload's progress (the CSV and suppression imports): a bar and the words above it, in
 * `box` (hidden until `start`). start(words): shown, the bar at 0. upload(file, p): an
 * upload-phase progress event ({loaded, total}) as a percent. indeterminate(): the upload is
 * done, the server works. share(done, total): the bar at done of total. say(words): new words.
 */
export function uploadProgress(formId) {
  const bar = h("progress", { max: "100", value: "0", class: "h-2 w-full overflow-hidden rounded accent-indigo-600", "aria-labelledby": `${formId}-status` });
  const text = h("p", { id: `${formId}-status`, class: "text-sm text-slate-600", "data-progress-text": "" });
  const box = h("div", { class: "space-y-2", hidden: true, "data-import-progress": "" }, text, bar);
  return {
    box,
    start(words) {
      box.hidden = false;
      bar.value = 0;
      setText(text, words);
    },
    upload(file, p) {
      const pct = p.total ? Math.round((p.loaded / p.total) * 100) : 0;
      bar.value = pct;
      setText(text, `Uploading ${file.name}… ${pct}%`);
    },
    indeterminate() {
      bar.removeAttribute("value");
    },
    /** A share done (e.g. rows imported of the file's): the bar at done/total. */
    share(done, total) {
      bar.value = total ? Math.min(100, Math.round((done / total) * 100)) : 0;
    },
    say(words) {
      setText(text, words);
    },
  };
}

const MAX_SHOWN_IMPORT_ERRORS = 1000;

/** The sums of an import's answers (one per request): `counts` are the answer's counts to sum
 * besides rows and errors (e.g. ["created", "duplicates"]). */
export function importTotals(counts) {
  const totals = { requests: 0, rows: 0, errors: [], errorCount: 0, errorsTruncated: false, totalRows: 0 };
  for (const key of counts) totals[key] = 0;
  totals.counts = counts;
  return totals;
}

/** One answer summed into `totals` (see importTotals). */
export function addImportAnswer(totals, data) {
  const errors = Array.isArray(data.errors) ? data.errors : [];
  const errorCount = data.errorCount ?? errors.length;
  totals.requests += 1;
  totals.rows += data.rows ?? 0;
  for (const key of totals.counts) totals[key] += data[key] || 0;
  totals.errorCount += errorCount;
  totals.errors = totals.errors.concat(errors).slice(0, MAX_SHOWN_IMPORT_ERRORS);
  totals.errorsTruncated = totals.errorCount > totals.errors.length;
  totals.totalRows = data.totalRows ?? totals.rows;
}

/**
 * An import in as many requests as the API takes (it stops at its time budget and answers
 * `nextRow`): send(fromRow) starts a request for the file from that row (null: the first) and
 * returns its {promise, abort}; each answer is summed into `totals` (addImportAnswer, then
 * onAnswer(data)), and onRows(totals) says how far it is before each continuation. Resolves
 * {done: true} when the API answers `nextRow: null`, or {error, fromRow} when a request fails
 * (fromRow: the row to Resume from); an AbortError is thrown on.
 */
export async function importInRequests({ send, totals, fromRow = null, onAnswer, onRows }) {
  let from = fromRow;
  if (totals.requests) onRows(totals); // resuming
  try {
    for (;;) {
      const data = await send(from).promise;
      addImportAnswer(totals, data);
      if (onAnswer) onAnswer(data);
      if (data.nextRow === null || data.nextRow === undefined || data.nextRow === from) return { done: true };
      from = data.nextRow;
      onRows(totals);
    }
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    return { error, fromRow: from };
  }
}

/** What a failed continuation shows: the error, the rows handled so far, a Resume button
 * (onResume) and `report` (what was imported). Returns {node, resume, words}. */
export function importStopped({ totals, error, fromRow, noun = "row", again = "imported", onResume, report }) {
  const resume = h("button", { type: "button", class: "btn btn-primary", "data-import-resume": "" }, "Resume");
  resume.addEventListener("click", onResume);
  const words = `The import stopped after ${number(totals.rows)} of ${number(totals.totalRows)} ${noun}s`;
  const node = h(
    "div",
    { class: "space-y-4" },
    h(
      "div",
      { role: "alert", class: "space-y-3" },
      problem(words, errorMessage(error), `Resume goes on from ${noun} ${number(fromRow)}: no ${noun} is ${again} twice.`),
      resume,
    ),
    report,
  );
  return { node, resume, words };
}

/** An error notice of one or more lines; with more than one, the first is its title. */
export function problem(...lines) {
  return notice("error", lines.map((line, i) => h("p", { class: i === 0 && lines.length > 1 ? "font-semibold" : null }, line)));
}

/** One count of an import's report (a <dt>/<dd> pair for a <dl>), `key` its data-import-stat. */
export function importStat(text, value, cls, key) {
  return h(
    "div",
    { class: `rounded-lg p-3 ${cls}`, "data-import-stat": key },
    h("dt", { class: "text-xs font-medium uppercase tracking-wide opacity-80" }, text),
    h("dd", { class: "mt-1 text-2xl font-semibold" }, number(value)),
  );
}

/** An import's per-row errors ({row, message}) as a scrolling table; `rowHeader` names the
 * row numbers' column ("Row", "Line"). */
export function importErrors(errors, caption, rowHeader) {
  return h(
    "div",
    { class: "relative max-h-72 overflow-auto rounded-md ring-1 ring-slate-200" },
    h(
      "table",
      { class: "table", "data-import-errors": "" },
      h("caption", { class: "bg-slate-50 px-3 py-2 text-left text-sm font-medium text-slate-700" }, caption),
      h("thead", { class: "sticky top-0 bg-white" }, h("tr", {}, h("th", { scope: "col", class: "w-20" }, rowHeader), h("th", { scope: "col" }, "Problem"))),
      h(
        "tbody",
        { class: "divide-y divide-slate-100" },
        errors.map((e) => h("tr", {}, h("td", { class: "tabular-nums" }, String(e.row)), h("td", {}, e.message))),
      ),
    ),
  );
}

// ---------------------------------------------------------------- page furniture

export function pageHeader(title, ...actions) {
  return h(
    "div",
    { class: "mb-6 flex flex-wrap items-center justify-between gap-3" },
    h("h1", { class: "text-2xl font-bold tracking-tight text-slate-900", tabindex: "-1", "data-page-title": "" }, title),
    actions.length ? h("div", { class: "flex flex-wrap gap-2" }, actions) : null,
  );
}

export function section(title, ...children) {
  const id = nextId("sec");
  return h(
    "section",
    { class: "card", "aria-labelledby": id },
    h("h2", { id, class: "border-b border-slate-200 px-4 py-3 text-base font-semibold text-slate-900" }, title),
    children,
  );
}

export { append };

/** A phone number as people read it (format.js `phone`: national for the team's country,
 * E.164 otherwise), with the E.164 in its title; copying it copies the E.164. */
export function phoneText(e164, attrs = {}) {
  if (!e164) return h("span", attrs, "—");
  const shown = phone(e164);
  const span = h("span", { class: "tabular-nums", title: e164, "data-e164": e164, ...attrs }, shown);
  span.addEventListener("copy", (e) => {
    const selected = String(globalThis.getSelection?.() || "");
    if (!e.clipboardData || !selected || !shown.includes(selected.trim())) return;
    e.clipboardData.setData("text/plain", selected.trim() === shown ? e164 : selected);
    e.preventDefault();
  });
  return span;
}
