// The top of a lead's page: its name, status badges and the Call, Schedule callback, Edit and
// Archive buttons; an archived lead says so and offers Restore instead (its other actions would all fail).
import { h, icon, replace, setText } from "../dom.js";
import { badge, notice } from "../ui.js";

/** leadHeader(leadStore, {onCall, onEdit, onArchive, onRestore, canArchive}) -> node; follows
 * the lead. */
export function leadHeader(leadStore, { onCall, onEdit, onArchive, onRestore, onCallback, canArchive = true }) {
  const title = h("h1", { class: "break-words text-2xl font-bold tracking-tight", tabindex: "-1", "data-page-title": "" });
  const badges = h("div", { class: "flex flex-wrap gap-1" });
  const callBtn = h("button", { type: "button", class: "btn btn-success", onclick: onCall }, icon("phone"), "Call");
  const callbackBtn = onCallback ? h("button", { type: "button", class: "btn btn-secondary", onclick: onCallback }, icon("clock"), "Schedule callback") : null;
  const editBtn = h("button", { type: "button", class: "btn btn-secondary", onclick: onEdit }, icon("pencil"), "Edit");
  const archiveBtn = h("button", { type: "button", class: "btn btn-secondary text-rose-700", onclick: onArchive }, icon("archive"), "Archive");
  const restoreBtn = h("button", { type: "button", class: "btn btn-primary", onclick: onRestore }, "Restore");
  const archivedNote = h("div", { class: "w-full" });

  function show(lead) {
    const archived = Boolean(lead.archived);
    setText(title, lead.name);
    replace(
      badges,
      archived ? badge("archived", "Archived") : null,
      badge(lead.status),
      lead.doNotCall ? badge("danger", "Do not call") : null,
      lead.smsOptOut ? badge("warning", "Opted out of SMS") : null,
    );
    callBtn.title = lead.doNotCall ? "On the do-not-call list: the call will be refused" : "";
    for (const btn of [callBtn, editBtn, callbackBtn].filter(Boolean)) btn.hidden = archived;
    // Archive and Restore are for managers and admins.
    archiveBtn.hidden = archived || !canArchive;
    restoreBtn.hidden = !archived || !canArchive;
    replace(
      archivedNote,
      archived
        ? notice(
            "warning",
            h("p", { class: "font-semibold" }, `${lead.name} is archived.`),
            h("p", {}, "It is in no list and not in the funnel; its calls and texts are kept. Restore it to call, text or edit it."),
          )
        : null,
    );
  }
  show(leadStore.get());
  leadStore.subscribe(show);
  return h(
    "div",
    { class: "mt-2 mb-6 flex flex-wrap items-start justify-between gap-3" },
    h("div", { class: "min-w-0 space-y-1" }, title, badges),
    h("div", { class: "flex flex-wrap gap-2" }, callBtn, callbackBtn, editBtn, archiveBtn, restoreBtn),
    archivedNote,
  );
}
