// The one module that talks to the API (fetch, and XHR for the CSV upload's progress). It
// knows nothing about the DOM: pages call these functions and render what they return.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details || null;
  }
}

// ---------------------------------------------------------------- the session
//
// The access token lives in this module's memory only; the refresh token in sessionStorage
// (this tab, gone with it; never localStorage). A timer renews the access token a minute
// before it expires; a 401 renews it once and retries the request once; a refused renewal
// ends the session and hands the server's message to the router (back to the sign-in page).

const REFRESH_KEY = "coldcall.refresh";
const LEGACY_TOKEN_KEY = "coldcall.token"; // the old shared token: never kept any more
const RENEW_BEFORE_MS = 60_000;

let unauthorizedHandler = () => {};
let accessToken = "";
let member = null; // the signed-in TeamMember
let renewTimer = null;
let renewing = null; // one renewal at a time, shared by everyone who needs it

/** Called (once per ended session) with the server's message; the app returns to sign-in. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

function storage() {
  try {
    return globalThis.sessionStorage || null;
  } catch {
    return null;
  }
}

function storedRefreshToken() {
  try {
    return storage()?.getItem(REFRESH_KEY) || "";
  } catch {
    return "";
  }
}

function forgetLegacyToken() {
  try {
    localStorage.removeItem(LEGACY_TOKEN_KEY);
  } catch {
    /* storage unavailable: nothing to forget */
  }
}

/** The signed-in member (TeamMember JSON), or null. */
export function currentMember() {
  return member;
}

export function signedIn() {
  return Boolean(accessToken && member);
}

function scheduleRenewal(expiresIn) {
  clearTimeout(renewTimer);
  const seconds = Number(expiresIn) || 0;
  if (seconds <= 0) return;
  const wait = Math.max(5_000, seconds * 1000 - RENEW_BEFORE_MS);
  renewTimer = setTimeout(() => {
    renewAccessToken().catch(() => {
      /* ended: renewAccessToken already told the router */
    });
  }, wait);
}

function startSession(answer) {
  accessToken = String(answer.accessToken || "");
  member = answer.member || null;
  try {
    if (answer.refreshToken) storage()?.setItem(REFRESH_KEY, String(answer.refreshToken));
  } catch {
    /* without storage the session lasts until the tab reloads */
  }
  scheduleRenewal(answer.expiresIn);
}

/** Forget everything about the session, here and in this tab's storage. */
export function endSession() {
  clearTimeout(renewTimer);
  renewTimer = null;
  accessToken = "";
  member = null;
  renewing = null;
  try {
    storage()?.removeItem(REFRESH_KEY);
  } catch {
    /* nothing to clear */
  }
}

function sessionEnded(err) {
  const had = Boolean(accessToken || member);
  endSession();
  if (had) unauthorizedHandler(err.message);
  return err;
}

/** A new access token from the refresh token (one attempt at a time); rejects with the
 * ApiError when the session is over (and then the session is forgotten). */
