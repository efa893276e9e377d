// CSV import: pick a file; the API's preview shows its columns with the lead field each is
// suggested for (a select per column, "Ignore" included) and a sample of its rows; then upload it
// with that mapping and a progress bar (XHR upload events), and show what the server did:
// created, duplicates, and the per-row error report. A big file takes several requests (the API
// stops at its time budget and answers `nextRow`): the dialog sends the file again from there
// until it is done, showing the rows imported of the file's, and sums the answers; when a
// continuation fails it shows what was imported and offers Resume from the last `nextRow`.
import * as api from "../api.js";
import { h, icon, replace, setText } from "../dom.js";
import { number } from "../format.js";
import { errorMessage, importErrors, importInRequests, importStat, importStopped, importTotals, nextId, notice, openDialog, problem, uploadProgress } from "../ui.js";

const MAX_BYTES = 6 * 1024 * 1024;

// The fields a column can hold (API.md, POST /leads/import's mapping), as people read them.
const FIELD_LABELS = {
  name: "Name (full)",
  firstName: "First name",
  lastName: "Last name",
  phone: "Phone",
  email: "E-mail",
  company: "Company",
  notes: "Notes",
  status: "Status",
  state: "State",
  assignedTo: "Owner (e-mail or name)",
  assignedToId: "Owner (member id)",
  doNotCall: "Do not call",
  smsOptOut: "SMS opt-out",
};
const DELIMITERS = { ",": "comma", ";": "semicolon", "\t": "tab" };

function filePicker(fileId) {
  const input = h("input", {
    id: fileId,
    name: "file",
    type: "file",
    accept: ".csv,.txt,.tsv,text/csv,text/plain,text/tab-separated-values",
    required: true,
    class:
      "block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-indigo-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-indigo-700 hover:file:bg-indigo-100",
    "aria-describedby": `${fileId}-hint`,
  });
  const node = h(
    "div",
    { class: "space-y-2" },
    h("label", { for: fileId, class: "label" }, "CSV file"),
    input,
    h(
      "p",
      { id: `${fileId}-hint`, class: "hint" },
      "A spreadsheet saved as CSV with a header row (comma, semicolon or tab separated; UTF-8, UTF-16 or Windows-1252), up to 6 MB. " +
        "You choose which column holds which field; good rows are kept even when others fail; duplicates are skipped.",
    ),
  );
  return { node, input };
}

/** The progress bar and its words: upload percent, then "importing rows" (indeterminate);
 * after an answer naming `nextRow`, the rows imported of the file's. */
function progressView(formId, live) {
  const progress = uploadProgress(formId);
  let rows = null; // {done, total} once an answer said how far the import is
  return {
    box: progress.box,
    start(file) {
      rows = null;
      progress.start(`Uploading ${file.name}…`);
      setText(live, "Upload started.");
    },
    /** Going on (or resuming) with `done` of `total` rows imported. */
    rows(done, total) {
      rows = { done, total };
      progress.box.hidden = false;
      progress.share(done, total);
      const words = `Imported ${number(done)} of ${number(total)} rows…`;
      progress.say(words);
      setText(live, words);
    },
    step(file, p) {
      if (rows) return; // a continuation: the rows done stay on show
      if (p.phase === "upload") {
        progress.upload(file, p);
      } else {
        progress.indeterminate(); // while the server works
        progress.say("Uploaded; importing rows…");
        setText(live, "Upload complete; importing rows.");
      }
    },
  };
}

/**
 * The mapping step: a select per column of the file (its suggested field preselected), a
 * sample of its rows, and what is still missing. `mapping()` is {header: field|null}.
 */
