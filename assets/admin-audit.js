// Back office, owners only: the audit log, newest first — every change and
// sign-in with who, when and from where — filtered by actor, kind, key and time.
import { busy, h, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";
import { t } from "/assets/i18n.js";

/** The filters typed in: name, label, example. */
const TEXT_FILTERS = () => [
  ["actor", t("audit.actor"), "user:owner, token:ci, cli…"],
  ["kind", t("audit.kind"), "auth, product.created…"],
  ["key", t("audit.key"), t("audit.keyExample")],
];

/** A `datetime-local` value as RFC 3339 in UTC, or "" when empty or unreadable. */
function rfc3339(local) {
  const date = new Date(local);
  return local && !Number.isNaN(date.getTime()) ? date.toISOString() : "";
}

/** The inverse, for filling the inputs from the address. */
function local(rfc) {
  const date = new Date(rfc);
  if (!rfc || Number.isNaN(date.getTime())) return "";
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

/** A value before or after a change, as short text. */
function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 78)}…` : text;
}

/** What a change changed: one "field: before → after" line each. */
function changes(list) {
  return h("ul", { class: "changes" }, list.map((c) => h("li", {},
    h("span", { class: "mono" }, c.field), ": ",
    h("del", {}, shown(c.before)), " → ", h("ins", {}, shown(c.after)))));
}

/** Where the record an entry's key names is shown, if the back office has a page for it. */
function keyLink(entry) {
  const key = entry.key ?? "";
  const kind = entry.kind ?? "";
  const href =
    kind.startsWith("product.") ? `/admin/product?${new URLSearchParams({ sku: key })}` :
    kind.startsWith("quote.") ? `/admin/quote?${new URLSearchParams({ number: key })}` :
    kind.startsWith("location.") ? "/admin/locations" :
    kind.startsWith("user.") ? "/admin/users" :
    kind.startsWith("webhook.") ? "/admin/webhooks" :
    kind === "level.changed" ? `/admin/product?${new URLSearchParams({ sku: key.split("@")[0] })}` :
    null;
  return href && key ? h("a", { href }, key) : key;
}

/** An entry's data: what changed as lines, other short JSON inline, longer JSON folded away. */
function data(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value.changes) && value.changes.length) {
    const { changes: list, ...rest } = value;
    return h("div", {}, changes(list), Object.keys(rest).length ? data(rest) : null);
  }
  const compact = JSON.stringify(value);
  if (compact.length <= 60) return h("code", {}, compact);
  return h("details", {},
    h("summary", {}, h("code", {}, `${compact.slice(0, 48)}…`)),
    h("pre", { class: "mono" }, JSON.stringify(value, null, 2)));
}

export async function render(main, { owner }) {
  main.append(h("h1", {}, t("audit.title")));
  if (!owner) {
    main.append(h("p", { class: "message info", role: "status" }, t("audit.ownersOnly")));
    return;
  }
  const params = new URLSearchParams(location.search);
  const fields = [
    ...TEXT_FILTERS().map(([name, label, placeholder]) =>
      h("label", {}, label, h("input", { name, value: params.get(name) ?? "", placeholder, autocomplete: "off" }))),
    h("label", {}, t("audit.from"), h("input", { name: "from", type: "datetime-local", value: local(params.get("from")) })),
    h("label", {}, t("audit.until"), h("input", { name: "until", type: "datetime-local", value: local(params.get("until")) })),
  ];
  const apply = h("button", { type: "submit" }, t("audit.filter"));
  const clear = h("button", { type: "button", class: "secondary" }, t("audit.clear"));
  const filters = h("form", { class: "form-grid", role: "search", "aria-label": t("audit.filterLabel") },
    fields, h("div", { class: "actions wide" }, apply, clear));

  // The filters in force: what was last applied, not what is being typed.
  let applied = {};
  const read = () => {
    const form = new FormData(filters);
    applied = {
      actor: form.get("actor").trim(),
      kind: form.get("kind").trim(),
      key: form.get("key").trim(),
      from: rfc3339(form.get("from")),
      until: rfc3339(form.get("until")),
    };
    const search = new URLSearchParams(Object.entries(applied).filter(([, v]) => v)).toString();
    history.replaceState(null, "", location.pathname + (search ? `?${search}` : ""));
  };

  const list = card(t("audit.entries"));
  main.append(card(t("audit.filter"), filters), list);
  const pager = paged(list, "/audit", () => applied, (items) => table([
    [t("audit.time"), (e) => h("time", { datetime: e.at, title: e.at }, when(e.at))],
    [t("audit.kind"), (e) => h("span", { class: "mono" }, e.kind)],
    [t("audit.key"), (e) => keyLink(e)],
    [t("audit.actor"), (e) => e.actor],
    [t("audit.address"), (e) => (e.ip ? h("span", { class: "mono" }, e.ip) : "—")],
    [t("audit.data"), (e) => data(e.data)],
  ], items, { empty: t("audit.none"), caption: t("audit.title") }));

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    read();
    busy(apply, t("audit.filtering"), () => pager.reload());
  });
  clear.addEventListener("click", () => {
    for (const input of filters.querySelectorAll("input")) input.value = "";
    read();
    busy(clear, t("audit.clearing"), () => pager.reload());
  });
  read();
  await pager.reload();
}
