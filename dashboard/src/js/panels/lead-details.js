// A lead's details: its status (changed here with a PATCH carrying the version read) and the
// facts (phone, email, company, assignee, local time, last contact, source, notes).
import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { LEAD_STATUSES, dateTime, label, localTimeIn, relative } from "../format.js";
import { errorMessage, nextId, phoneText, section, toast } from "../ui.js";

function row(term, ...value) {
  return h(
    "div",
    { class: "grid grid-cols-3 gap-2 px-4 py-2.5" },
    h("dt", { class: "font-medium text-slate-600" }, term),
    h("dd", { class: "col-span-2 min-w-0 break-words text-slate-800" }, value),
  );
}

function facts(lead, names) {
  const local = localTimeIn(lead.timezone);
  return [
    row("Phone", phoneText(lead.phone)),
    row("Email", lead.email || "—"),
    row("Company", lead.company || "—"),
    row("Assigned to", lead.assignedToId ? names.get(lead.assignedToId) || "Unknown member" : "Unassigned"),
    row("Local time", local ? `${local}${lead.timezone ? ` (${lead.timezone})` : ""}` : "—"),
    row("Last contact", relative(lead.lastContactedAt)),
    row("Source", label(lead.source)),
    row("Added", dateTime(lead.createdAt)),
    lead.notes ? row("Notes", h("span", { class: "whitespace-pre-wrap" }, lead.notes)) : null,
  ];
}

function statusPicker(leadStore) {
  const id = nextId("lead-status");
  const select = h("select", { id, class: "input" }, LEAD_STATUSES.map((s) => h("option", { value: s }, label(s))));
  select.addEventListener("change", async () => {
    const wanted = select.value;
    const lead = leadStore.get();
    select.disabled = true;
    let next = lead;
    try {
      next = await api.updateLead(lead.id, { status: wanted, version: lead.version });
      toast(`Status set to ${label(wanted)}.`, "success");
    } catch (err) {
      toast(`Could not change the status: ${errorMessage(err)}`, "error");
      next = await api.getLead(lead.id).catch(() => lead); // keep what we had
    } finally {
      select.disabled = false;
    }
    leadStore.set(next);
  });
  const box = h("div", { class: "border-b border-slate-100 px-4 py-3" }, h("label", { for: id, class: "label" }, "Status"), select);
  return { box, select };
}

/** leadDetails(leadStore, names) -> the Details section; follows the lead. */
export function leadDetails(leadStore, names) {
  const details = h("dl", { class: "divide-y divide-slate-100 text-sm" });
  const status = statusPicker(leadStore);
  function show(lead) {
    if (document.activeElement !== status.select) status.select.value = lead.status;
    replace(details, facts(lead, names));
  }
  show(leadStore.get());
  leadStore.subscribe(show);
  return section("Details", status.box, details);
}
