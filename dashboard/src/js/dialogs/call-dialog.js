// The call dialog: pick who calls and from which number (call-form.js), place the call, then
// watch its status change until it ends (call-progress.js); a refused call says why.
import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime, label, phone } from "../format.js";
import { panel } from "../panel.js";
import { can, me } from "../roles.js";
import { members, resource } from "../store.js";
import { refusal } from "../panels/refusal.js";
import { loading, notice, openDialog } from "../ui.js";
import { callForm } from "./call-form.js";
import { callProgress } from "./call-progress.js";

function blocked(err) {
  return h("div", { class: "space-y-3", "data-call-blocked": "" }, refusal(err, { channel: "voice", heading: "This call cannot be placed" }));
}

/** What stops a call before the form: nobody active, or no number to call from. */
function cannotCall(active, numbers, close, pickMember) {
  if (pickMember && !active.length) {
    return notice("warning", h("p", {}, "Nobody on the team can call yet. "), h("a", { href: "#/team", class: "link", onclick: close }, "Add a team member"));
  }
  if (!numbers.length) return notice("warning", h("p", {}, "The Twilio account has no phone number to call from."));
  return null;
}

/** openCallDialog(lead, {onChange(call)}) — onChange runs on every status seen. */
export function openCallDialog(lead, { onChange } = {}) {
  const body = h("div", {}, loading("Loading team and caller IDs…"));
  const footer = h("div", { class: "flex gap-2" });
  const controller = new AbortController();
  const dlg = openDialog({ title: `Call ${lead.name}`, description: phone(lead.phone), content: body, footer, onClose: () => controller.abort() });
  const closeBtn = () => h("button", { type: "button", class: "btn btn-secondary", onclick: () => dlg.close() }, "Close");

  function live(call, member) {
    replace(body, callProgress(call, { lead, member, signal: controller.signal, onChange }));
    replace(footer, closeBtn());
  }
  function refused(err) {
    replace(body, blocked(err));
    replace(footer, closeBtn());
    footer.querySelector("button").focus();
  }

  function ready({ active, numbers }) {
    const pickMember = can("calls.as_member");
    const self = active.find((m) => m.id === me()?.id) || me();
    const stop = cannotCall(active, numbers, () => dlg.close(), pickMember);
    if (stop) return stop;
    const { form, start } = callForm({ lead, active, self, pickMember, numbers, onPlaced: live, onBlocked: refused });
    replace(body, form);
    replace(footer, closeBtn(), start);
    form.elements.namedItem(pickMember ? "teamMemberId" : "callerId").focus();
    return undefined;
  }

  const setup = resource(
    async (signal) => {
      const [team, numbers] = await Promise.all([members({ fresh: true }), api.phoneNumbers(signal)]);
      return { active: team.filter((m) => m.active), numbers: numbers.filter((n) => n.voice) };
    },
    { signal: controller.signal },
  );
  replace(footer, closeBtn());
  panel(body, setup, { loading: () => loading("Loading team and caller IDs…"), title: "Could not prepare the call", render: ready });
  setup.start();
  return dlg;
}
