// Shared state, and the one way pages fetch and poll:
//   createStore(value)       a value and the functions to call when it changes;
//   poll(run, {...})         run, wait, run again, for as long as the page's signal lives;
//   resource(load, {...})    a value loaded from the API (through api.js), refreshed on demand
//                            or by a poll, kept in a store that panels (panel.js) draw from.
// Plus small caches shared by pages (the team, leads looked up by id) and preferences (the last
// member and caller ID used) kept in localStorage.
import * as api from "./api.js";
import { isVisible } from "./dom.js";
import { forgetTeamCountry } from "./team-country.js";

// ---------------------------------------------------------------- store

/** createStore(value) -> {get(), set(value), update(fn), subscribe(fn) -> unsubscribe}. */
export function createStore(value) {
  const subscribers = new Set();
  const store = {
    get: () => value,
    set(next) {
      value = next;
      for (const fn of [...subscribers]) fn(value);
    },
    update: (fn) => store.set(fn(value)),
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
  };
  return store;
}

// ---------------------------------------------------------------- poll

/**
 * poll(run, {signal, delay, hiddenDelay, background}) -> {now(), after(ms)}
 * `now()` runs `run()`, then waits `delay(result, error)` ms (null: no next run) and runs it
 * again; `after(ms)` moves the next run. Nothing runs once `signal` is aborted. While the tab
 * is hidden a due run waits `hiddenDelay` ms more instead, unless `background`.
 */
export function poll(run, { signal, delay, hiddenDelay, background = false }) {
  let timer = null;
  const dead = () => Boolean(signal?.aborted);

  function after(ms) {
    clearTimeout(timer);
    if (dead() || ms === null || ms === undefined) return;
    timer = setTimeout(() => {
      if (background || isVisible()) now();
      else after(hiddenDelay ?? ms);
    }, ms);
  }

  async function now() {
    clearTimeout(timer);
    if (dead()) return undefined;
    let result;
    let error = null;
    try {
      result = await run();
    } catch (err) {
      error = err;
    }
    if (!dead()) after(delay(result, error));
    return result;
  }

  signal?.addEventListener("abort", () => clearTimeout(timer), { once: true });
  return { now, after };
}

// ---------------------------------------------------------------- resource

/**
 * resource(load, {signal, every, hiddenEvery}) -> a store of {status, data, error} with
 *   start()    the first load (a page awaits it before its heading takes focus);
 *   refresh()  load again, keeping what was loaded while it loads;
 *   reload()   forget what was loaded, then load (panels show their loading state again);
 *   after(ms)  move the next poll.
 * load(signal) resolves with the data; status is "loading", "ready" or "error". With `every`
 * (ms, or a function of the data and the error giving ms or null) it polls, `hiddenEvery` ms
 * apart while the tab is hidden. Nothing loads before start(); nothing after `signal` aborts.
 * All of them resolve (never reject) once the load is done.
 */
export function resource(load, { signal, every = null, hiddenEvery } = {}) {
  const store = createStore({ status: "loading", data: undefined, error: null });
  let latest = 0; // a load started after another one wins, whichever answers first

  async function run() {
    const mine = ++latest;
    const current = () => mine === latest && !signal?.aborted;
    store.set({ ...store.get(), status: "loading" });
    try {
      const data = await load(signal);
      if (current()) store.set({ status: "ready", data, error: null });
      return data;
    } catch (err) {
      if (err?.name !== "AbortError" && current()) store.set({ ...store.get(), status: "error", error: err });
      throw err;
    }
  }

  const delay = (data, error) => {
    if (every === null) return null;
    return typeof every === "function" ? every(error ? undefined : data, error) : every;
  };
  const loop = poll(run, { signal, delay, hiddenDelay: hiddenEvery });
  const refresh = () => loop.now();
  return {
    ...store,
    refresh,
    start: refresh,
    reload() {
      store.set({ status: "loading", data: undefined, error: null });
      return loop.now();
    },
    after: loop.after,
  };
}

// ---------------------------------------------------------------- caches

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

/** A member as others see them: a deactivated one says so (their leads wait for a manager
 * to reassign them). */
export function memberLabel(m) {
  return m.active ? m.name : `${m.name} (deactivated)`;
}

/** id -> the member's label, for lists that name assignees and callers. */
export function namesOf(list) {
  return new Map((list || []).map((m) => [m.id, memberLabel(m)]));
}

export async function memberNames() {
  return namesOf(await members());
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
  forgetTeamCountry();
  membersPromise = null;
  leadCache.clear();
}
