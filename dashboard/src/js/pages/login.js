// The sign-in page: e-mail and password (POST /auth/login), then, on a first sign-in with a
// temporary password, the new-password step with the policy shown (POST /auth/new-password).
// api.js keeps the tokens; this page only asks and says what went wrong.
import * as api from "../api.js";
import { h, icon, replace, setText } from "../dom.js";
import { busy, clearErrors, field, formBanner, nextId, notice, showErrors } from "../ui.js";

// The user pool's policy (infra/ and chalicelib/identity/secrets.py); a refusal from the API
// carries its own wording in details.policy, which then replaces this one.
const POLICY = "At least 12 characters, with an upper-case letter, a lower-case letter and a digit.";

function sentence(text) {
  const s = String(text || "").trim();
  if (!s) return s;
  const first = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** "about 12 minutes" / "40 seconds" from a Retry-After in seconds. */
function wait(seconds) {
  const n = Math.max(1, Math.round(Number(seconds) || 0));
  if (n < 90) return `${n} ${n === 1 ? "second" : "seconds"}`;
  const minutes = Math.ceil(n / 60);
  return `about ${minutes} minutes`;
}

/** What a refused sign-in means for the person at the keyboard. */
function signInProblem(err) {
  if (err.status === 401) {
    if (/deactivated/i.test(err.message)) return { ...err, message: "This account is deactivated. Ask an admin to reactivate it." };
    return { ...err, message: "The e-mail or password is wrong. Check them and try again." };
  }
  if (err.status === 429) {
    const after = err.details?.retryAfterSeconds;
    return { ...err, message: `Too many failed sign-ins. Wait ${wait(after)} and try again.` };
  }
  if (err.code === "validation_error") return { ...err, message: sentence(err.message) };
  return err;
}

function showPassword(inputs, text) {
  const id = nextId("show-password");
  const box = h("input", {
    type: "checkbox",
    id,
    class: "size-4 rounded border-slate-300",
    onchange: (e) => {
      for (const input of inputs) input.type = e.target.checked ? "text" : "password";
    },
  });
  return h("div", { class: "flex items-center gap-2" }, box, h("label", { for: id, class: "text-sm text-slate-600" }, text));
}

function credentialsForm({ email, onSignedIn, onChallenge }) {
  const emailField = field({ name: "email", label: "Email", kind: "email", required: true, autocomplete: "username", value: email, autofocus: !email });
  const passwordField = field({ name: "password", label: "Password", kind: "password", required: true, autocomplete: "current-password", autofocus: Boolean(email) });
  const emailInput = emailField.querySelector("input");
  const passwordInput = passwordField.querySelector("input");
  const submit = h("button", { type: "submit", class: "btn btn-primary w-full" }, "Sign in");
  const form = h(
    "form",
    { class: "space-y-4", novalidate: true, "aria-labelledby": "login-title", "data-step": "credentials" },
    formBanner(),
    emailField,
    passwordField,
    showPassword([passwordInput], "Show password"),
    submit,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const values = { email: emailInput.value.trim(), password: passwordInput.value };
    const missing = ["email", "password"].filter((k) => !values[k]);
    if (missing.length) {
      showErrors(form, {
        code: "validation_error",
        message: "Enter your e-mail and password.",
        details: { fields: missing.map((f) => ({ field: f, message: f === "email" ? "Enter your e-mail." : "Enter your password." })) },
      });
      return;
    }
    let answer;
    try {
      answer = await busy(submit, "Signing in…", () => api.signIn(values.email, values.password));
    } catch (err) {
      showErrors(form, signInProblem(err));
      passwordInput.value = "";
      if (err.status !== 429) passwordInput.focus();
      return;
    }
    if (answer.challenge === "NEW_PASSWORD_REQUIRED") onChallenge(values.email, answer.session);
    else if (answer.challenge) showErrors(form, { code: "error", message: `This sign-in needs a step the dashboard does not offer (${answer.challenge}).` });
    else onSignedIn();
  });
  return { form, focus: () => (email ? passwordInput : emailInput).focus() };
}

