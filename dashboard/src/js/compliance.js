// Compliance refusals in plain words: the API's 422 `blocked` (details.reason, API.md
// "Compliance") and GET /leads/{id}/compliance say which rule stops a call or a text; these
// helpers say it as a person would, with when it opens in the viewer's and the lead's local
// time. Pure: no DOM, no network.
import { dateTime } from "./format.js";

export const CHANNEL_WORDS = {
  voice: { noun: "call", nouns: "calls", verb: "called", Noun: "Call" },
  sms: { noun: "text", nouns: "texts", verb: "texted", Noun: "Text" },
};

export const SOURCE_LABELS = {
  sms_stop: "They texted STOP",
  twilio_21610: "They unsubscribed (reported by Twilio)",
  disposition: "They asked on a call (do-not-call outcome)",
  lead_flag: "Set on a lead",
  manual: "Added by hand",
  import: "Imported list",
};

export function sourceLabel(source) {
  return SOURCE_LABELS[source] || (source ? String(source) : "—");
}

const OUR_FIELDS = {
  memberPhone: "your phone number (the one Twilio rings first)",
  callerId: "the caller ID",
  from: "the number the text is sent from",
};

/** "2026-12-07T21:00" (a zone's local wall time) -> "21:00" on the day, shown as is. */
function wallTime(value) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(String(value || ""));
  return m ? `${m[2]} on ${m[1]}` : String(value || "");
}

/** When `opensAt` (ISO UTC) is in each of the lead's zones: "08:00 (America/New_York)". */
export function inZones(iso, zones) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return "";
  const parts = [];
  for (const zone of zones || []) {
    try {
      const text = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "numeric", minute: "2-digit", timeZone: zone }).format(d);
      parts.push(`${text} (${zone})`);
    } catch {
      /* a zone this browser does not know: skip it */
    }
  }
  return parts.join(", ");
}

function localTimes(details) {
  const local = details.localTime || details.leadLocalTime;
  if (!local || typeof local !== "object") return "";
  return Object.entries(local)
    .map(([zone, t]) => `${wallTime(t)} (${zone})`)
    .join(", ");
}

function where(details) {
  const states = [details.state, details.leadState].filter(Boolean);
  const unique = [...new Set(states)];
  return unique.length ? ` in ${unique.join(" and ")}` : "";
}

/**
 * explain(details, {channel, message}) -> {reason, title, text, facts: [[term, text]], opensAt}
 * `details` is a 422's `details` or one channel of GET /leads/{id}/compliance (with its own
 * `details` merged in); `message` is the server's words, kept as a fact for reasons this
 * version does not know.
 */
export function explain(details, { channel, message } = {}) {
  const d = details || {};
  const ch = CHANNEL_WORDS[channel || d.channel] || CHANNEL_WORDS.voice;
  const reason = d.reason || "";
  const facts = [];
  let title = `This ${ch.noun} is not allowed`;
  let text = message || "A compliance rule refuses it.";
  let opensAt = null;
  if (reason === "archived") {
    title = "This lead is archived";
    text = "Restore it to call or text it.";
  } else if (reason === "opted_out") {
    title = "They opted out of texts";
    text = "The person replied STOP (or a word like it) to our texts. Only they can lift it, by texting START to us; nobody on the team can.";
  } else if (reason === "do_not_call") {
    title = "They asked not to be contacted";
    text = `This number is on the do-not-call list, so ${ch.nouns} to it are refused. Only an admin can remove it, on the Compliance page.`;
  } else if (reason === "suppressed") {
    title = "This number is on the suppression list";
    text = `${ch.Noun}s to it are refused while it is on the list (added by hand or imported). Only an admin can remove it, on the Compliance page.`;
  } else if (reason === "attempt_limit") {
    title = "Too many calls to this number today";
    const n = d.attempts ?? "?";
    text = `This number has been called ${n} ${Number(n) === 1 ? "time" : "times"} in the last 24 hours; the limit${where(d)} is ${d.limit ?? "?"}. Try again once the oldest of those calls is a day old.`;
  } else if (reason === "restricted_number") {
    const ours = d.field && OUR_FIELDS[d.field];
    const whose = ours ? `${ours[0].toUpperCase()}${ours.slice(1)}` : "This number";
    title = ours ? "One of our own numbers is restricted" : "This number may not be called or texted";
    if (d.prefix) {
      text = `${whose} starts with ${d.prefix}, a premium-rate, satellite or international-network range that is blocked by the rules.`;
    } else {
      const allowed = (d.allowedCountries || []).join(", ") || "none";
      text = `${whose} is in ${d.country || "an unknown country"}, which is not an allowed country (allowed: ${allowed}).`;
    }
    if (ours) text += " Pick another number, or ask an admin to update that phone number.";
  } else if (reason === "calling_hours") {
    const hours = ch.noun === "text" ? "texting hours" : "calling hours";
    title = `Outside ${hours}`;
    const window = d.window || d.allowedHours;
    text = d.failClosed
      ? `The number's time zone or state cannot be told, so it is held to the strictest ${hours} of every place it could be.`
      : `It is outside the ${hours}${where(d)}${window ? ` (${window}, the lead's local time)` : ""}.`;
    opensAt = d.opensAt || null;
    if (opensAt) {
      const theirs = inZones(opensAt, d.timezones || Object.keys(d.localTime || d.leadLocalTime || {}));
      text += ` It opens ${dateTime(opensAt)} your time${theirs ? ` (${theirs} for the lead)` : ""}.`;
    } else if ("opensAt" in d) {
      text += " Nothing opens in the next 8 days (closed days or holidays in the rules).";
    }
  }
  const local = localTimes(d);
  if (local) facts.push(["Lead's local time now", local]);
  if (reason === "calling_hours" && (d.window || d.allowedHours)) facts.push(["Allowed today", `${d.window || d.allowedHours} (lead's local time)`]);
  if (!["archived", "opted_out", "do_not_call", "suppressed", "attempt_limit", "restricted_number", "calling_hours"].includes(reason) && message) {
    facts.push(["Server says", message]);
  }
  return { reason, title, text, facts, opensAt };
}
