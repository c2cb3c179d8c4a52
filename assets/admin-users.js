// Back office, owners only: the people who sign in (role, e-mail address,
// disabled, password, a link to set a new password, handed over or e-mailed)
// and the API tokens programs use (made with a secret shown once, revoked).
import { api } from "/assets/api.js";
import { busy, clearErrors, h, say, showError, when } from "/assets/ui.js";
import { card, paged, roleName, table } from "/assets/admin-kit.js";
import { t } from "/assets/i18n.js";

const ROLES = ["viewer", "staff", "owner"];
/** What a token may be limited to, each in words. */
const SCOPES = () => [
  ["read", t("users.scope.read")],
  ["catalogue:write", t("users.scope.catalogue")],
  ["stock:write", t("users.scope.stock")],
  ["quotes:write", t("users.scope.quotes")],
];

const roleSelect = (value = "staff") =>
  h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === value }, roleName(r))));

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

/** Shows a link with a button to copy it (the text is selected when the
 *  browser has no clipboard for the page). */
function copyBox(text) {
  const copy = h("button", { type: "button", class: "secondary" }, t("common.copy"));
  const box = h("div", { class: "secret", tabindex: "0" }, text);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = t("common.copied");
    } catch {
      getSelection().selectAllChildren(box);
    }
  });
  return [box, h("div", { class: "actions" }, copy)];
}

/** A user's e-mail address: set, changed, or removed when left empty. */
function emailForm(user, patch, message) {
  return form(h("label", {}, t("users.emailOf", { user: user.username }),
    h("input", { name: "email", type: "email", value: user.email ?? "", autocomplete: "off", maxlength: "254" })),
  t("users.saveEmail"), t("common.saving"), message, (data) => {
    const email = String(data.get("email")).trim();
    return patch({ email: email || null }, email
      ? t("users.emailSet", { user: user.username, email })
      : t("users.emailRemoved", { user: user.username }));
  }, "row");
}

/**
 * A link for `user` to set a new password (any earlier one stops working):
 * shown to copy and hand over, or e-mailed to the user's address when the
 * shop sends mail and the user has one.
 */
function resetLink(user, shop) {
  const shown = h("div", { class: "reset-link", role: "status" });
  const path = `/users/${encodeURIComponent(user.username)}/reset-link`;
  const make = h("button", { type: "button", class: "secondary" }, t("users.resetLink"));
  make.addEventListener("click", () => busy(make, t("users.resetLinkMaking"), async () => {
    shown.replaceChildren();
    try {
      const made = await api(path, { method: "POST" });
      shown.replaceChildren(h("div", { class: "message ok stack" },
        h("strong", {}, t("users.resetLinkMade", { user: user.username, expires: when(made.expires_at) })),
        ...copyBox(made.link)));
    } catch (error) {
      shown.replaceChildren(h("p", { class: "message error" }, error.message));
    }
  }));
  const buttons = [make];
  if (shop?.mail && user.email) {
    const mail = h("button", { type: "button", class: "secondary" }, t("users.resetLinkEmail"));
    mail.addEventListener("click", () => busy(mail, t("users.resetLinkSending"), async () => {
      shown.replaceChildren();
      try {
        const made = await api(path, { method: "POST", query: { email: "true" } });
        if (made.mail?.state === "queued") {
          shown.replaceChildren(h("p", { class: "message ok" }, t("users.resetLinkEmailed", { to: made.mail.to, expires: when(made.expires_at) })));
        } else {
          // The address went since the list was drawn: the link is made all the same.
          shown.replaceChildren(h("div", { class: "message info stack" },
            h("strong", {}, t("users.resetLinkNoAddress", { user: user.username, expires: when(made.expires_at) })),
            ...copyBox(made.link)));
        }
      } catch (error) {
        shown.replaceChildren(h("p", { class: "message error" }, error.code === "mail_not_configured" ? t("users.mailOff") : error.message));
      }
    }));
    buttons.push(mail);
  }
  return h("div", { class: "stack" }, h("div", { class: "actions" }, buttons), shown);
}

