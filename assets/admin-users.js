// Back office, owners only: the people who sign in (role, disabled, password)
// and the API tokens programs use (made with a secret shown once, revoked).
import { api } from "/assets/api.js";
import { busy, clearErrors, h, say, showError, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";

const ROLES = ["viewer", "staff", "owner"];
const SCOPES = [
  ["read", "Read everything"],
  ["catalogue:write", "Change the catalogue and locations"],
  ["stock:write", "Book stock movements"],
  ["quotes:write", "Accept, fulfil and cancel quotes"],
];

const roleSelect = (value = "staff") =>
  h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === value }, r)));

/** A form that runs `send(formData)`, shows progress and errors, and keeps what was typed. */
function form(fields, label, progress, message, send, layout = "form-grid") {
  // Forms inside a table row are quieter than the page's main forms.
  const submit = h("button", { type: "submit", class: layout === "row" ? "secondary" : null }, label);
  const el = h("form", { class: layout, novalidate: true }, fields, h("div", { class: "actions wide" }, submit));
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, progress, async () => {
      try {
        await send(new FormData(el), el);
        clearErrors(el);
      } catch (error) {
        showError(el, message, error);
      }
    });
  });
  return el;
}

/** The controls of one user's row: role, password, disable/enable. */
function userActions(user, message, reload) {
  const patch = async (body, done) => {
    await api(`/users/${encodeURIComponent(user.username)}`, { method: "PATCH", body });
    say(message, done, "ok");
    await reload();
  };
  const role = form(h("label", {}, h("span", { class: "visually-hidden" }, `Role of ${user.username}`), roleSelect(user.role)),
    "Change role", "Saving…", message,
    (data) => patch({ role: data.get("role") }, `${user.username} is now ${data.get("role")}.`), "row");
  const password = form(h("label", {}, `New password for ${user.username}`,
    h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: "8", maxlength: "128" })),
  "Set password", "Saving…", message,
  (data) => patch({ password: data.get("password") }, `New password set for ${user.username}; their sessions and tokens have ended.`), "row");
  const reset = h("details", {}, h("summary", {}, "Reset password"), password);
  const toggle = h("button", { type: "button", class: user.disabled ? "secondary" : "danger" }, user.disabled ? "Enable" : "Disable");
  toggle.addEventListener("click", () => {
    if (!user.disabled && !confirm(`Disable ${user.username}? They are signed out and their tokens stop working.`)) return;
    busy(toggle, "Saving…", () => patch({ disabled: !user.disabled }, `${user.username} is ${user.disabled ? "enabled" : "disabled"}.`)
      .catch((error) => say(message, error.message, "error")));
  });
  return h("div", { class: "stack" }, role, reset, h("div", { class: "actions" }, toggle));
}

function users(main, me) {
  const message = h("p", { class: "message", role: "status" });
  const list = card("Users", message);
  let pager;
  const reload = () => pager.refresh();
  pager = paged(list, "/users", () => ({}), (items) => table([
    ["Username", (u) => h("strong", {}, u.username)],
    ["Role", (u) => u.role],
    ["Status", (u) => h("span", { class: "badge", dataset: { status: u.disabled ? "disabled" : "active" } }, u.disabled ? "Disabled" : "Active")],
    ["Since", (u) => when(u.created_at)],
    // Not on yourself: one click could lock you out of this page.
    ["Change", (u) => (u.username === me.username ? h("span", { class: "muted" }, "This is you.") : userActions(u, message, reload))],
  ], items, { caption: "Users" }));
  const createMessage = h("p", { class: "message", role: "status" });
  const create = form([
    h("label", {}, "Username", h("input", { name: "username", autocomplete: "off", required: true })),
    h("label", {}, "Password", h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: "8", maxlength: "128", required: true })),
    h("label", {}, "Role", roleSelect()),
  ], "Add user", "Adding…", createMessage, async (data, el) => {
    const user = await api("/users", { method: "POST", body: Object.fromEntries(data) });
    el.reset();
    say(createMessage, `${user.username} can now sign in as ${user.role}.`, "ok");
    await pager.reload();
  });
  main.append(list, card("Add a user", h("p", { class: "muted" }, "Passwords have 8 to 128 characters and are not common ones."), create, createMessage));
  return pager.reload();
}

