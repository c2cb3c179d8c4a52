// A product's stock on its back-office page: per location (on hand, reserved,
// available, in packs), one-click receive, transfer and count into the stock
// form, its recent movements, and the open and accepted quotes holding it.
import { api } from "/assets/api.js";
import { h, when } from "/assets/ui.js";
import { card, kindName, stockQuantity, table } from "/assets/admin-kit.js";
import { statusBadge } from "/assets/admin-quotes.js";
import { decimal, t } from "/assets/i18n.js";

/** A link into the stock form with the movement, location and product set. */
function bookLink(label, sku, kind, at) {
  const query = new URLSearchParams({ book: kind, add: sku });
  if (at) query.set("at", at);
  return h("a", { class: "button secondary", href: `/admin/stock?${query}` }, label);
}

function levels(stock, staff) {
  const { sku, unit } = stock;
  const actions = (at) => (staff
    ? h("div", { class: "actions" },
      bookLink(t("productStock.receive"), sku, "receive", at),
      bookLink(t("productStock.transfer"), sku, "transfer", at),
      bookLink(t("productStock.count"), sku, "adjust", at))
    : null);
  const rows = stock.locations.filter((r) => Number(r.on_hand) !== 0 || Number(r.reserved) !== 0);
  const totals = h("p", { id: "stock-totals" },
    t("productStock.totals", {
      onHand: stockQuantity(stock.totals.on_hand, unit),
      reserved: stockQuantity(stock.totals.reserved, unit),
      available: stockQuantity(stock.totals.available, unit),
    }),
    stock.totals.low ? [" ", h("span", { class: "badge", dataset: { status: "low" } }, t("stock.low"))] : null);
  return h("div", { class: "stack" },
    totals,
    table([
      [t("stock.location"), (r) => h("span", { class: "mono" }, r.location)],
      [t("stock.onHand"), (r) => stockQuantity(r.on_hand, unit, r.packs), { num: true }],
      [t("stock.reserved"), (r) => stockQuantity(r.reserved, unit), { num: true }],
      [t("stock.available"), (r) => stockQuantity(r.available, unit), { num: true }],
      ["", (r) => actions(r.location)],
    ], rows, { empty: t("productStock.none"), caption: t("productStock.perLocation") }),
    staff ? h("div", { class: "actions" }, bookLink(t("productStock.receiveNew"), sku, "receive")) : null);
}

function movements(sku, listing) {
  const line = (m) => m.lines.find((l) => l.sku === sku);
  return h("div", { class: "stack" },
    table([
      ["#", (m) => String(m.id)],
      [t("history.when"), (m) => when(m.at)],
      [t("history.kind"), (m) => kindName(m.kind)],
      [t("history.where"), (m) => m.location ?? `${m.from} → ${m.to}`],
      [t("stock.quantity"), (m) => {
        const l = line(m);
        return l ? `${decimal(l.quantity)} ${l.unit}` : "";
      }, { num: true }],
    ], listing.items, { empty: t("productStock.noMovements"), caption: t("productStock.movements") }),
    h("p", {}, h("a", { href: `/admin/history?${new URLSearchParams({ sku })}` }, t("productStock.allHistory"))));
}

function quotes(sku, unit, found) {
  const held = (q) => q.holds.filter((x) => x.sku === sku).reduce((sum, x) => sum + Number(x.quantity), 0);
  return table([
    [t("quotes.number"), (q) => h("a", { href: `/admin/quote?${new URLSearchParams({ number: q.number })}` }, q.number)],
    [t("quotes.customer"), (q) => q.contact.name],
    ["", (q) => statusBadge(q.status)],
    [t("productStock.held"), (q) => (held(q) ? stockQuantity(String(held(q)), unit) : "—"), { num: true }],
    [t("quote.validUntil"), (q) => when(q.valid_until)],
  ], found, { empty: t("productStock.noQuotes"), caption: t("productStock.quotes") });
}

/** The card, filled in as its three reads answer. */
export function stockCard(sku, { staff }) {
  const body = h("div", { id: "product-stock", class: "stack", "aria-busy": "true" }, h("p", { class: "muted" }, t("common.loading")));
  const box = card(t("productStock.title"), body);
  const query = (status) => api("/quotes", { query: { sku, status, limit: 50 } }).then((a) => a.items);
  Promise.all([
    api(`/products/${encodeURIComponent(sku)}/stock`),
    api("/movements", { query: { sku, limit: 8 } }),
    Promise.all([query("open"), query("accepted")]).then(([open, accepted]) => [...open, ...accepted]),
  ]).then(([stock, moved, held]) => {
    body.replaceChildren(
      levels(stock, staff),
      h("h3", {}, t("productStock.movements")), movements(sku, moved),
      h("h3", {}, t("productStock.quotes")), quotes(sku, stock.unit, held));
  }).catch((error) => {
    body.replaceChildren(h("p", { class: "message error", role: "alert" }, t("productStock.failed", { error: error.message })));
  }).finally(() => body.removeAttribute("aria-busy"));
  return box;
}
