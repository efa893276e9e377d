// The top of a lead's page: its name, status badges and the Call, Edit and Archive buttons.
import { h, icon, replace, setText } from "../dom.js";
import { badge } from "../ui.js";

/** leadHeader(leadStore, {onCall, onEdit, onArchive}) -> node; follows the lead. */
export function leadHeader(leadStore, { onCall, onEdit, onArchive }) {
  const title = h("h1", { class: "break-words text-2xl font-bold tracking-tight", tabindex: "-1", "data-page-title": "" });
  const badges = h("div", { class: "flex flex-wrap gap-1" });
  const callBtn = h("button", { type: "button", class: "btn btn-success", onclick: onCall }, icon("phone"), "Call");
  const editBtn = h("button", { type: "button", class: "btn btn-secondary", onclick: onEdit }, icon("pencil"), "Edit");
  const archiveBtn = h("button", { type: "button", class: "btn btn-secondary text-rose-700", onclick: onArchive }, icon("archive"), "Archive");

  function show(lead) {
    setText(title, lead.name);
    replace(
      badges,
      badge(lead.status),
      lead.doNotCall ? badge("danger", "Do not call") : null,
      lead.smsOptOut ? badge("warning", "Opted out of SMS") : null,
    );
    callBtn.title = lead.doNotCall ? "On the do-not-call list: the call will be refused" : "";
  }
  show(leadStore.get());
  leadStore.subscribe(show);
  return h(
    "div",
    { class: "mt-2 mb-6 flex flex-wrap items-start justify-between gap-3" },
    h("div", { class: "min-w-0 space-y-1" }, title, badges),
    h("div", { class: "flex flex-wrap gap-2" }, callBtn, editBtn, archiveBtn),
  );
}
