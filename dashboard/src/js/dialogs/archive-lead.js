// Archiving a lead, after a confirmation: used by the leads list and a lead's page.
import * as api from "../api.js";
import { confirmDialog, errorMessage, toast } from "../ui.js";

/** Ask, archive, say how it went; resolves true when the lead was archived. */
export async function openArchiveLead(lead) {
  const ok = await confirmDialog({
    title: `Archive ${lead.name}?`,
    message: "The lead leaves every list and the funnel. Its calls, messages and phone number are kept.",
    confirmLabel: "Archive",
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.archiveLead(lead.id);
  } catch (err) {
    toast(`Could not archive ${lead.name}: ${errorMessage(err)}`, "error");
    return false;
  }
  toast(`Archived ${lead.name}.`, "success");
  return true;
}
