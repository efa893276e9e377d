// What the signed-in member's role lets them do in the dashboard: the same table as the API
// (API.md, "Identity and roles"), used only to show the buttons and pages that would work.
// The API enforces it; hiding a button is a courtesy, never the check. No fetch, no DOM.
import { currentMember } from "./api.js";

const MANAGERS = new Set(["manager", "admin"]);
const ADMINS = new Set(["admin"]);
const PERMISSIONS = {
  "leads.archive": MANAGERS, // archive and restore
  "leads.import": MANAGERS,
  "leads.export": MANAGERS,
  "leads.all": MANAGERS, // every lead (a caller: theirs and unassigned ones)
  "calls.as_member": ADMINS, // place calls and texts as another member (the "who" picker)
  "team.write": ADMINS,
  admin: ADMINS, // API keys and the audit log
  "campaigns.write": MANAGERS, // create, edit, fill and archive campaigns (callers read theirs)
  "callbacks.others": MANAGERS, // set, list and delete other members' callbacks
  "compliance.rules": ADMINS, // read and replace the compliance rules
  "suppressions.read": MANAGERS, // the suppression list (anyone signed in adds a number)
  "suppressions.import": MANAGERS,
  "suppressions.remove": ADMINS,
};

export const ROLES = [
  ["caller", "Caller"],
  ["manager", "Manager"],
  ["admin", "Admin"],
];

export function me() {
  return currentMember();
}

export function role() {
  return currentMember()?.role || "";
}

/** can("leads.export") -> whether the signed-in member's role allows it. */
export function can(permission) {
  const allowed = PERMISSIONS[permission];
  return Boolean(allowed && allowed.has(role()));
}
