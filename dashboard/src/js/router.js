// Hash routing: #/path?query to a page, once the session is known (api.restoreSession: a
// refresh token kept in this tab signs back in; without one nothing is requested and the
// sign-in page shows). Routes and nav items may name a permission (roles.js). A page is `async render(ctx)` with ctx = {main,
// params, query, signal, navigate, setTitle}; it draws into `main` and resolves once its
// first content is there. Everything it starts (resources, polls, charts) stops when `signal`
// aborts: on the next navigation. The shell (header, nav, toasts) is drawn once.
import * as api from "./api.js";
import { h, icon, replace, root, setTitle } from "./dom.js";
import { renderLogin } from "./pages/login.js";
import { can } from "./roles.js";
import { label } from "./format.js";
import { resetCaches } from "./store.js";

let routes = [];
let navItems = [];
let current = null; // {controller, cleanup}
let shell = null; // {main, links}
let loginNotice = "";
let firstRender = true;
let beforePage = null; // awaited before every page (e.g. what formats phone numbers)

export function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const at = raw.indexOf("?");
  let path = at >= 0 ? raw.slice(0, at) : raw;
  try {
    path = decodeURIComponent(path);
  } catch {
    /* keep the raw path */
  }
  return { path: path || "/", query: new URLSearchParams(at >= 0 ? raw.slice(at + 1) : "") };
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** An old `#token=…` URL: the shared token no longer signs anyone in; drop it from the URL
 * (and from history) without keeping or sending it. */
