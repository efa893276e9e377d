// Small caches shared by pages: the team (for names and pickers) and leads looked up by id.
// Preferences (last member and caller ID used) live in localStorage.
import * as api from "./api.js";

let membersPromise = null;
let membersAt = 0;
const MEMBERS_TTL_MS = 30_000;

export function members({ fresh = false } = {}) {
  if (fresh || !membersPromise || Date.now() - membersAt > MEMBERS_TTL_MS) {
    membersAt = Date.now();
    membersPromise = api.allMembers().catch((err) => {
      membersPromise = null;
      throw err;
    });
  }
  return membersPromise;
}

export function invalidateMembers() {
  membersPromise = null;
}

export async function memberNames() {
  const list = await members();
  return new Map(list.map((m) => [m.id, m.name]));
}

const leadCache = new Map();

export async function leadById(id) {
  if (!leadCache.has(id)) {
    leadCache.set(
      id,
      api.getLead(id).catch(() => null),
    );
  }
  return leadCache.get(id);
}

export function rememberLead(lead) {
  if (lead?.id) leadCache.set(lead.id, Promise.resolve(lead));
}

export function pref(name, value) {
  const key = `coldcall.pref.${name}`;
  try {
    if (value === undefined) return localStorage.getItem(key) || "";
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    /* storage unavailable: preferences are a convenience */
  }
  return value;
}

export function resetCaches() {
  membersPromise = null;
  leadCache.clear();
}
