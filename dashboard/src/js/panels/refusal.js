// A compliance refusal (422 `blocked`) drawn in plain words (compliance.js): what stops the
// call or text, and when it opens. Used by the call dialog and the SMS composer.
import { explain } from "../compliance.js";
import { h } from "../dom.js";
import { notice } from "../ui.js";

/** refusal(err, {channel, heading}) -> a warning notice; err is the ApiError (code blocked). */
export function refusal(err, { channel, heading }) {
  const details = err?.details || {};
  const why = explain(details, { channel, message: err?.message });
  return notice(
    "warning",
    h("p", { class: "font-semibold" }, heading),
    h("p", { class: "mt-1 font-medium", "data-blocked-reason": why.reason }, why.title),
    h("p", { "data-blocked-message": "" }, why.text),
    why.facts.length
      ? h(
          "dl",
          { class: "mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs" },
          why.facts.flatMap(([term, text]) => [h("dt", { class: "font-medium" }, term), h("dd", {}, text)]),
        )
      : null,
  );
}