function dropTokenFragment() {
  if (/^#token=/.test(location.hash)) history.replaceState(null, "", `${location.pathname}${location.search}#/`);
}

function navList(links) {
  return h(
    "ul",
    { class: "flex flex-wrap items-center gap-1" },
    navItems.filter((item) => !item.allow || can(item.allow)).map((item) => {
      const a = h(
        "a",
        {
          href: item.href,
          class:
            "flex items-center gap-1.5 rounded-md px-2.5 py-2 text-sm font-medium text-slate-300 hover:bg-slate-800 hover:text-white aria-[current=page]:bg-slate-800 aria-[current=page]:text-white",
        },
        icon(item.icon, "size-4 hidden sm:block"),
        item.text,
        item.badge ? item.badge() : null,
      );
      links.set(item.key, a);
      return h("li", {}, a);
    }),
  );
}

function buildShell() {
  const main = h("main", { id: "main", tabindex: "-1", class: "mx-auto w-full max-w-7xl px-4 py-6 sm:px-6 lg:px-8 focus:outline-none" });
  const links = new Map();
  const skip = h(
    "a",
    {
      href: "#main",
      class: "sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:text-slate-900",
      onclick: (e) => {
        e.preventDefault();
        main.focus();
      },
    },
    "Skip to content",
  );
  const header = h(
    "header",
    { class: "bg-slate-900" },
    h(
      "div",
      { class: "mx-auto flex max-w-7xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-2 sm:px-6 lg:px-8" },
      h(
        "a",
        { href: "#/", class: "flex items-center gap-2 py-1 text-white" },
        h("span", { class: "grid size-8 place-items-center rounded-lg bg-indigo-500" }, icon("phone", "size-5")),
        h("span", { class: "text-base font-semibold tracking-tight" }, "Coldcall"),
      ),
      h("nav", { "aria-label": "Main", class: "order-3 w-full sm:order-none sm:w-auto" }, navList(links)),
      whoAmI(),
    ),
  );
  replace(root(), skip, header, main, toastRegions());
  return { main, links };
}

/** "Signed in as <name> (<role>)" and Sign out. */
function whoAmI() {
  const me = api.currentMember() || {};
  const button = h(
    "button",
    { type: "button", class: "btn btn-ghost btn-sm text-slate-300 hover:bg-slate-800 hover:text-white", onclick: () => signOut(button) },
    icon("logout"),
    "Sign out",
  );
  return h(
    "div",
    { class: "flex items-center gap-2" },
    h(
      "p",
      { class: "text-xs text-slate-300 sm:text-sm", "data-signed-in-as": "" },
      "Signed in as ",
      h("span", { class: "font-medium text-white" }, me.name || "—"),
      ` (${label(me.role || "")})`,
    ),
    button,
  );
}

export function toastRegions() {
  return h(
    "div",
    { class: "pointer-events-none fixed inset-x-0 bottom-0 z-50 flex flex-col items-center gap-2 p-4 sm:items-end" },
    h("div", { id: "toasts", role: "status", "aria-live": "polite", class: "flex flex-col gap-2" }),
    h("div", { id: "toasts-alert", role: "alert", "aria-live": "assertive", class: "flex flex-col gap-2" }),
  );
}

async function signOut(button) {
  if (button) button.disabled = true;
  await api.signOut();
  resetCaches();
  loginNotice = "You are signed out.";
  navigate("#/login");
}

function stopCurrent() {
  if (!current) return;
  current.controller.abort();
  if (typeof current.cleanup === "function") current.cleanup();
  current = null;
}

function showLogin(path, query) {
  shell = null;
  const next = path === "/login" ? query.get("next") || "#/" : `#${path}${query.toString() ? `?${query}` : ""}`;
  setTitle("Sign in");
  const controller = new AbortController();
  current = { controller, cleanup: null };
  renderLogin({
    container: root(),
    notice: loginNotice,
    signal: controller.signal,
    onSignedIn: () => {
      loginNotice = "";
      resetCaches();
      navigate(next.startsWith("#/") && !next.startsWith("#/login") ? next : "#/");
    },
  });
}

function showNotFound() {
  setTitle("Not found");
  replace(
    shell.main,
    h("h1", { class: "text-2xl font-bold", tabindex: "-1", "data-page-title": "" }, "Page not found"),
    h("p", { class: "mt-2 text-slate-600" }, h("a", { href: "#/", class: "link" }, "Go to the dashboard")),
  );
  focusTitle();
}

function showNotAllowed() {
  setTitle("Not allowed");
  replace(
    shell.main,
    h("h1", { class: "text-2xl font-bold", tabindex: "-1", "data-page-title": "" }, "Not allowed"),
    h("p", { class: "mt-2 text-slate-600" }, "Your role does not open this page. ", h("a", { href: "#/", class: "link" }, "Go to the dashboard")),
  );
  focusTitle();
}

async function route() {
  dropTokenFragment();
  const { path, query } = parseHash();
  stopCurrent();
  // Modal dialogs belong to the page that opened them.
  for (const dlg of document.querySelectorAll("dialog")) dlg.remove();
  if (!api.signedIn()) {
    showLogin(path, query);
    return;
  }
  if (path === "/login") {
    const next = query.get("next") || "#/";
    navigate(next.startsWith("#/") && !next.startsWith("#/login") ? next : "#/");
    return;
  }

  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  if (!shell || !shell.main.isConnected) shell = buildShell();
  for (const [key, link] of shell.links) {
    if (match && key === match.r.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const controller = new AbortController();
  const mine = { controller, cleanup: null };
  current = mine;
  if (!match) {
    showNotFound();
    return;
  }
  if (match.r.allow && !can(match.r.allow)) {
    showNotAllowed();
    return;
  }
  setTitle(match.r.title);
  window.scrollTo(0, 0);
  if (beforePage) await beforePage();
  if (controller.signal.aborted) return;
  const focusAtStart = document.activeElement;
  let cleanup = null;
  try {
    cleanup = await match.r.page({ main: shell.main, params: match.m.slice(1), query, signal: controller.signal, navigate, setTitle });
  } catch (err) {
    if (err?.name !== "AbortError") throw err;
  }
  if (controller.signal.aborted) {
    if (typeof cleanup === "function") cleanup();
    return;
  }
  mine.cleanup = cleanup;
  // Move focus to the new page's heading, unless the user already moved it while it loaded.
  if (document.activeElement === focusAtStart || document.activeElement === document.body) focusTitle();
  else firstRender = false;
}

function focusTitle() {
  if (firstRender) {
    firstRender = false;
    return;
  }
  const title = document.querySelector("[data-page-title]");
  if (title) title.focus({ preventScroll: true });
}

function onUnauthorized(message) {
  resetCaches();
  loginNotice = `Your session has ended (${message || "unauthorized"}). Sign in again.`;
  const { path, query } = parseHash();
  if (path === "/login") return;
  const next = `#${path}${query.toString() ? `?${query}` : ""}`;
  navigate(`#/login?next=${encodeURIComponent(next)}`);
}

/** Start routing: routes [{pattern, page, nav, title, allow?}], nav [{key, href, text, icon,
 * allow?, badge?}] (badge(): a node appended to the link); `before`: awaited before every
 * page; first the session this tab may still hold. */
export async function startRouter({ routes: table, nav, before = null }) {
  routes = table;
  navItems = nav;
  beforePage = before;
  api.onUnauthorized(onUnauthorized);
  try {
    await api.restoreSession();
  } catch (err) {
    loginNotice = `Could not restore your session: ${err.message}`;
  }
  window.addEventListener("hashchange", route);
  route();
}