/** The controls of one user's row: role, e-mail address, password, a reset link, disable/enable. */
function userActions(user, message, reload, shop) {
  const patch = async (body, done) => {
    await api(`/users/${encodeURIComponent(user.username)}`, { method: "PATCH", body });
    say(message, done, "ok");
    await reload();
  };
  const role = form(h("label", {}, h("span", { class: "visually-hidden" }, t("users.roleOf", { user: user.username })), roleSelect(user.role)),
    t("users.changeRole"), t("common.saving"), message,
    (data) => patch({ role: data.get("role") }, t("users.roleChanged", { user: user.username, role: roleName(data.get("role")) })), "row");
  const password = form(h("label", {}, t("users.newPasswordFor", { user: user.username }),
    h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: "8", maxlength: "128" })),
  t("users.setPassword"), t("common.saving"), message,
  (data) => patch({ password: data.get("password") }, t("users.passwordSet", { user: user.username })), "row");
  const reset = h("details", {}, h("summary", {}, t("users.resetPassword")), password);
  const email = h("details", {}, h("summary", {}, t("users.email")), emailForm(user, patch, message));
  const toggle = h("button", { type: "button", class: user.disabled ? "secondary" : "danger" }, user.disabled ? t("users.enable") : t("users.disable"));
  toggle.addEventListener("click", () => {
    if (!user.disabled && !confirm(t("users.disableConfirm", { user: user.username }))) return;
    busy(toggle, t("common.saving"), () => patch({ disabled: !user.disabled },
      user.disabled ? t("users.enabled", { user: user.username }) : t("users.disabled", { user: user.username }))
      .catch((error) => say(message, error.message, "error")));
  });
  return h("div", { class: "stack" }, role, email, reset, resetLink(user, shop), h("div", { class: "actions" }, toggle));
}

/** The owner's own row: only the e-mail address (a link for a forgotten password goes there). */
function ownActions(user, message, reload) {
  const patch = async (body, done) => {
    await api(`/users/${encodeURIComponent(user.username)}`, { method: "PATCH", body });
    say(message, done, "ok");
    await reload();
  };
  return h("div", { class: "stack" },
    h("span", { class: "muted" }, t("users.you")),
    h("details", {}, h("summary", {}, t("users.email")), emailForm(user, patch, message)));
}

function users(main, me, shop) {
  const message = h("p", { class: "message", role: "status" });
  const list = card(t("users.users"), message);
  let pager;
  const reload = () => pager.refresh();
  pager = paged(list, "/users", () => ({}), (items) => table([
    [t("users.username"), (u) => h("strong", {}, u.username)],
    [t("users.role"), (u) => roleName(u.role)],
    [t("users.emailColumn"), (u) => (u.email ? h("span", { class: "email" }, u.email) : h("span", { class: "muted" }, t("users.noEmail")))],
    [t("users.status"), (u) => h("span", { class: "badge", dataset: { status: u.disabled ? "disabled" : "active" } }, u.disabled ? t("users.statusDisabled") : t("users.statusActive"))],
    [t("users.since"), (u) => when(u.created_at)],
    // Not on yourself (but your e-mail address): one click could lock you out of this page.
    [t("users.change"), (u) => (u.username === me.username ? ownActions(u, message, reload) : userActions(u, message, reload, shop))],
  ], items, { caption: t("users.users") }));
  const createMessage = h("p", { class: "message", role: "status" });
  const create = form([
    h("label", {}, t("users.username"), h("input", { name: "username", autocomplete: "off", required: true })),
    h("label", {}, t("users.password"), h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: "8", maxlength: "128", required: true })),
    h("label", {}, t("users.role"), roleSelect()),
    h("label", {}, t("users.emailOptional"), h("input", { name: "email", type: "email", autocomplete: "off", maxlength: "254" })),
  ], t("users.add"), t("common.adding"), createMessage, async (data, el) => {
    const body = Object.fromEntries(data);
    body.email = body.email.trim();
    if (!body.email) delete body.email;
    const user = await api("/users", { method: "POST", body });
    el.reset();
    say(createMessage, t("users.added", { user: user.username, role: roleName(user.role) }), "ok");
    await pager.reload();
  });
  main.append(list, card(t("users.addTitle"), h("p", { class: "muted" }, t("users.passwordRule")), create, createMessage));
  return pager.reload();
}

