// CSV import: pick a file, upload it with a progress bar (XHR upload events), then show what
// the server did: created, duplicates, and the per-row error report.
import * as api from "../api.js";
import { h, icon, replace, setText } from "../dom.js";
import { number } from "../format.js";
import { errorMessage, nextId, notice, openDialog } from "../ui.js";

const MAX_BYTES = 6 * 1024 * 1024;

function filePicker(fileId) {
  const input = h("input", {
    id: fileId,
    name: "file",
    type: "file",
    accept: ".csv,text/csv",
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
      "A header row naming at least name and phone; also email, company, notes, status, assignedToId. " +
        "UTF-8, up to 6 MB. Good rows are kept even when others fail; duplicates are skipped.",
    ),
  );
  return { node, input };
}

/** The progress bar and its words: upload percent, then "importing rows" (indeterminate). */
function progressView(formId, live) {
  const bar = h("progress", { max: "100", value: "0", class: "h-2 w-full overflow-hidden rounded accent-indigo-600", "aria-labelledby": `${formId}-status` });
  const text = h("p", { id: `${formId}-status`, class: "text-sm text-slate-600" });
  const box = h("div", { class: "space-y-2", hidden: true, "data-import-progress": "" }, text, bar);
  return {
    box,
    start(file) {
      box.hidden = false;
      bar.value = 0;
      setText(text, `Uploading ${file.name}…`);
      setText(live, "Upload started.");
    },
    step(file, p) {
      if (p.phase === "upload") {
        const pct = p.total ? Math.round((p.loaded / p.total) * 100) : 0;
        bar.value = pct;
        setText(text, `Uploading ${file.name}… ${pct}%`);
      } else {
        bar.value = 100;
        bar.removeAttribute("value"); // indeterminate while the server works
        setText(text, "Uploaded; importing rows…");
        setText(live, "Upload complete; importing rows.");
      }
    },
  };
}

function problem(...lines) {
  return notice("error", lines.map((line, i) => h("p", { class: i === 0 && lines.length > 1 ? "font-semibold" : null }, line)));
}

export function openImportDialog({ onImported }) {
  const formId = nextId("import-form");
  const picker = filePicker(nextId("csv"));
  const { input } = picker;
  const live = h("div", { role: "status", "aria-live": "polite", class: "sr-only" });
  const progress = progressView(formId, live);
  const result = h("div", { "data-import-result": "" });
  const form = h("form", { id: formId, novalidate: true, class: "space-y-4" }, picker.node, progress.box, live, result);
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary" }, icon("upload"), "Import");
  const close = h("button", { type: "button", class: "btn btn-secondary" }, "Close");
  let upload = null;
  let imported = false;
  const dlg = openDialog({
    title: "Import leads from CSV",
    content: form,
    footer: [close, submit],
    wide: true,
    onClose: () => {
      if (upload) upload.abort();
      if (imported && onImported) onImported();
    },
  });
  close.addEventListener("click", () => dlg.close());

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
    progress.start(file);
    upload = api.importLeads(file, (p) => progress.step(file, p));
    try {
      const data = await upload.promise;
      imported = imported || data.created > 0;
      progress.box.hidden = true;
      replace(result, report(data));
      setText(live, summary(data));
    } catch (err) {
      if (err?.name === "AbortError") return;
      progress.box.hidden = true;
      setText(live, "");
      replace(result, h("div", { role: "alert" }, problem("The import failed", errorMessage(err))));
    } finally {
      upload = null;
      submit.disabled = false;
      input.disabled = false;
      input.value = "";
    }
  });
  return dlg;
}

function summary(data) {
  return `${number(data.created)} created, ${number(data.duplicates)} duplicates, ${number(data.errorCount ?? data.errors.length)} errors.`;
}

function stat(text, value, cls, key) {
  return h(
    "div",
    { class: `rounded-lg p-3 ${cls}`, "data-import-stat": key },
    h("dt", { class: "text-xs font-medium uppercase tracking-wide opacity-80" }, text),
    h("dd", { class: "mt-1 text-2xl font-semibold" }, number(value)),
  );
}

function report(data) {
  const errors = Array.isArray(data.errors) ? data.errors : [];
  const errorCount = data.errorCount ?? errors.length;
  const parts = [
    h(
      "dl",
      { class: "grid grid-cols-2 gap-3 sm:grid-cols-4" },
      stat("Rows", data.rows ?? data.created + data.duplicates + errorCount, "bg-slate-100 text-slate-800", "rows"),
      stat("Created", data.created, "bg-emerald-50 text-emerald-800", "created"),
      stat("Duplicates", data.duplicates, "bg-amber-50 text-amber-900", "duplicates"),
      stat("Errors", errorCount, errorCount ? "bg-rose-50 text-rose-800" : "bg-slate-100 text-slate-800", "errors"),
    ),
  ];
  if (data.ignoredColumns?.length) {
    parts.push(notice("info", h("p", {}, `Ignored columns: ${data.ignoredColumns.join(", ")}`)));
  }
  if (errors.length) {
    const caption = data.errorsTruncated
      ? `Rows that were not imported (the first ${number(errors.length)} of ${number(errorCount)})`
      : "Rows that were not imported";
    parts.push(
      h(
        "div",
        { class: "relative max-h-72 overflow-auto rounded-md ring-1 ring-slate-200" },
        h(
          "table",
          { class: "table", "data-import-errors": "" },
          h("caption", { class: "bg-slate-50 px-3 py-2 text-left text-sm font-medium text-slate-700" }, caption),
          h("thead", { class: "sticky top-0 bg-white" }, h("tr", {}, h("th", { scope: "col", class: "w-20" }, "Row"), h("th", { scope: "col" }, "Problem"))),
          h(
            "tbody",
            { class: "divide-y divide-slate-100" },
            errors.map((e) => h("tr", {}, h("td", { class: "tabular-nums" }, String(e.row)), h("td", {}, e.message))),
          ),
        ),
      ),
    );
  } else {
    parts.push(h("p", { class: "text-sm text-emerald-700" }, "Every row was imported or was already there."));
  }
  return h("div", { class: "space-y-4" }, parts);
}
