// The token screen: paste the access token (make dev prints it), checked against the API
// before it is kept in localStorage.
import * as api from "../api.js";
import { h, icon, replace } from "../dom.js";
import { busy, field, formBanner, notice, showErrors } from "../ui.js";

export function renderLogin({ container, notice: message, onSignedIn }) {
  const tokenField = field({
    name: "token",
    label: "Access token",
    kind: "password",
    required: true,
    autocomplete: "current-password",
    autofocus: true,
    hint: "make dev prints it (it is also in .data/api-token); in production, ask whoever deployed the stage.",
  });
  const input = tokenField.querySelector("input");
  const show = h("input", {
    type: "checkbox",
    id: "show-token",
    class: "size-4 rounded border-slate-300",
    onchange: (e) => {
      input.type = e.target.checked ? "text" : "password";
    },
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary w-full" }, "Sign in");
  const form = h(
    "form",
    { class: "space-y-4", novalidate: true, "aria-labelledby": "login-title" },
    formBanner(),
    tokenField,
    h(
      "div",
      { class: "flex items-center gap-2" },
      show,
      h("label", { for: "show-token", class: "text-sm text-slate-600" }, "Show token"),
    ),
    submit,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      showErrors(form, { code: "validation_error", details: { field: "token" }, message: "Enter the access token." });
      return;
    }
    try {
      await busy(submit, "Checking…", () => api.verifyToken(token));
    } catch (err) {
      const shown =
        err.status === 401 ? { ...err, message: "That token was not accepted. Check it and try again." } : err;
      showErrors(form, shown);
      input.focus();
      return;
    }
    api.setToken(token);
    onSignedIn();
  });
  replace(
    container,
    h(
      "main",
      { id: "main", class: "flex min-h-screen items-center justify-center px-4 py-12" },
      h(
        "div",
        { class: "w-full max-w-sm" },
        h(
          "div",
          { class: "mb-6 flex flex-col items-center text-center" },
          h("span", { class: "grid size-12 place-items-center rounded-xl bg-indigo-600 text-white shadow" }, icon("phone", "size-7")),
          h("h1", { id: "login-title", class: "mt-4 text-2xl font-bold tracking-tight", tabindex: "-1", "data-page-title": "" }, "Sign in to Coldcall"),
          h("p", { class: "mt-1 text-sm text-slate-500" }, "Calls, texts and leads for your team."),
        ),
        message ? h("div", { class: "mb-4" }, notice("warning", h("p", {}, message))) : null,
        h("div", { class: "card p-6" }, form),
      ),
    ),
    h(
      "div",
      { class: "pointer-events-none fixed inset-x-0 bottom-0 flex flex-col items-center gap-2 p-4" },
      h("div", { id: "toasts", role: "status", "aria-live": "polite" }),
      h("div", { id: "toasts-alert", role: "alert", "aria-live": "assertive" }),
    ),
  );
  input.focus();
}
