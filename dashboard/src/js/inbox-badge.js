// The nav's unread badge: the inbox's unread count (GET /inbox?unread=true&limit=1 answers
// `unreadCount`), asked every 30 s while signed in and the tab is visible, on every
// navigation, and set at once by the inbox page when it reads or marks a thread.
import * as api from "./api.js";
import { h } from "./dom.js";
import { createStore, poll } from "./store.js";

const POLL_MS = 30_000;
const unread = createStore(null);
let loop = null;

export function unreadCount() {
  return unread;
}

export function setUnread(count) {
  unread.set(Number.isFinite(count) ? count : null);
}

/** Ask the API now (nothing when signed out or when the role has no inbox). */
export async function refreshUnread() {
  if (!api.signedIn()) {
    setUnread(null);
    return;
  }
  try {
    const page = await api.inbox({ unread: true, limit: 1 });
    setUnread(page.unreadCount);
  } catch {
    /* keep the last count: the next poll tries again */
  }
}

function start() {
  if (loop) return;
  loop = poll(refreshUnread, { delay: () => POLL_MS, hiddenDelay: POLL_MS });
  loop.now();
}

/** The badge for the nav link: hidden at zero, "99+" past 99, read out as "N unread". */
export function inboxBadge() {
  const count = h("span", { "aria-hidden": "true" });
  const spoken = h("span", { class: "sr-only" });
  const node = h(
    "span",
    { class: "ml-1 rounded-full bg-rose-600 px-1.5 text-xs font-semibold leading-5 text-white tabular-nums", "data-unread-badge": "", hidden: true },
    count,
    spoken,
  );
  const draw = (n) => {
    node.hidden = !n;
    node.dataset.count = String(n || 0);
    count.textContent = n > 99 ? "99+" : String(n || 0);
    spoken.textContent = n ? ` (${n} unread)` : "";
  };
  draw(unread.get());
  unread.subscribe(draw);
  start();
  return node;
}
