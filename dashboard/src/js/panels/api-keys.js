// API keys (admin page): the form that creates one (its key shown once, with a Copy button),
// and the table of keys with Revoke (after a confirmation; it takes effect at once).
import * as api from "../api.js";
import { h, icon } from "../dom.js";
import { dateTime, label } from "../format.js";
import { ROLES } from "../roles.js";
import { badge, busy, clearErrors, confirmDialog, errorMessage, field, flagMissing, formBanner, formValues, notice, openDialog, secretField, showErrors, toast } from "../ui.js";

function showKey(created, opener) {
  const done = h("button", { type: "button", class: "btn btn-primary" }, "Done");
  const dlg = openDialog({
    title: `API key “${created.name}”`,
    description: `Role: ${label(created.role)}`,
    opener,
    content: h(
      "div",
      { class: "space-y-4", "data-new-api-key": "" },
      notice("warning", h("p", {}, "Copy the key now: it is shown only once (only its hash is kept). Scripts send it as Authorization: Bearer <key>.")),
      secretField({ label: "API key", value: created.key }),
    ),
    footer: [done],
  });
  done.addEventListener("click", () => dlg.close());
  done.focus();
}

/** apiKeyForm({onCreated}) -> <form>: name and role, then the key once. */
export function apiKeyForm({ onCreated }) {
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, icon("plus"), "Create key");
  const form = h(
    "form",
    { novalidate: true, class: "border-b border-slate-200 p-4", "aria-label": "Create an API key" },
    formBanner(),
    h(
      "div",
      { class: "grid gap-3 sm:grid-cols-[1fr_12rem_auto] sm:items-end" },
      field({ name: "name", label: "Name", required: true, autocomplete: "off", maxlength: 200, placeholder: "e.g. Nightly CRM sync" }),
      field({ name: "role", label: "Role", kind: "select", value: "manager", options: ROLES }),
      h("div", {}, submit),
    ),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const values = formValues(form);
    if (flagMissing(form, values, ["name"])) return;
    try {
      const created = await busy(submit, "Creating…", () => api.createApiKey({ name: values.name, role: values.role }));
      form.elements.namedItem("name").value = "";
      onCreated(created);
      showKey(created, submit);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

function revokeButton(key, onChanged) {
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-ghost btn-sm text-rose-700",
      "aria-label": `Revoke ${key.name}`,
      onclick: async (e) => {
        const button = e.currentTarget;
        const ok = await confirmDialog({
          title: `Revoke “${key.name}”?`,
          message: "Anything using this key is refused from the next request on. This cannot be undone: make a new key instead.",
          confirmLabel: "Revoke",
          danger: true,
        });
        if (!ok) return;
        try {
          await busy(button, "Revoking…", () => api.revokeApiKey(key.id));
          toast(`Revoked ${key.name}.`, "success");
        } catch (err) {
          toast(`Could not revoke ${key.name}: ${errorMessage(err)}`, "error");
        }
        onChanged();
      },
    },
    "Revoke",
  );
}

/** apiKeysTable(keys, {onChanged}) -> the table (active keys first). */
export function apiKeysTable(keys, { onChanged }) {
  const sorted = [...keys].sort((a, b) => Number(b.active) - Number(a.active) || (a.createdAt < b.createdAt ? 1 : -1));
  return h(
    "div",
    { class: "relative overflow-x-auto" },
    h(
      "table",
      { class: "table", "aria-label": "API keys" },
      h(
        "thead",
        { class: "bg-slate-50" },
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Name"),
          h("th", { scope: "col" }, "Role"),
          h("th", { scope: "col", class: "hidden sm:table-cell" }, "Created"),
          h("th", { scope: "col" }, "Status"),
          h("th", { scope: "col", class: "text-right" }, h("span", { class: "sr-only" }, "Actions")),
        ),
      ),
      h(
        "tbody",
        { class: "divide-y divide-slate-100 bg-white" },
        sorted.map((key) =>
          h(
            "tr",
            { "data-api-key-id": key.id, class: key.active ? "" : "text-slate-600" },
            h("td", { class: "font-medium" }, key.name),
            h("td", {}, label(key.role)),
            h("td", { class: "hidden whitespace-nowrap sm:table-cell" }, dateTime(key.createdAt)),
            h("td", {}, key.active ? badge("active", "Active") : badge("inactive", `Revoked ${dateTime(key.revokedAt)}`)),
            h("td", { class: "text-right" }, key.active ? revokeButton(key, onChanged) : null),
          ),
        ),
      ),
    ),
  );
}