function tokens(main) {
  const message = h("p", { class: "message", role: "status" });
  const list = card("API tokens", message);
  let pager;
  const revoke = (token) => {
    const button = h("button", { type: "button", class: "danger" }, "Revoke");
    button.addEventListener("click", () => {
      if (!confirm(`Revoke the token ${token.name}? Programs using it stop working at once.`)) return;
      busy(button, "Revoking…", async () => {
        try {
          await api(`/tokens/${encodeURIComponent(token.name)}`, { method: "DELETE" });
          say(message, `Token ${token.name} revoked.`, "ok");
          await pager.refresh();
        } catch (error) {
          say(message, error.message, "error");
        }
      });
    });
    return button;
  };
  pager = paged(list, "/tokens", () => ({}), (items) => table([
    ["Name", (t) => h("span", { class: "mono" }, t.name)],
    ["Role", (t) => (t.user ? `${t.role} for ${t.user}` : t.role)],
    ["Scopes", (t) => (t.scopes.length ? t.scopes.join(", ") : "all the role allows")],
    ["Status", (t) => h("span", { class: "badge", dataset: { status: t.status } }, t.status)],
    ["Made", (t) => when(t.created_at)],
    ["Expires", (t) => (t.expires_at ? when(t.expires_at) : "never")],
    ["Last used", (t) => when(t.last_used_at)],
    ["", (t) => (t.status === "active" ? revoke(t) : null)],
  ], items, { empty: "No tokens yet.", caption: "API tokens" }));

  const createMessage = h("p", { class: "message", role: "status" });
  const secret = h("div", { role: "status" });
  const create = form([
    h("label", {}, "Name", h("input", { name: "name", autocomplete: "off", required: true, placeholder: "nightly-sync" })),
    h("label", {}, "Role", roleSelect("viewer")),
    h("label", {}, "Acts for user (optional)", h("input", { name: "user", autocomplete: "off" })),
    h("label", {}, "Expires in days (optional)", h("input", { name: "expires_in_days", type: "number", min: "1", max: "3650", inputmode: "numeric" })),
    h("fieldset", { class: "wide" }, h("legend", {}, "Scopes (none ticked: all the role allows)"),
      h("div", { class: "row" }, SCOPES.map(([value, text]) =>
        h("label", { class: "inline" }, h("input", { type: "checkbox", name: "scopes", value }), text)))),
  ], "Make token", "Making…", createMessage, async (data, el) => {
    // The last token's secret box goes: an error for this one must not stand
    // beside a success that is not its own.
    secret.replaceChildren();
    const body = { name: data.get("name").trim(), role: data.get("role"), scopes: data.getAll("scopes") };
    if (data.get("user").trim()) body.user = data.get("user").trim();
    if (data.get("expires_in_days")) body.expires_in_days = Number(data.get("expires_in_days"));
    const made = await api("/tokens", { method: "POST", body });
    el.reset();
    say(createMessage, "");
    const copy = h("button", { type: "button", class: "secondary" }, "Copy");
    const box = h("div", { class: "secret", tabindex: "0" }, made.secret);
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(made.secret);
        copy.textContent = "Copied";
      } catch {
        // No clipboard (plain http, or refused): select the text to copy by hand.
        getSelection().selectAllChildren(box);
      }
    });
    secret.replaceChildren(h("div", { class: "message ok stack" },
      h("strong", {}, `Token ${made.token.name} made. Copy its secret now: it cannot be shown again.`),
      box,
      h("div", { class: "actions" }, copy)));
    await pager.reload();
  });
  main.append(list, card("Make a token", create, createMessage, secret));
  return pager.reload();
}

export async function render(main, { owner, me }) {
  main.append(h("h1", {}, "Users and tokens"));
  if (!owner) {
    main.append(h("p", { class: "message info", role: "status" }, "Only owners manage users and API tokens. Ask an owner if you need an account or a token."));
    return;
  }
  await Promise.all([users(main, me), tokens(main)]);
}