function renewAccessToken() {
  if (renewing) return renewing;
  const refreshToken = storedRefreshToken();
  if (!refreshToken) return Promise.reject(sessionEnded(new ApiError(401, "unauthorized", "You are signed out.", null)));
  renewing = (async () => {
    try {
      const answer = await request("POST", "/auth/refresh", { json: { refreshToken }, auth: false });
      accessToken = String(answer.accessToken || "");
      scheduleRenewal(answer.expiresIn);
      return accessToken;
    } catch (err) {
      if (err.status === 401) throw sessionEnded(err);
      throw err;
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

/**
 * At page load: a refresh token kept in this tab renews the session (then /me says who is
 * signed in). Without one nothing is requested. Resolves with the member or null.
 */
export async function restoreSession() {
  forgetLegacyToken();
  if (!storedRefreshToken()) return null;
  try {
    const answer = await request("POST", "/auth/refresh", { json: { refreshToken: storedRefreshToken() }, auth: false });
    accessToken = String(answer.accessToken || "");
    const me = await request("GET", "/me", { retry401: false, quiet401: true });
    if (!me || !me.id) throw new ApiError(401, "unauthorized", "This sign-in belongs to no team member.", null);
    startSession({ accessToken, member: me, expiresIn: answer.expiresIn });
    return member;
  } catch (err) {
    if (err.status === 401) {
      endSession();
      return null;
    }
    accessToken = "";
    throw err;
  }
}

/** POST /auth/login: resolves {member} once signed in, or {challenge, session} for the
 * first-sign-in new-password step. */
export async function signIn(email, password) {
  const answer = await request("POST", "/auth/login", { json: { email, password }, auth: false });
  if (answer.challenge) return { challenge: String(answer.challenge), session: String(answer.session || "") };
  startSession(answer);
  return { member };
}

/** POST /auth/new-password: the same answers as signIn. */
export async function setNewPassword(email, session, newPassword) {
  const answer = await request("POST", "/auth/new-password", { json: { email, session, newPassword }, auth: false });
  if (answer.challenge) return { challenge: String(answer.challenge), session: String(answer.session || "") };
  startSession(answer);
  return { member };
}

/** POST /auth/logout (every session of the member ends), then forget this one. */
export async function signOut() {
  try {
    if (accessToken) await request("POST", "/auth/logout", { retry401: false, quiet401: true });
  } catch {
    /* signed out here whatever the server said */
  }
  endSession();
}

export function apiBase() {
  const config = globalThis.COLDCALL_CONFIG || {};
  return String(config.apiBase || "").replace(/\/+$/, "");
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return `${apiBase()}${path}${qs ? `?${qs}` : ""}`;
}

function errorFrom(status, data) {
  const err = data && typeof data === "object" ? data.error : null;
  if (err && typeof err === "object") {
    return new ApiError(status, String(err.code || "error"), String(err.message || ""), err.details);
  }
  const fallback = {
    403: "The API refused this request.",
    404: "Not found.",
    502: "The telephony provider did not accept the request.",
  };
  const message = fallback[status] || `The API answered with an error (HTTP ${status}).`;
  return new ApiError(status, status >= 500 ? "internal" : "error", message, null);
}

function networkError() {
  const where = apiBase() || "this site";
  return new ApiError(
    0,
    "network",
    `Could not reach the API at ${where}. Check that it is running and try again ` +
      "(if it is, this version of the API may not offer this feature yet).",
    null,
  );
}

async function readBody(resp) {
  const type = resp.headers.get("Content-Type") || "";
  if (resp.status === 204) return null;
  if (type.includes("json")) {
    try {
      return await resp.json();
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      return null;
    }
  }
  return resp.text();
}

/**
 * request("GET", "/leads", {query, json, body, contentType, signal, raw, auth, retry401, quiet401})
 * Resolves with the decoded JSON (or the Response itself when `raw`); rejects with ApiError.
 * `auth: false` sends no token and leaves a 401 alone (the /auth/* routes). Otherwise a 401
 * renews the access token once and retries once (`retry401: false` does not); a 401 that
 * stays ends the session and returns to the sign-in page (`quiet401: true` only rejects).
 */
export async function request(method, path, options = {}) {
  const { query, json, signal, raw = false, auth = true, retry401 = true, quiet401 = false } = options;
  const headers = { Accept: options.accept || "application/json" };
  if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  let body = options.body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (options.contentType) {
    headers["Content-Type"] = options.contentType;
  }
  let resp;
  try {
    resp = await fetch(url(path, query), { method, headers, body, signal, cache: "no-store" });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw networkError();
  }
  if (resp.status === 401 && auth) {
    const err = errorFrom(401, await readBody(resp).catch(() => null));
    if (retry401 && storedRefreshToken()) {
      await renewAccessToken(); // rejects (and ends the session) when the renewal is refused
      return request(method, path, { ...options, retry401: false });
    }
    throw quiet401 ? err : sessionEnded(err);
  }
  if (!resp.ok) throw errorFrom(resp.status, await readBody(resp));
  if (raw) return resp;
  return readBody(resp);
}

/** Every page of a list (up to `max` items), following nextCursor. */
async function all(path, query, signal, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const page = await request("GET", path, { query: { ...query, limit: 100, cursor }, signal });
    items.push(...(page.items || []));
    cursor = page.nextCursor || null;
  } while (cursor && items.length < max);
  return { items, truncated: Boolean(cursor) };
}

// ---------------------------------------------------------------- team

export async function allMembers(signal) {
  return (await all("/team-members", {}, signal)).items;
}

export const getMemberFresh = (id) => request("GET", `/team-members/${encodeURIComponent(id)}`);
export const createMember = (body) => request("POST", "/team-members", { json: body });
export const updateMember = (id, body) =>
  request("PATCH", `/team-members/${encodeURIComponent(id)}`, { json: body });
export const deactivateMember = (id) =>
  request("DELETE", `/team-members/${encodeURIComponent(id)}`);

// ---------------------------------------------------------------- leads

/** GET /leads: q, status, assignedToId, source, neverCalled, optedOut, campaignId, sort,
 * order, limit, cursor (undefined ones left out). */
export const listLeads = ({ limit = 25, ...params }, signal) => request("GET", "/leads", { query: { ...params, limit }, signal });
export const getLead = (id, signal) =>
  request("GET", `/leads/${encodeURIComponent(id)}`, { signal });
export const createLead = (body) => request("POST", "/leads", { json: body });
export const updateLead = (id, body) =>
  request("PATCH", `/leads/${encodeURIComponent(id)}`, { json: body });
export const archiveLead = (id) => request("DELETE", `/leads/${encodeURIComponent(id)}`);
export const restoreLead = (id) => request("POST", `/leads/${encodeURIComponent(id)}/restore`);

/** The file and its column mapping as the import's multipart body (bytes sent untouched). */
function importForm(file, mapping) {
  const form = new FormData();
  if (mapping) form.append("mapping", JSON.stringify(mapping));
  form.append("file", file, file.name || "leads.csv");
  return form;
}

/**
 * What importing the file would read: {headers, suggested, rows, rowCount, delimiter,
 * encoding, fields, missingColumns, errors, unknownOwners?}. Nothing is written.
 */
export const previewImport = (file, mapping, signal) =>
  request("POST", "/leads/import/preview", { body: importForm(file, mapping), signal });

/**
 * Upload a CSV file (and its column mapping, {header: field|null}) with XHR (fetch cannot
 * report upload progress). `fromRow`: go on from that row (the last answer's `nextRow`: a big
 * file takes several requests, each answering what it did and the row to go on from).
 * onProgress({phase: "upload", loaded, total}) then ({phase: "processing"}).
 * Returns {promise, abort}.
 */
export function importLeads(file, onProgress, mapping = null, fromRow = null) {
  // multipart/form-data (the file and its mapping): the browser sets the boundary
  return upload("/leads/import", importForm(file, mapping), null, { fromRow }, onProgress, file.size);
}

/** POST a body with XHR: upload progress, then the JSON answer (see importLeads). A null
 * contentType lets the browser set it (a FormData body). */
function upload(path, body, contentType, query, onProgress, size) {
  let xhr = null;
  let aborted = false;
  const send = () =>
    new Promise((resolve, reject) => {
      xhr = new XMLHttpRequest();
      xhr.open("POST", url(path, query));
      if (contentType) xhr.setRequestHeader("Content-Type", contentType);
      xhr.setRequestHeader("Accept", "application/json");
      if (accessToken) xhr.setRequestHeader("Authorization", `Bearer ${accessToken}`);
      xhr.responseType = "text";
      xhr.upload.addEventListener("progress", (e) => {
        onProgress({ phase: "upload", loaded: e.loaded, total: e.lengthComputable ? e.total : size });
      });
      xhr.upload.addEventListener("load", () => onProgress({ phase: "processing" }));
      xhr.addEventListener("error", () => reject(networkError()));
      xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      xhr.addEventListener("load", () => {
        let data = null;
        try {
          data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          data = null;
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(errorFrom(xhr.status, data));
      });
      onProgress({ phase: "upload", loaded: 0, total: size });
      xhr.send(body);
    });
  // As request() does: a 401 renews the access token once and sends the file once more.
  const promise = send().catch(async (err) => {
    if (err.status !== 401 || aborted) throw err;
    if (!storedRefreshToken()) throw sessionEnded(err);
    await renewAccessToken();
    if (aborted) throw new DOMException("aborted", "AbortError");
    return send().catch((again) => {
      throw again.status === 401 ? sessionEnded(again) : again;
    });
  });
  return {
    promise,
    abort: () => {
      aborted = true;
      if (xhr) xhr.abort();
    },
  };
}

/** A call's audio (its voicemail or recording) as a Blob: fetched with the bearer token (an
 * <audio src> cannot send one), played from an object URL. */
export async function callAudio(id) {
  const resp = await request("GET", `/calls/${encodeURIComponent(id)}/recording`, { raw: true, accept: "audio/wav" });
  return resp.blob();
}

/** The CSV export as {blob, filename}, with the list's filters ({status, assignedToId, q}). */
export async function exportLeads(filters = {}) {
  const resp = await request("GET", "/leads/export", { raw: true, query: filters });
  const disposition = resp.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/i.exec(disposition);
  const filename = match ? match[1] : `leads-${new Date().toISOString().slice(0, 10)}.csv`;
  return { blob: await resp.blob(), filename };
}

// ---------------------------------------------------------------- calls

export const createCall = (body) => request("POST", "/calls", { json: body });
export const getCall = (id, signal) =>
  request("GET", `/calls/${encodeURIComponent(id)}`, { signal });
export const updateCall = (id, body) =>
  request("PATCH", `/calls/${encodeURIComponent(id)}`, { json: body });
export const callsForLead = async (leadId, signal) => all("/calls", { leadId }, signal, 500);
export const recentCallsForMember = (teamMemberId, limit, signal) =>
  request("GET", "/calls", { query: { teamMemberId, limit }, signal });

// ---------------------------------------------------------------- messages

export const sendMessage = (body) => request("POST", "/messages", { json: body });
export const messagesForLead = async (leadId, signal) =>
  all("/messages", { leadId }, signal, 2000);

// ---------------------------------------------------------------- stats and numbers

export const stats = ({ from, to }, signal) =>
  request("GET", "/dashboard/stats", { query: { from, to }, signal });

/** The account's numbers as [{phoneNumber, friendlyName, voice, sms}]. */
export async function phoneNumbers(signal) {
  const data = await request("GET", "/twilio/phone-numbers", { signal });
  const list = Array.isArray(data) ? data : data.items || data.phoneNumbers || data.numbers || [];
  return list
    .map((n) => {
      if (typeof n === "string") return { phoneNumber: n, friendlyName: "", voice: true, sms: true };
      const phone = n.phoneNumber || n.phone_number || n.number || n.phone || "";
      const caps = n.capabilities || {};
      return {
        phoneNumber: String(phone),
        friendlyName: String(n.friendlyName || n.friendly_name || ""),
        voice: caps.voice !== false,
        sms: caps.sms !== false,
      };
    })
    .filter((n) => n.phoneNumber);
}

// ---------------------------------------------------------------- admin

export const resetPassword = (id) =>
  request("POST", `/team-members/${encodeURIComponent(id)}/reset-password`);
export const resendInvite = (id) => request("POST", `/team-members/${encodeURIComponent(id)}/invite`);

export async function apiKeys(signal) {
  return (await all("/api-keys", {}, signal, 500)).items;
}
export const createApiKey = (body) => request("POST", "/api-keys", { json: body });
export const revokeApiKey = (id) => request("DELETE", `/api-keys/${encodeURIComponent(id)}`);

export const auditLog = ({ action, limit = 25, cursor }, signal) =>
  request("GET", "/audit", { query: { action, limit, cursor }, signal });

// ---------------------------------------------------------------- campaigns

export const listCampaigns = ({ limit = 25, cursor } = {}, signal) =>
  request("GET", "/campaigns", { query: { limit, cursor }, signal });
export async function allCampaigns(signal) {
  return (await all("/campaigns", {}, signal, 500)).items;
}
export const getCampaign = (id, signal) =>
  request("GET", `/campaigns/${encodeURIComponent(id)}`, { signal });
export const createCampaign = (body) => request("POST", "/campaigns", { json: body });
export const updateCampaign = (id, body) =>
  request("PATCH", `/campaigns/${encodeURIComponent(id)}`, { json: body });
export const archiveCampaign = (id) => request("DELETE", `/campaigns/${encodeURIComponent(id)}`);
/** `{"leadIds": [...]}` or `{"filter": {status, assignedToId, cursor}}` -> {added, skipped,
 * skippedLeads, (filter:) examined, limit, nextCursor}. */
export const addCampaignLeads = (id, body) =>
  request("POST", `/campaigns/${encodeURIComponent(id)}/leads`, { json: body });
export const campaignLeads = (id, { state, limit = 25, cursor }, signal) =>
  request("GET", `/campaigns/${encodeURIComponent(id)}/leads`, { query: { state, limit, cursor }, signal });
export const removeCampaignLead = (id, leadId) =>
  request("DELETE", `/campaigns/${encodeURIComponent(id)}/leads/${encodeURIComponent(leadId)}`);
export const campaignStats = (id, signal) =>
  request("GET", `/campaigns/${encodeURIComponent(id)}/stats`, { signal });

// ---------------------------------------------------------------- the dialer

export const startDialerSession = (campaignId) => request("POST", "/dialer/sessions", { json: { campaignId } });
export const getSession = (id, signal) =>
  request("GET", `/dialer/sessions/${encodeURIComponent(id)}`, { signal });
export const sessionsOf = ({ teamMemberId, campaignId, limit = 10 }, signal) =>
  request("GET", "/dialer/sessions", { query: { teamMemberId, campaignId, limit }, signal });
/** action: "next" | "pause" | "resume" | "end" | "drop-voicemail"; body only for next. */
export const sessionAction = (id, action, body) =>
  request("POST", `/dialer/sessions/${encodeURIComponent(id)}/${action}`, body === undefined ? {} : { json: body });

// ---------------------------------------------------------------- callbacks

export const callbacks = ({ teamMemberId, due, limit = 25, cursor } = {}, signal) =>
  request("GET", "/callbacks", { query: { teamMemberId, due: due ? "true" : undefined, limit, cursor }, signal });
export const createCallback = (leadId, body) =>
  request("POST", `/leads/${encodeURIComponent(leadId)}/callbacks`, { json: body });
export const deleteCallback = (id) => request("DELETE", `/callbacks/${encodeURIComponent(id)}`);
// ---------------------------------------------------------------- compliance

export const complianceRules = (signal) => request("GET", "/compliance/rules", { signal });
export const saveComplianceRules = (doc) => request("PUT", "/compliance/rules", { json: doc });
/** The shipped defaults, whatever rules are saved (the Compliance page's "Restore shipped
 * defaults"). */
export const complianceDefaults = (signal) => request("GET", "/compliance/rules/defaults", { signal });

/** GET /suppressions: newest first, or the one number `phone` (a whole number: the API reads
 * that number's item, it does not search by prefix). */
export const listSuppressions = ({ phone, limit = 25, cursor }, signal) =>
  request("GET", "/suppressions", { query: { phone, limit, cursor }, signal });
export const addSuppression = (body) => request("POST", "/suppressions", { json: body });
/** Lift a number's suppression on one channel ("voice" | "sms"), or both without one. */
export const removeSuppression = (phone, channel) =>
  request("DELETE", `/suppressions/${encodeURIComponent(phone)}`, { query: { channel } });

/** POST /suppressions/import: a .txt or .csv file, one number per line (or the national
 * registry's area code and number columns); {promise, abort} as importLeads, `fromRow` too. */
export function importSuppressions(file, channels, onProgress, fromRow = null) {
  const type = /\.csv$/i.test(file.name || "") ? "text/csv" : "text/plain";
  return upload("/suppressions/import", file, type, { channels, fromRow }, onProgress, file.size);
}

/** GET /leads/{id}/compliance: whether the lead's number may be called and texted now. */
export const leadCompliance = (id, signal) =>
  request("GET", `/leads/${encodeURIComponent(id)}/compliance`, { signal });

// ---------------------------------------------------------------- working the lists

/** POST /leads/bulk {leadIds, action, value?} -> {updated, skipped, errors: [{leadId, message}]}. */
export const bulkLeads = (body) => request("POST", "/leads/bulk", { json: body });

/** GET /inbox -> {items: [{leadId, leadName, kind, at, preview, unread, itemId}], nextCursor, unreadCount}. */
export const inbox = ({ unread = false, limit = 25, cursor } = {}, signal) =>
  request("GET", "/inbox", { query: { unread: unread ? "true" : undefined, limit, cursor }, signal });

/** Mark a lead's thread read (only if it still holds `itemId`, when given). */
export const markThreadRead = (leadId, itemId) =>
  request("POST", `/inbox/${encodeURIComponent(leadId)}/read`, { json: itemId ? { itemId } : {} });

/** GET /calls?from=&to=&teamMemberId=&outcome=&disposition= (the call log). */
export const callLog = ({ from, to, teamMemberId, outcome, disposition, limit = 25, cursor }, signal) =>
  request("GET", "/calls", { query: { from, to, teamMemberId, outcome, disposition, limit, cursor }, signal });
