// Pure formatting helpers: no DOM, no network.

export const LEAD_STATUSES = ["new", "contacted", "qualified", "not_interested", "converted"];

const LABELS = {
  new: "New",
  contacted: "Contacted",
  qualified: "Qualified",
  not_interested: "Not interested",
  converted: "Converted",
  queued: "Queued",
  initiated: "Dialing",
  ringing: "Ringing",
  "in-progress": "In progress",
  completed: "Completed",
  busy: "Busy",
  "no-answer": "No answer",
  failed: "Failed",
  canceled: "Canceled",
  sending: "Sending",
  sent: "Sent",
  delivered: "Delivered",
  undelivered: "Undelivered",
  received: "Received",
  answered: "Answered",
  "not-connected": "Not connected",
  manual: "Manual",
  csv_import: "CSV import",
  inbound_sms: "Inbound SMS",
  inbound_call: "Inbound call",
};

export function label(value) {
  if (value === null || value === undefined || value === "") return "—";
  const key = String(value);
  return LABELS[key] || key.replace(/[_-]+/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

export const CALL_FINAL = new Set(["completed", "busy", "no-answer", "failed", "canceled"]);
export const MESSAGE_FINAL = new Set(["delivered", "undelivered", "failed", "received"]);

export function isFinalCall(call) {
  return CALL_FINAL.has(call?.status);
}

const LEG_FINAL = new Set([...CALL_FINAL, "not-connected"]);

/** The member leg ended but the lead leg's last callback may still be on its way. */
export function leadLegPending(call) {
  return isFinalCall(call) && call.status === "completed" && !LEG_FINAL.has(call.leadLegStatus);
}

/**
 * What happened, for people: a call's `status` is the team member's leg and `leadLegStatus`
 * the lead's (API.md), so "completed" alone does not say whether anyone talked to the lead.
 * Returns null while the member leg is in progress; else {key, short, text}.
 */
export function callOutcome(call) {
  if (!isFinalCall(call)) return null;
  if (call.direction === "inbound") {
    if (call.status === "completed") {
      return { key: "completed", short: "Answered", text: `Answered · talked for ${duration(call.talkSeconds)}` };
    }
    if (call.voicemail) {
      return { key: "voicemail", short: "Voicemail", text: `Nobody took it · left a ${duration(call.voicemail.durationSeconds)} voicemail` };
    }
    return { key: "missed", short: "Missed", text: "Nobody took the call" };
  }
  const leg = call.leadLegStatus;
  if (leg === "completed" || Number(call.talkSeconds) > 0) {
    return { key: "completed", short: "Talked", text: `Talked for ${duration(call.talkSeconds)}` };
  }
  const lead = {
    busy: ["Lead busy", "The lead's line was busy"],
    "no-answer": ["No answer", "The lead didn't answer"],
    failed: ["Failed", "The call to the lead failed"],
    canceled: ["Canceled", "Canceled before the lead answered"],
    "not-connected": ["Not connected", "Not connected: 1 was not pressed, so the lead was not dialled"],
  }[leg];
  if (lead) return { key: leg, short: lead[0], text: lead[1] };
  const member = {
    completed: ["Not connected", "Ended before the lead was dialled"],
    busy: ["Caller busy", "The team member's line was busy"],
    "no-answer": ["Caller missed", "The team member didn't answer"],
    failed: ["Failed", "The call failed"],
    canceled: ["Canceled", "The call was canceled"],
  }[call.status];
  return { key: call.status === "completed" ? "not-connected" : call.status, short: member[0], text: member[1] };
}

export function isFinalMessage(message) {
  return MESSAGE_FINAL.has(message?.status);
}

const numberFmt = new Intl.NumberFormat();

export function number(n) {
  return numberFmt.format(Number(n) || 0);
}

/** 0.4567 -> "45.7%"; the API gives rates as fractions. */
export function percent(fraction) {
  const v = Number(fraction) || 0;
  return `${(v * 100).toFixed(v * 100 >= 10 || v === 0 ? 0 : 1)}%`;
}

/** Seconds as "1h 02m", "3m 05s", "42s". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const hrs = Math.floor(s / 3600);
  const mins = Math.floor((s % 3600) / 60);
  const secs = s % 60;
  if (hrs) return `${hrs}h ${String(mins).padStart(2, "0")}m`;
  if (mins) return `${mins}m ${String(secs).padStart(2, "0")}s`;
  return `${secs}s`;
}

/** Seconds as a clock "0:42", "12:05". */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function toDate(value) {
  if (!value) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

export function dateTime(value) {
  const d = toDate(value);
  return d ? dateTimeFmt.format(d) : "—";
}

export function time(value) {
  const d = toDate(value);
  return d ? timeFmt.format(d) : "—";
}

const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "5 minutes ago", "yesterday"; "—" for no date. */
export function relative(value, now = Date.now()) {
  const d = toDate(value);
  if (!d) return "—";
  const diff = (d.getTime() - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return "just now";
  if (abs < 3600) return relFmt.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return relFmt.format(Math.round(diff / 3600), "hour");
  if (abs < 86400 * 30) return relFmt.format(Math.round(diff / 86400), "day");
  return dateTimeFmt.format(d);
}

/** The current time in an IANA zone, e.g. "3:42 PM", or "" if the zone is unknown. */
export function localTimeIn(timezone, now = new Date()) {
  if (!timezone) return "";
  try {
    return new Intl.DateTimeFormat(undefined, {
      hour: "numeric",
      minute: "2-digit",
      timeZone: timezone,
      weekday: "short",
    }).format(now);
  } catch {
    return "";
  }
}

/** A Date as YYYY-MM-DD in the browser's time zone. */
export function isoDay(d) {
  const y = d.getFullYear();
  const m = String(d.getMonth() + 1).padStart(2, "0");
  const day = String(d.getDate()).padStart(2, "0");
  return `${y}-${m}-${day}`;
}

export function addDays(d, n) {
  const copy = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  copy.setDate(copy.getDate() + n);
  return copy;
}

/** "2026-11-23" -> "Nov 23" (no time zone shift: the date is a calendar day). */
export function shortDay(iso) {
  const [y, m, d] = String(iso).split("-").map(Number);
  if (!y || !m || !d) return String(iso);
  return new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" }).format(
    new Date(y, m - 1, d),
  );
}

/** SMS length: GSM-7 messages split at 153 characters per part past 160; UCS-2 at 67 past 70. */
export function smsSegments(text) {
  const s = String(text || "");
  if (!s) return { length: 0, segments: 0, unicode: false };
  // The GSM 03.38 basic set (and its extension table, counted once here for simplicity).
  const gsm = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;
  const unicode = !gsm.test(s);
  const length = [...s].length;
  const single = unicode ? 70 : 160;
  const multi = unicode ? 67 : 153;
  return { length, segments: length <= single ? 1 : Math.ceil(length / multi), unicode };
}

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] || "?") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

// ---------------------------------------------------------------- phone numbers
//
// Numbers are E.164 in the API. People read them in the national format of the team's
// country (the calling code of the account's first Twilio number, or COLDCALL_CONFIG's
// `phoneCountry`), and in E.164 for every other country; copying one gives the E.164
// (ui.js `phoneText`). National formats are known for a few calling codes; a number of the
// team's country in a shape not known here stays E.164.

let teamCallingCode = "";

/** The team's calling code ("1", "44", …); "" shows every number in E.164. */
export function setTeamCallingCode(code) {
  teamCallingCode = String(code || "").replace(/\D/g, "");
}

export function getTeamCallingCode() {
  return teamCallingCode;
}

/** The calling code of an E.164 number among the ones formatted here, else "". */
export function callingCodeOf(e164) {
  const digits = String(e164 || "").replace(/^\+/, "");
  return ["1", "44", "33", "49", "61"].find((c) => digits.startsWith(c)) || "";
}

const NATIONAL = {
  // NANP: (212) 555-0142
  1: (n) => (n.length === 10 ? `(${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6)}` : null),
  // United Kingdom: 020 7946 0958, 07700 900123, 0161 496 0000
  44: (n) => {
    if (n.length !== 10) return null;
    if (n.startsWith("2")) return `0${n.slice(0, 2)} ${n.slice(2, 6)} ${n.slice(6)}`;
    if (n.startsWith("7")) return `0${n.slice(0, 4)} ${n.slice(4)}`;
    return `0${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
  },
  // France: 01 23 45 67 89
  33: (n) => (n.length === 9 ? `0${n[0]} ${n.slice(1).match(/../g).join(" ")}` : null),
  // Germany: 030 12345678 (area codes vary in length: the trunk 0, then the digits)
  49: (n) => (n.length >= 6 && n.length <= 12 ? `0${n}` : null),
  // Australia: 02 9876 5432, 0412 345 678
  61: (n) => {
    if (n.length !== 9) return null;
    if (n.startsWith("4")) return `0${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
    return `0${n[0]} ${n.slice(1, 5)} ${n.slice(5)}`;
  },
};

/** "+12125550142" -> "(212) 555-0142" for a US team; E.164 for other countries; "—" for none. */
export function phone(e164) {
  if (!e164) return "—";
  const raw = String(e164);
  if (!/^\+\d{6,15}$/.test(raw)) return raw;
  const code = teamCallingCode;
  if (!code || callingCodeOf(raw) !== code || !NATIONAL[code]) return raw;
  return NATIONAL[code](raw.slice(1 + code.length)) || raw;
}

// ---------------------------------------------------------------- calls and the inbox

/** The call log's outcome words (API: `outcome` on every call). */
export const CALL_OUTCOMES = ["connected", "voicemail", "no_answer", "busy", "failed", "not_connected", "in_progress"];

/** A call's dispositions (API.md: PATCH /calls/{id}). */
export const DISPOSITIONS = [
  "connected",
  "left_voicemail",
  "no_answer",
  "wrong_number",
  "callback_requested",
  "not_interested",
  "meeting_booked",
  "do_not_call",
];

const INBOX_KINDS = { text: "Text", missed_call: "Missed call", voicemail: "Voicemail" };

export function inboxKind(kind) {
  return INBOX_KINDS[kind] || label(kind);
}
