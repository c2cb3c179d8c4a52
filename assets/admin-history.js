// Movement history: newest first, filtered by product, location, kind,
// reference and time, with "Reverse" for a movement booked by mistake.
import { api, idempotencyKey } from "/assets/api.js";
import { h, say, when } from "/assets/ui.js";
import { card, kindName, paged, table } from "/assets/admin-kit.js";
import { quantity, t } from "/assets/i18n.js";

const KINDS = ["", "receive", "ship", "transfer", "adjust", "reserve", "release"];

/** Product names and units by SKU, from the listings' `products`. */
const products = new Map();

function lines(movement) {
  return h("ul", { class: "stack" }, movement.lines.map((l) =>
    h("li", {}, h("a", { href: `/admin/product?sku=${encodeURIComponent(l.sku)}` }, products.get(l.sku)?.name ?? l.sku),
      ` — ${quantity(l.quantity, l.unit)} `, products.has(l.sku) ? h("span", { class: "muted" }, l.sku) : null,
      l.entered ? h("span", { class: "muted" }, ` ${t("history.entered", { quantity: quantity(l.entered.quantity, l.entered.unit) })}`) : null,
      l.counted ? h("span", { class: "muted" }, ` ${t("history.counted", { quantity: quantity(l.counted) })}`) : null,
      l.reason ? h("span", { class: "muted" }, ` — ${l.reason}`) : null)));
}

export async function render(main, { staff }) {
  const params = new URLSearchParams(location.search);
  const field = (label, name, attrs = {}) => h("label", {}, label, h("input", { name, value: params.get(name) ?? "", maxlength: "64", ...attrs }));
  const kind = h("select", { name: "kind" }, KINDS.map((k) => h("option", { value: k }, k ? kindName(k) : t("history.all"))));
  kind.value = params.get("kind") ?? "";
  const filters = h("form", { class: "toolbar", id: "history-filters" },
    field(t("history.sku"), "sku"), field(t("history.location"), "location"), h("label", {}, t("history.kind"), kind),
    field(t("history.reference"), "reference", { maxlength: "255" }),
    field(t("history.from"), "from", { type: "date" }), field(t("history.until"), "until", { type: "date" }),
    h("button", { type: "submit", class: "secondary" }, t("history.show")));
  const message = h("p", { class: "message", role: "alert" });
  const list = h("div", { id: "history" });
  main.append(h("h1", {}, t("history.title")), card(t("history.movements"), filters, message, list));

  const day = (value, end) => (value ? new Date(`${value}T${end ? "23:59:59.999" : "00:00:00"}`).toISOString() : "");
  const query = () => {
    const data = new FormData(filters);
    const text = (name) => String(data.get(name) ?? "").trim();
    return {
      sku: text("sku").toUpperCase(), location: text("location").toUpperCase(), kind: text("kind"), reference: text("reference"),
      from: day(text("from"), false), until: day(text("until"), true),
    };
  };

  async function reverse(movement, button) {
    if (!confirm(t("history.reverseConfirm", { id: String(movement.id), kind: kindName(movement.kind) }))) return;
    button.disabled = true;
    try {
      const undo = await api(`/movements/${movement.id}/reverse`, { method: "POST", headers: { "idempotency-key": idempotencyKey() } });
      say(message, t("history.reversed", { id: String(movement.id), undo: String(undo.id) }), "ok");
      pages.refresh();
    } catch (error) {
      button.disabled = false;
      say(message, error.message, "error");
    }
  }

  const rows = (items, answer) => {
    for (const [sku, p] of Object.entries(answer?.products ?? {})) products.set(sku, p);
    return table([
    ["#", (m) => String(m.id)],
    [t("history.when"), (m) => when(m.at)],
    [t("history.kind"), (m) => h("span", {}, kindName(m.kind),
      m.reverses ? h("div", { class: "muted" }, t("history.reverses", { id: String(m.reverses) })) : null,
      m.reversed_by ? h("div", { class: "muted" }, t("history.reversedBy", { id: String(m.reversed_by) })) : null)],
    [t("history.where"), (m) => m.location ?? `${m.from} → ${m.to}`],
    [t("history.lines"), lines],
    [t("history.reference"), (m) => [m.reference ?? "", m.note ? h("div", { class: "muted" }, m.note) : null]],
    [t("history.by"), (m) => m.actor],
    ["", (m) => {
      if (!staff || m.reversed_by || m.reverses) return "";
      const button = h("button", { type: "button", class: "secondary" }, t("history.reverse"));
      button.addEventListener("click", () => reverse(m, button));
      return button;
    }],
  ], items, { empty: t("history.none") });
  };
  const pages = paged(list, "/movements", query, rows);
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const address = new URLSearchParams(Object.entries(Object.fromEntries(new FormData(filters))).filter(([, v]) => v));
    history.replaceState(null, "", `?${address}`);
    pages.reload();
  });
  await pages.reload();
}
