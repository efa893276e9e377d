// The inbox: each lead's latest inbound text, missed call or voicemail, newest first (GET
// /inbox), all or unread only (kept in the URL), paged by cursor. Opening a thread marks it
// read (only the item shown: a text that arrived since stays unread) and goes to the lead's
// page, where the conversation is. Refreshed every 30 s while visible, like the badge.
import * as api from "../api.js";
import { h, icon, replace } from "../dom.js";
import { inboxKind, relative } from "../format.js";
import { setUnread } from "../inbox-badge.js";
import { panel } from "../panel.js";
import { pager } from "../panels/pager.js";
import { resource } from "../store.js";
import { badge, emptyState, errorMessage, loading, pageHeader, toast } from "../ui.js";

const PAGE_SIZE = 25;
const REFRESH_MS = 30_000;
const KIND_ICON = { text: "message", missed_call: "phone", voicemail: "phone" };

function filterTabs(unreadOnly) {
  const tab = (text, href, current) =>
    h("a", { href, class: `btn btn-sm ${current ? "btn-primary" : "btn-secondary"}`, "aria-current": current ? "page" : null }, text);
  return h(
    "nav",
    { "aria-label": "Which threads", class: "flex gap-2 border-b border-slate-200 p-4" },
    tab("All", "#/inbox", !unreadOnly),
    tab("Unread", "#/inbox?unread=true", unreadOnly),
  );
}

function thread(item, open) {
  const name = item.leadName || "Unknown lead";
  return h(
    "li",
    { "data-inbox-lead": item.leadId, "data-unread": item.unread ? "true" : "false" },
    h(
      "button",
      {
        type: "button",
        class: `flex w-full items-start gap-3 px-4 py-3 text-left hover:bg-slate-50 focus-visible:bg-slate-50 ${item.unread ? "bg-indigo-50/40" : ""}`,
        "aria-label": `${item.unread ? "Unread: " : ""}${inboxKind(item.kind)} from ${name}, ${relative(item.at)}`,
        onclick: (e) => open(item, e.currentTarget),
      },
      h(
        "span",
        { class: "mt-0.5 grid size-8 shrink-0 place-items-center rounded-full bg-sky-100 text-sky-700", "aria-hidden": "true" },
        icon(KIND_ICON[item.kind] || "message"),
      ),
      h(
        "span",
        { class: "min-w-0 flex-1" },
        h(
          "span",
          { class: "flex flex-wrap items-center gap-2" },
          h("span", { class: `truncate ${item.unread ? "font-semibold text-slate-900" : "text-slate-800"}` }, name),
          badge(item.kind === "text" ? "received" : "warning", inboxKind(item.kind)),
          item.unread ? badge("unread", "Unread") : null,
        ),
        h("span", { class: "mt-0.5 block truncate text-sm text-slate-600" }, item.preview || ""),
      ),
      h("time", { class: "shrink-0 text-xs text-slate-600", datetime: item.at || "" }, relative(item.at)),
    ),
  );
}

export async function renderInbox({ main, query, signal, navigate }) {
  const unreadOnly = query.get("unread") === "true";
  const at = { cursors: [null], page: 0 };
  const list = resource(
    async (s) => {
      const page = await api.inbox({ unread: unreadOnly, limit: PAGE_SIZE, cursor: at.cursors[at.page] }, s);
      at.cursors[at.page + 1] = page.nextCursor || null;
      setUnread(page.unreadCount);
      return { items: page.items || [], hasNext: Boolean(page.nextCursor), unreadCount: page.unreadCount };
    },
    { signal, every: REFRESH_MS },
  );
  const go = (page) => {
    if (page === 0) at.cursors = [null];
    at.page = page;
    list.reload();
  };
  async function open(item, button) {
    button.disabled = true;
    try {
      if (item.unread) {
        const after = await api.markThreadRead(item.leadId, item.itemId);
        setUnread(after.unreadCount);
      }
      navigate(`#/leads/${encodeURIComponent(item.leadId)}`);
    } catch (err) {
      button.disabled = false;
      toast(`Could not open the thread: ${errorMessage(err)}`, "error");
    }
  }

  const summary = h("p", { class: "text-sm text-slate-600", "data-unread-summary": "" });
  const listArea = h("div", { "aria-live": "polite" });
  const pagerNav = h("nav", { "aria-label": "Pagination", class: "flex items-center justify-between gap-3 border-t border-slate-200 px-4 py-3" });
  replace(main, pageHeader("Inbox", summary), h("div", { class: "card overflow-hidden" }, filterTabs(unreadOnly), listArea, pagerNav));
  panel(summary, list, { loading: null, error: null, render: ({ unreadCount }) => (unreadCount ? `${unreadCount} unread` : "All read") });
  panel(listArea, list, {
    loading: () => loading("Loading the inbox…"),
    title: "Could not load the inbox",
    render: ({ items }) => {
      if (!items.length) {
        return unreadOnly
          ? emptyState("No unread threads.", "Replies, missed calls and voicemails show here as they come in.", h("a", { href: "#/inbox", class: "btn btn-secondary" }, "Show all"))
          : emptyState("Nothing in the inbox yet.", "Replies, missed calls and voicemails show here as they come in.");
      }
      return h("ul", { class: "divide-y divide-slate-100", "aria-label": "Threads", "data-inbox": "" }, items.map((item) => thread(item, open)));
    },
  });
  panel(pagerNav, list, {
    loading: () => [],
    error: () => [],
    render: ({ items, hasNext }) => {
      const nodes = pager({ page: at.page, pageSize: PAGE_SIZE, count: items.length, hasNext, onPrevious: () => go(at.page - 1), onNext: () => go(at.page + 1), noun: ["thread", "threads"] });
      pagerNav.hidden = !nodes;
      return nodes || [];
    },
  });
  await list.start();
}
