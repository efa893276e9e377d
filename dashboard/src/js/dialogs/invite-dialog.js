// The answer to an invite or a password reset: the temporary password, shown once with a Copy
// button (under make dev, where no e-mail is sent), or the news that Cognito e-mailed it.
import { h } from "../dom.js";
import { notice, openDialog, secretField, toast } from "../ui.js";

/** showInvite(member, invite, {opener}) — invite is the API's `{"temporaryPassword"}` or
 * `{"emailed": true}`; nothing happens without one. */
export function showInvite(member, invite, { opener } = {}) {
  if (!invite) return null;
  if (!invite.temporaryPassword) {
    toast(`${member.name} was e-mailed a temporary password.`, "success");
    return null;
  }
  const done = h("button", { type: "button", class: "btn btn-primary" }, "Done");
  const dlg = openDialog({
    title: `Temporary password for ${member.name}`,
    description: member.email || "",
    opener,
    content: h(
      "div",
      { class: "space-y-4", "data-invite": "" },
      notice("warning", h("p", {}, "This password is shown only once. Pass it on now: it cannot be seen again (a new one can be made with Reset password).")),
      secretField({
        label: "Temporary password",
        value: invite.temporaryPassword,
        hint: `${member.name} signs in with their e-mail and this password, then chooses their own.`,
      }),
    ),
    footer: [done],
  });
  done.addEventListener("click", () => dlg.close());
  done.focus();
  return dlg;
}