function mappingView(preview) {
  const seen = new Set();
  const headers = preview.headers.filter((name) => !seen.has(name) && seen.add(name));
  const fields = (preview.fields || Object.keys(FIELD_LABELS)).filter((f) => f in FIELD_LABELS);
  const missing = h("div", { "data-import-missing": "" });
  const selects = new Map();
  const sample = (name) =>
    preview.rows
      .map((row) => (row[name] || "").trim())
      .filter(Boolean)
      .slice(0, 2)
      .join(", ");
  const checkMissing = () => {
    const chosen = new Set([...selects.values()].map((s) => s.value).filter(Boolean));
    const lacking = [];
    if (!["name", "firstName", "lastName"].some((f) => chosen.has(f))) lacking.push("a name (or first and last name)");
    if (!chosen.has("phone")) lacking.push("a phone");
    replace(missing, lacking.length ? notice("warning", h("p", {}, `No column is chosen for ${lacking.join(" or ")}: the import will be refused.`)) : null);
  };
  const rows = headers.map((name) => {
    const select = h(
      "select",
      { class: "input py-1", "aria-label": `Field for column "${name || "(no name)"}"`, "data-import-column": name },
      h("option", { value: "" }, "Ignore this column"),
      fields.map((f) => h("option", { value: f, selected: preview.suggested[name] === f }, FIELD_LABELS[f])),
    );
    select.addEventListener("change", () => {
      // One column per field: choosing a field another column holds sets that one to Ignore.
      if (select.value) {
        for (const [other, s] of selects) if (other !== name && s.value === select.value) s.value = "";
      }
      checkMissing();
    });
    selects.set(name, select);
    return h(
      "tr",
      {},
      h("th", { scope: "row", class: "max-w-48 truncate font-medium text-slate-800" }, name || "(no name)"),
      h("td", {}, select),
      h("td", { class: "max-w-56 truncate text-slate-500" }, sample(name)),
    );
  });
  checkMissing();
  const delimiter = DELIMITERS[preview.delimiter] || JSON.stringify(preview.delimiter);
  const parts = [
    h(
      "p",
      { class: "text-sm text-slate-600", "data-import-detected": "" },
      `${number(preview.rowCount)} rows, ${delimiter} separated, ${preview.encoding === "windows-1252" ? "Windows-1252" : preview.encoding.toUpperCase()}.`,
    ),
    h(
      "div",
      { class: "max-h-96 overflow-auto rounded-md ring-1 ring-slate-200" },
      h(
        "table",
        { class: "table", "data-import-mapping": "" },
        h("caption", { class: "bg-slate-50 px-3 py-2 text-left text-sm font-medium text-slate-700" }, "Columns of the file and the lead field each holds"),
        h("thead", { class: "sticky top-0 bg-white" }, h("tr", {}, h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Sample"))),
        h("tbody", { class: "divide-y divide-slate-100" }, rows),
      ),
    ),
    missing,
  ];
  if (preview.headersTruncated) {
    parts.push(notice("info", h("p", {}, `The file has ${number(preview.columnCount)} columns; the first ${number(preview.headers.length)} are shown, the others keep the field suggested for them.`)));
  }
  if (preview.unknownOwnerCount) {
    const names = preview.unknownOwners.join(", ");
    parts.push(notice("warning", h("p", {}, `No team member has the e-mail or name ${names}${preview.unknownOwnerCount > preview.unknownOwners.length ? ", …" : ""}: those rows will be reported, not imported.`)));
  }
  if (preview.errors?.length) {
    parts.push(notice("warning", preview.errors.map((e) => h("p", {}, `Row ${e.row}: ${e.message}`))));
  }
  if (preview.rows.length) {
    parts.push(
      h(
        "div",
        { class: "overflow-auto rounded-md ring-1 ring-slate-200" },
        h(
          "table",
          { class: "table text-xs", "data-import-sample": "" },
          h("caption", { class: "bg-slate-50 px-3 py-2 text-left text-sm font-medium text-slate-700" }, `The first ${number(preview.rows.length)} rows`),
          h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col", class: "whitespace-nowrap" }, name)))),
          h("tbody", { class: "divide-y divide-slate-100" }, preview.rows.map((row) => h("tr", {}, headers.map((name) => h("td", { class: "max-w-48 truncate" }, row[name] ?? ""))))),
        ),
      ),
    );
  }
  return {
    node: h("div", { class: "space-y-3", "data-import-preview": "" }, parts),
    mapping: () => Object.fromEntries([...selects].map(([name, s]) => [name, s.value || null])),
  };
}

export function openImportDialog({ onImported }) {
  const formId = nextId("import-form");
  const picker = filePicker(nextId("csv"));
  const { input } = picker;
  const live = h("div", { role: "status", "aria-live": "polite", class: "sr-only" });
  const progress = progressView(formId, live);
  const columns = h("div", { "data-import-columns": "" });
  const result = h("div", { "data-import-result": "" });
  const form = h("form", { id: formId, novalidate: true, class: "space-y-4" }, picker.node, columns, progress.box, live, result);
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary" }, icon("upload"), "Import");
  const close = h("button", { type: "button", class: "btn btn-secondary" }, "Close");
  let upload = null;
  let imported = false;
  let previewing = null; // the preview of the chosen file: a promise of its mapping view or null
  let previewAbort = null;
  const dlg = openDialog({
    title: "Import leads from CSV",
    content: form,
    footer: [close, submit],
    wide: true,
    onClose: () => {
      if (upload) upload.abort();
      if (previewAbort) previewAbort.abort();
      if (imported && onImported) onImported();
    },
  });
  close.addEventListener("click", () => dlg.close());

  input.addEventListener("change", () => {
    replace(result);
    replace(columns);
    if (previewAbort) previewAbort.abort();
    const file = input.files && input.files[0];
    previewing = null;
    if (!file || file.size > MAX_BYTES) return;
    const abort = new AbortController();
    previewAbort = abort;
    replace(columns, h("p", { class: "text-sm text-slate-600" }, `Reading ${file.name}…`));
    previewing = api.previewImport(file, null, abort.signal).then(
      (preview) => {
        if (abort.signal.aborted) return null;
        const view = mappingView(preview);
        replace(columns, view.node);
        return view;
      },
      (err) => {
        if (err?.name === "AbortError" || abort.signal.aborted) return null;
        // The import itself says the same with the whole report: keep the choice to try.
        replace(columns, h("div", { role: "alert" }, problem("Could not read the file", errorMessage(err))));
        return null;
      },
    );
  });

  // Send the file (from `fromRow`, when going on) until the API says it is done, summing the
  // answers into `totals`; a failed continuation shows what was imported and offers Resume.
  const run = async (file, mapping, totals, fromRow) => {
    submit.disabled = true;
    input.disabled = true;
    replace(result);
    try {
      const outcome = await importInRequests({
        totals,
        fromRow,
        send: (from) => (upload = api.importLeads(file, (p) => progress.step(file, p), mapping, from)),
        onAnswer: (data) => {
          if (totals.requests === 1) totals.ignoredColumns = data.ignoredColumns || [];
          imported = imported || totals.created > 0;
        },
        onRows: (t) => progress.rows(t.rows, t.totalRows),
      });
      progress.box.hidden = true;
      if (outcome.done) {
        replace(columns);
        previewing = null;
        replace(result, report(totals));
        setText(live, summary(totals));
      } else if (totals.requests === 0) {
        setText(live, "");
        replace(result, h("div", { role: "alert" }, problem("The import failed", errorMessage(outcome.error))));
      } else {
        const stopped = importStopped({
          totals,
          error: outcome.error,
          fromRow: outcome.fromRow,
          onResume: () => run(file, mapping, totals, outcome.fromRow),
          report: report(totals),
        });
        replace(result, stopped.node);
        setText(live, `${stopped.words}. ${summary(totals)}`);
        stopped.resume.focus();
      }
    } catch (err) {
      if (err?.name !== "AbortError") throw err;
    } finally {
      upload = null;
      submit.disabled = false;
      input.disabled = false;
      if (!previewing) input.value = "";
    }
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    replace(result);
    const file = input.files && input.files[0];
    if (!file || file.size > MAX_BYTES) {
      replace(result, problem(file ? `The file is ${number(file.size)} bytes; the limit is 6 MB. Split it and import the parts.` : "Choose a CSV file first."));
      if (!file) input.focus();
      return;
    }
    submit.disabled = true;
    input.disabled = true;
    const view = previewing ? await previewing : null;
    progress.start(file);
    await run(file, view ? view.mapping() : null, emptyTotals(), null);
  });
  return dlg;
}

/** The sums of an import's answers (one per request). */
function emptyTotals() {
  return { ...importTotals(["created", "duplicates", "suppressed"]), ignoredColumns: [] };
}

function summary(data) {
  return `${number(data.created)} created, ${number(data.duplicates)} duplicates, ${number(data.errorCount ?? data.errors.length)} errors.`;
}

function report(data) {
  const errors = Array.isArray(data.errors) ? data.errors : [];
  const errorCount = data.errorCount ?? errors.length;
  const parts = [
    h(
      "dl",
      { class: "grid grid-cols-2 gap-3 sm:grid-cols-4" },
      importStat("Rows", data.rows ?? data.created + data.duplicates + errorCount, "bg-slate-100 text-slate-800", "rows"),
      importStat("Created", data.created, "bg-emerald-50 text-emerald-800", "created"),
      importStat("Duplicates", data.duplicates, "bg-amber-50 text-amber-900", "duplicates"),
      importStat("Errors", errorCount, errorCount ? "bg-rose-50 text-rose-800" : "bg-slate-100 text-slate-800", "errors"),
    ),
  ];
  if (data.ignoredColumns?.length) {
    parts.push(notice("info", h("p", {}, `Ignored columns: ${data.ignoredColumns.join(", ")}`)));
  }
  if (errors.length) {
    const caption = data.errorsTruncated
      ? `Rows that were not imported (the first ${number(errors.length)} of ${number(errorCount)})`
      : "Rows that were not imported";
    parts.push(importErrors(errors, caption, "Row"));
  } else {
    parts.push(h("p", { class: "text-sm text-emerald-700" }, "Every row was imported or was already there."));
  }
  return h("div", { class: "space-y-4" }, parts);
}
