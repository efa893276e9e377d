// Import a list of numbers into the suppression ledger (managers and admins): a .txt or .csv
// file, one number per line or the national registry's area code + number columns, sent
// (POST /suppressions/import) with its upload progress, then an indeterminate bar with the time
// elapsed while the server writes, then what it did: added, duplicates, errors by row. A big
// file takes several requests (the API stops at its time budget and answers `nextRow`): the
// dialog sends the file again from there until it is done, showing the lines handled of the
// file's, and sums the answers; when a continuation fails it shows what was imported and
// offers Resume from the last `nextRow` (ui.js importInRequests, as the lead import).
import * as api from "../api.js";
import { h, icon, replace, setText } from "../dom.js";
import { clock, number } from "../format.js";
import { errorMessage, importErrors, importInRequests, importStat, importStopped, importTotals, nextId, openDialog, problem, uploadProgress } from "../ui.js";

const MAX_BYTES = 6 * 1024 * 1024;

function report(data) {
  const errors = Array.isArray(data.errors) ? data.errors : [];
  const errorCount = data.errorCount ?? errors.length;
  return h(
    "div",
    { class: "space-y-4" },
    h(
      "dl",
      { class: "grid grid-cols-2 gap-3 sm:grid-cols-4" },
      importStat("Rows", data.rows ?? data.added + data.duplicates + errorCount, "bg-slate-100 text-slate-800", "rows"),
      importStat("Added", data.added, "bg-emerald-50 text-emerald-800", "added"),
      importStat("Already listed", data.duplicates, "bg-amber-50 text-amber-900", "duplicates"),
      importStat("Errors", errorCount, errorCount ? "bg-rose-50 text-rose-800" : "bg-slate-100 text-slate-800", "errors"),
    ),
    errors.length
      ? importErrors(
          errors,
          data.errorsTruncated ? `Lines that were not imported (the first ${number(errors.length)} of ${number(errorCount)})` : "Lines that were not imported",
          "Line",
        )
      : h("p", { class: "text-sm text-emerald-700" }, "Every line was added or was already on the list."),
  );
}

/** openSuppressionImport({onImported}) -> the dialog. */
export function openSuppressionImport({ onImported }) {
  const formId = nextId("supp-import");
  const fileId = nextId("supp-file");
  const chanId = nextId("supp-channels");
  const input = h("input", {
    id: fileId,
    name: "file",
    type: "file",
    accept: ".txt,.csv,text/plain,text/csv",
    required: true,
    class: "block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-indigo-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-indigo-700 hover:file:bg-indigo-100",
    "aria-describedby": `${fileId}-hint`,
  });
  const channels = h(
    "select",
    { id: chanId, name: "channels", class: "input" },
    h("option", { value: "" }, "Calls and texts"),
    h("option", { value: "voice" }, "Calls only"),
    h("option", { value: "sms" }, "Texts only"),
  );
  const progress = uploadProgress(formId);
  const live = h("div", { role: "status", "aria-live": "polite", class: "sr-only" });
  const result = h("div", { "data-import-result": "" });
  const form = h(
    "form",
    { id: formId, novalidate: true, class: "space-y-4" },
    h(
      "div",
      { class: "space-y-2" },
      h("label", { for: fileId, class: "label" }, "File of numbers"),
      input,
      h(
        "p",
        { id: `${fileId}-hint`, class: "hint" },
        "A .txt or .csv file: one number per line in any common form, or the national Do Not Call registry's download (area code, number). A header line is skipped. Up to 6 MB; a big file is sent in several parts.",
      ),
    ),
    h("div", { class: "sm:w-64" }, h("label", { for: chanId, class: "label" }, "Suppress"), channels),
    progress.box,
    live,
    result,
  );
  const submit = h("button", { type: "submit", form: formId, class: "btn btn-primary" }, icon("upload"), "Import");
  const close = h("button", { type: "button", class: "btn btn-secondary" }, "Close");
  let upload = null;
  let ticker = null;
  let imported = false;
  const stopTicker = () => {
    clearInterval(ticker);
    ticker = null;
  };
  const dlg = openDialog({
    title: "Import numbers to suppress",
    content: form,
    footer: [close, submit],
    wide: true,
    onClose: () => {
      stopTicker();
      if (upload) upload.abort();
      if (imported && onImported) onImported();
    },
  });
  close.addEventListener("click", () => dlg.close());

  const summary = (t) => `${number(t.added)} added, ${number(t.duplicates)} already listed, ${number(t.errorCount)} errors.`;
  let rowsShown = false; // a continuation: the lines done stay on show

  // Send the file (from `fromRow`, when going on) until the API says it is done, summing the
  // answers into `totals`; a failed continuation shows what was imported and offers Resume.
  const run = async (file, chosen, totals, fromRow) => {
    submit.disabled = true;
    input.disabled = true;
    channels.disabled = true;
    replace(result);
    const started = Date.now();
    const step = (p) => {
      if (rowsShown) return;
      if (p.phase === "upload") {
        progress.upload(file, p);
        return;
      }
      progress.indeterminate(); // while the server writes
      setText(live, "Upload complete; adding the numbers.");
      const tick = () => progress.say(`Uploaded; adding the numbers… ${clock((Date.now() - started) / 1000)} elapsed`);
      tick();
      stopTicker();
      ticker = setInterval(tick, 1000);
    };
    try {
      const outcome = await importInRequests({
        totals,
        fromRow,
        send: (from) => (upload = api.importSuppressions(file, chosen, step, from)),
        onAnswer: () => {
          stopTicker();
          imported = imported || totals.added > 0;
        },
        onRows: (t) => {
          rowsShown = true;
          stopTicker();
          progress.box.hidden = false;
          progress.share(t.rows, t.totalRows);
          const words = `Imported ${number(t.rows)} of ${number(t.totalRows)} lines…`;
          progress.say(words);
          setText(live, words);
        },
      });
      progress.box.hidden = true;
      if (outcome.done) {
        replace(result, report(totals));
        setText(live, summary(totals));
        input.value = "";
      } else if (totals.requests === 0) {
        setText(live, "");
        replace(result, h("div", { role: "alert" }, problem("The import failed", errorMessage(outcome.error))));
        input.value = "";
      } else {
        const stopped = importStopped({
          totals,
          error: outcome.error,
          fromRow: outcome.fromRow,
          noun: "line",
          onResume: () => run(file, chosen, totals, outcome.fromRow),
          report: report(totals),
        });
        replace(result, stopped.node);
        setText(live, `${stopped.words}. ${summary(totals)}`);
        stopped.resume.focus();
      }
    } catch (err) {
      if (err?.name !== "AbortError") throw err;
    } finally {
      stopTicker();
      upload = null;
      submit.disabled = false;
      input.disabled = false;
      channels.disabled = false;
    }
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    replace(result);
    const file = input.files && input.files[0];
    if (!file || file.size > MAX_BYTES) {
      replace(result, problem(file ? `The file is ${number(file.size)} bytes; the limit is 6 MB. Split it and import the parts.` : "Choose a file first."));
      if (!file) input.focus();
      return;
    }
    rowsShown = false;
    progress.start(`Uploading ${file.name}… 0%`);
    setText(live, "Upload started.");
    await run(file, channels.value, importTotals(["added", "duplicates"]), null);
  });
  return dlg;
}