function newPasswordForm({ email, session, onSignedIn, onRestart }) {
  const passwordField = field({ name: "newPassword", label: "New password", kind: "password", required: true, autocomplete: "new-password", autofocus: true, hint: POLICY });
  const confirmField = field({ name: "confirmPassword", label: "Repeat the new password", kind: "password", required: true, autocomplete: "new-password" });
  const policyText = passwordField.querySelector(".hint");
  policyText.dataset.passwordPolicy = "";
  const passwordInput = passwordField.querySelector("input");
  const confirmInput = confirmField.querySelector("input");
  const submit = h("button", { type: "submit", class: "btn btn-primary w-full" }, "Set password and sign in");
  const form = h(
    "form",
    { class: "space-y-4", novalidate: true, "aria-labelledby": "login-title", "data-step": "new-password" },
    h("p", { class: "text-sm text-slate-600" }, "This is your first sign-in as ", h("strong", {}, email), ": choose your own password to replace the temporary one."),
    formBanner(),
    passwordField,
    confirmField,
    showPassword([passwordInput, confirmInput], "Show passwords"),
    submit,
    h("button", { type: "button", class: "btn btn-ghost btn-sm w-full", onclick: onRestart }, "Back to sign in"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const password = passwordInput.value;
    if (!password) {
      showErrors(form, { code: "validation_error", message: "Choose a password.", details: { field: "newPassword" } });
      return;
    }
    if (password !== confirmInput.value) {
      showErrors(form, { code: "validation_error", message: "The two passwords differ.", details: { field: "confirmPassword" } });
      return;
    }
    let answer;
    try {
      answer = await busy(submit, "Saving…", () => api.setNewPassword(email, session, password));
    } catch (err) {
      if (err.status === 401) {
        onRestart("The sign-in took too long and expired. Sign in with the temporary password again.");
        return;
      }
      if (err.details?.policy) setText(policyText, sentence(err.details.policy));
      showErrors(form, signInProblem(err));
      return;
    }
    if (answer.challenge) onRestart(`This sign-in needs a step the dashboard does not offer (${answer.challenge}).`);
    else onSignedIn();
  });
  return { form, focus: () => passwordInput.focus() };
}

export function renderLogin({ container, notice: message, onSignedIn }) {
  const title = h("h1", { id: "login-title", class: "mt-4 text-2xl font-bold tracking-tight", tabindex: "-1", "data-page-title": "" });
  const subtitle = h("p", { class: "mt-1 text-sm text-slate-500" });
  const messageBox = h("div", {});
  const card = h("div", { class: "card p-6" });

  function showMessage(text, kind = "warning") {
    replace(messageBox, text ? h("div", { class: "mb-4" }, notice(kind, h("p", {}, text))) : null);
  }

  function credentials(email = "") {
    setText(title, "Sign in to Coldcall");
    setText(subtitle, "Calls, texts and leads for your team.");
    const step = credentialsForm({ email, onSignedIn, onChallenge: newPassword });
    replace(card, step.form);
    step.focus();
  }

  function newPassword(email, session) {
    showMessage("");
    setText(title, "Choose a new password");
    setText(subtitle, "You signed in with a temporary password.");
    const step = newPasswordForm({
      email,
      session,
      onSignedIn,
      onRestart: (text) => {
        showMessage(typeof text === "string" ? text : "");
        credentials(email);
      },
    });
    replace(card, step.form);
    step.focus();
  }

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
          title,
          subtitle,
        ),
        messageBox,
        card,
      ),
    ),
    h(
      "div",
      { class: "pointer-events-none fixed inset-x-0 bottom-0 flex flex-col items-center gap-2 p-4" },
      h("div", { id: "toasts", role: "status", "aria-live": "polite" }),
      h("div", { id: "toasts-alert", role: "alert", "aria-live": "assertive" }),
    ),
  );
  showMessage(message);
  credentials();
}