/** A token's status in words. */
function tokenStatus(status) {
  return { active: t("users.tokenActive"), revoked: t("users.tokenRevoked"), expired: t("users.tokenExpired") }[status] ?? status;
}

function tokens(main) {
  const message = h("p", { class: "message", role: "status" });
  const list = card(t("users.tokens"), message);
  let pager;
  const revoke = (token) => {
    const button = h("button", { type: "button", class: "danger" }, t("users.revoke"));
    button.addEventListener("click", () => {
      if (!confirm(t("users.revokeConfirm", { name: token.name }))) return;
      busy(button, t("users.revoking"), async () => {
        try {
          await api(`/tokens/${encodeURIComponent(token.name)}`, { method: "DELETE" });
          say(message, t("users.revoked", { name: token.name }), "ok");
          await pager.refresh();
        } catch (error) {
          say(message, error.message, "error");
        }
      });
    });
    return button;
  };
  pager = paged(list, "/tokens", () => ({}), (items) => table([
    [t("users.tokenName"), (k) => h("span", { class: "mono" }, k.name)],
    [t("users.role"), (k) => (k.user ? t("users.roleFor", { role: roleName(k.role), user: k.user }) : roleName(k.role))],
    [t("users.scopes"), (k) => (k.scopes.length ? k.scopes.join(", ") : t("users.allScopes"))],
    [t("users.status"), (k) => h("span", { class: "badge", dataset: { status: k.status } }, tokenStatus(k.status))],
    [t("users.made"), (k) => when(k.created_at)],
    [t("users.expires"), (k) => (k.expires_at ? when(k.expires_at) : t("users.never"))],
    [t("users.lastUsed"), (k) => when(k.last_used_at)],
    ["", (k) => (k.status === "active" ? revoke(k) : null)],
  ], items, { empty: t("users.noTokens"), caption: t("users.tokens") }));

  const createMessage = h("p", { class: "message", role: "status" });
  const secret = h("div", { role: "status" });
  const create = form([
    h("label", {}, t("users.tokenName"), h("input", { name: "name", autocomplete: "off", required: true, placeholder: "nightly-sync" })),
    h("label", {}, t("users.role"), roleSelect("viewer")),
    h("label", {}, t("users.actsFor"), h("input", { name: "user", autocomplete: "off" })),
    h("label", {}, t("users.expiresIn"), h("input", { name: "expires_in_days", type: "number", min: "1", max: "3650", inputmode: "numeric" })),
    h("fieldset", { class: "wide" }, h("legend", {}, t("users.scopesLegend")),
      h("div", { class: "row" }, SCOPES().map(([value, text]) =>
        h("label", { class: "inline" }, h("input", { type: "checkbox", name: "scopes", value }), text)))),
  ], t("users.makeToken"), t("users.making"), createMessage, async (data, el) => {
    // The last token's secret box goes: an error for this one must not stand
    // beside a success that is not its own.
    secret.replaceChildren();
    const body = { name: data.get("name").trim(), role: data.get("role"), scopes: data.getAll("scopes") };
    if (data.get("user").trim()) body.user = data.get("user").trim();
    if (data.get("expires_in_days")) body.expires_in_days = Number(data.get("expires_in_days"));
    const made = await api("/tokens", { method: "POST", body });
    el.reset();
    say(createMessage, "");
    const copy = h("button", { type: "button", class: "secondary" }, t("common.copy"));
    const box = h("div", { class: "secret", tabindex: "0" }, made.secret);
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(made.secret);
        copy.textContent = t("common.copied");
      } catch {
        // No clipboard (plain http, or refused): select the text to copy by hand.
        getSelection().selectAllChildren(box);
      }
    });
    secret.replaceChildren(h("div", { class: "message ok stack" },
      h("strong", {}, t("users.tokenMade", { name: made.token.name })),
      box,
      h("div", { class: "actions" }, copy)));
    await pager.reload();
  });
  main.append(list, card(t("users.makeTitle"), create, createMessage, secret));
  return pager.reload();
}

export async function render(main, { owner, me, shop }) {
  main.append(h("h1", {}, t("users.title")));
  if (!owner) {
    main.append(h("p", { class: "message info", role: "status" }, t("users.ownersOnly")));
    return;
  }
  await Promise.all([users(main, me, shop), tokens(main)]);
}
