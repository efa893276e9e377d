// The one module that talks to the API (fetch, and XHR for the CSV upload's progress). It
// knows nothing about the DOM: pages call these functions and render what they return.

const TOKEN_KEY = "coldcall.token";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details || null;
  }
}

let unauthorizedHandler = () => {};

/** Called (once per 401) with the server's message; the app returns to the login screen. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage unavailable: nothing to clear */
  }
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

function unauthorized(status, data, quiet) {
  const err = errorFrom(status, data);
  if (!quiet) {
    clearToken();
    unauthorizedHandler(err.message);
  }
  return err;
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
 * request("GET", "/leads", {query, json, body, contentType, signal, token, quiet401, raw})
 * Resolves with the decoded JSON (or the Response itself when `raw`); rejects with ApiError.
 */
export async function request(method, path, options = {}) {
  const { query, json, signal, quiet401 = false, raw = false } = options;
  const token = options.token ?? getToken();
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
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
  if (resp.status === 401) throw unauthorized(401, await readBody(resp).catch(() => null), quiet401);
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

// ---------------------------------------------------------------- session

/** Checks a token without storing it or leaving the page on a 401. */
export function verifyToken(token, signal) {
  return request("GET", "/team-members", { query: { limit: 1 }, token, quiet401: true, signal });
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

export const listLeads = ({ status, assignedToId, limit = 25, cursor }, signal) =>
  request("GET", "/leads", { query: { status, assignedToId, limit, cursor }, signal });
export const getLead = (id, signal) =>
  request("GET", `/leads/${encodeURIComponent(id)}`, { signal });
export const createLead = (body) => request("POST", "/leads", { json: body });
export const updateLead = (id, body) =>
  request("PATCH", `/leads/${encodeURIComponent(id)}`, { json: body });
export const archiveLead = (id) => request("DELETE", `/leads/${encodeURIComponent(id)}`);
export const restoreLead = (id) => request("POST", `/leads/${encodeURIComponent(id)}/restore`);

/**
 * Upload a CSV file with XHR (fetch cannot report upload progress).
 * onProgress({phase: "upload", loaded, total}) then ({phase: "processing"}).
 * Returns {promise, abort}.
 */
export function importLeads(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", url("/leads/import"));
    xhr.setRequestHeader("Content-Type", "text/csv");
    xhr.setRequestHeader("Accept", "application/json");
    const token = getToken();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (e) => {
      onProgress({ phase: "upload", loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
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
      if (xhr.status === 401) reject(unauthorized(401, data, false));
      else if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(errorFrom(xhr.status, data));
    });
    onProgress({ phase: "upload", loaded: 0, total: file.size });
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

/** The CSV export as {blob, filename}. */
export async function exportLeads() {
  const resp = await request("GET", "/leads/export", { raw: true });
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
