// Back office: one quote (`/admin/quote?number=Q-…`): its customer, priced
// lines, totals and held stock, and for staff the steps open → accepted → fulfilled.
import { api, money } from "/assets/api.js";
import { busy, h, say, when } from "/assets/ui.js";
import { card, table } from "/assets/admin-kit.js";
import { contactCell, statusBadge } from "/assets/admin-quotes.js";

const measured = (m) => `${m.quantity} ${m.unit}`;

/** What staff may do to a quote in each status (the server has the last word). */
const ACTIONS = [
  { action: "accept", label: "Accept", progress: "Accepting…", from: ["open"], done: "accepted: it is now an order and keeps what it holds" },
  { action: "fulfil", label: "Fulfil", progress: "Fulfilling…", from: ["open", "accepted"], done: "fulfilled: its lines were shipped and its hold released",
    confirm: (n) => `Fulfil ${n}? This books the shipment of every line, from the held stock first.` },
  { action: "cancel", label: "Cancel quote", progress: "Cancelling…", from: ["open", "accepted"], done: "cancelled and its held stock released", danger: true,
    confirm: (n) => `Cancel ${n}? Its held stock is released and it cannot be reopened.` },
];

function lines(quote) {
  const m = (amount) => money(amount, quote.currency);
  return table([
    ["Product", (l) => h("div", {}, h("a", { href: `/admin/product?${new URLSearchParams({ sku: l.sku })}` }, l.name), h("div", { class: "muted mono" }, l.sku))],
    ["Requested", (l) => measured(l.requested), { num: true }],
    ["Sold", (l) => h("div", {}, measured(l.sold), l.pack_rounding ? h("div", { class: "muted" }, l.pack_rounding) : null), { num: true }],
    ["How", (l) => h("span", { class: "explain" }, l.explanation)],
    ["Unit price", (l) => `${m(l.unit_price)} / ${l.pricing.unit}`, { num: true }],
    ["Net", (l) => m(l.net), { num: true }],
    ["Tax", (l) => h("div", {}, m(l.tax), h("div", { class: "muted" }, `${l.tax_rate} %`)), { num: true }],
    ["Gross", (l) => m(l.gross), { num: true }],
  ], quote.lines, { caption: "Lines" });
}

function totals(quote) {
  const m = (amount) => money(amount, quote.currency);
  const rows = [...quote.totals.by_tax_class.map((c) => ({ ...c, label: `${c.tax_class} (${c.tax_rate} %)` })),
    { label: "Total", ...quote.totals }];
  return h("div", {},
    table([
      ["", (r) => (r.label === "Total" ? h("strong", {}, r.label) : r.label)],
      ["Net", (r) => m(r.net), { num: true }],
      ["Tax", (r) => m(r.tax), { num: true }],
      ["Gross", (r) => (r.label === "Total" ? h("strong", {}, m(r.gross)) : m(r.gross)), { num: true }],
    ], rows, { caption: "Totals" }),
    h("p", { class: "muted" }, quote.prices_include_tax ? "Prices were shown to the customer including tax." : "Prices were shown to the customer before tax."));
}

function holds(quote) {
  const unit = Object.fromEntries(quote.lines.map((l) => [l.sku, l.stock.unit]));
  const empty = quote.hold_stock ? "Nothing is held any more." : "This quote does not hold stock.";
  return table([
    ["SKU", (x) => h("span", { class: "mono" }, x.sku)],
    ["Location", (x) => h("span", { class: "mono" }, x.location)],
    ["Quantity", (x) => `${x.quantity} ${unit[x.sku] ?? ""}`.trim(), { num: true }],
  ], quote.holds, { empty, caption: "Held stock" });
}

/** The buttons for the steps the quote can take now; each redraws the page. */
function actions(quote, message, redraw) {
  if (quote.status === "open" && new Date(quote.valid_until) < new Date()) {
    return h("p", { class: "message info" }, "This quote's validity has passed: it will be marked expired and can no longer be accepted.");
  }
  const possible = ACTIONS.filter((a) => a.from.includes(quote.status));
  if (possible.length === 0) return null;
  return h("div", { class: "actions no-print" }, possible.map((a) => {
    const button = h("button", { type: "button", class: a.danger ? "danger" : a.action === "accept" ? null : "secondary" }, a.label);
    button.addEventListener("click", () => {
      if (a.confirm && !confirm(a.confirm(quote.number))) return;
      busy(button, a.progress, async () => {
        try {
          const next = await api(`/quotes/${encodeURIComponent(quote.number)}/${a.action}`, { method: "POST" });
          redraw(next, `${quote.number} ${a.done}.`);
        } catch (error) {
          say(message, error.message, "error");
        }
      });
    });
    return button;
  }));
}

function draw(main, quote, { staff, notice }) {
  const message = h("p", { class: "message", role: "status" });
  const redraw = (next, text) => draw(main, next, { staff, notice: text });
  const fact = (label, ...value) => h("tr", {}, h("th", { scope: "row" }, label), h("td", {}, ...value));
  const facts = h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {},
    fact("Customer", contactCell(quote.contact)),
    fact("Created", when(quote.created_at), quote.created_by ? ` by ${quote.created_by}` : ""),
    fact("Valid until", when(quote.valid_until)),
    fact("Last change", when(quote.updated_at)))));
  const link = quote.link
    ? h("p", {}, h("a", { href: quote.link, target: "_blank", rel: "noopener" }, "The customer's printable page"))
    : h("p", { class: "muted" }, "The customer's own link was given once, when the quote was saved; it is not kept.");
  const print = h("button", { type: "button", class: "secondary no-print" }, "Print this page");
  print.addEventListener("click", () => window.print());
  main.replaceChildren(...[
    h("p", { class: "no-print" }, h("a", { href: "/admin/quotes" }, "← All quotes")),
    h("h1", {}, `Quote ${quote.number} `, statusBadge(quote.status)),
    message,
    staff ? actions(quote, message, redraw) : null,
    card("Details", facts, link, h("div", { class: "actions" }, print)),
    card("Lines", lines(quote)),
    card("Totals", totals(quote)),
    card("Held stock", holds(quote)),
    quote.note ? card("Note", h("p", {}, quote.note)) : null,
  ].filter(Boolean));
  if (notice) say(message, notice, "ok");
}

export async function render(main, { staff }) {
  const number = new URLSearchParams(location.search).get("number");
  const back = h("p", {}, h("a", { href: "/admin/quotes" }, "← All quotes"));
  if (!number) {
    main.append(back, h("h1", {}, "Quote"), h("p", { class: "message error", role: "alert" }, "Which quote? Open one from the list of quotes."));
    return;
  }
  try {
    draw(main, await api(`/quotes/${encodeURIComponent(number)}`), { staff });
  } catch (error) {
    const text = error.status === 404 ? `There is no quote ${number}.` : error.message;
    main.replaceChildren(back, h("h1", {}, `Quote ${number}`), h("p", { class: "message error", role: "alert" }, text));
  }
}
