// Previous/Next for a cursor-paged list, with "Showing 26–50" (or the count, on one page).
import { h, icon } from "../dom.js";

/** pager({page, pageSize, count, total, hasNext, onPrevious, onNext, noun}) -> nodes, or null
 * for none; total: how many in all when known; noun: [one, many] ("lead", "leads" unless
 * given). */
export function pager({ page, pageSize, count, total = null, hasNext, onPrevious, onNext, noun = ["lead", "leads"] }) {
  if (page === 0 && !hasNext) {
    return count ? h("p", { class: "text-sm text-slate-600" }, `${count} ${count === 1 ? noun[0] : noun[1]}`) : null;
  }
  const first = page * pageSize + 1;
  const of = typeof total === "number" ? ` of ${total.toLocaleString("en-US")}` : "";
  return [
    h("p", { class: "text-sm text-slate-600", "data-pager-range": "" }, count ? `Showing ${first}–${first + count - 1}${of}` : ""),
    h(
      "div",
      { class: "flex gap-2" },
      h("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: page === 0, onclick: onPrevious }, icon("chevronLeft"), "Previous"),
      h("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: !hasNext, onclick: onNext }, "Next", icon("chevronRight")),
    ),
  ];
}
