// The customer's quote page (drawn by the server, in English, with the API's
// numbers): its words in the shop's language, amounts in the shop's currency
// style as the storefront writes them ("€182.40", "182,40 €", not "182.40
// EUR"), quantities and dates as the shop's locale writes them, the status in
// a customer's words, its print link (no inline handlers: the CSP forbids
// them), on a phone the lines as labelled cards, so the page never scrolls
// sideways, and, just after the quote was requested, that its link was e-mailed.
// A line priced by the customer's price list says which rule and what it saved.
// A trade contact's printable quote (`/account/quotes/{number}`) points back to
// their account instead.
import { api, shop } from "/assets/api.js";
import { explainDelivery } from "/assets/delivery.js";
import { date, decimal, localNumbers, localize, money, percent, t, tx } from "/assets/i18n.js";
import { ruleNote } from "/assets/list-price.js";
import { stackTables } from "/assets/ui.js";

for (const link of document.querySelectorAll("[data-print]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    window.print();
  });
}

const info = await shop().catch(() => null);
await localize(info);

const page = document.querySelector("main.quote");
const text = (el) => el?.textContent.trim() ?? "";
const DAY = /\d{4}-\d{2}-\d{2}/;

// The heading and the page's title: "Quote Q-2026-0001".
const heading = page?.querySelector(".meta h2");
const number = /(\S+)$/.exec(text(heading))?.[1] ?? "";
if (heading && number) heading.textContent = t("quotePage.heading", { number });
const shopName = page?.querySelector("header h1");
if (number) document.title = t("quotePage.pageTitle", { number, shop: text(shopName) });

/** What each status means to the customer; `{valid}` is the validity date. */
function statusWords(status, valid) {
  return {
    open: () => (valid ? t("quotePage.status.open", { valid }) : t("quotePage.status.openUndated")),
    accepted: () => t("quotePage.status.accepted"),
    fulfilled: () => t("quotePage.status.fulfilled"),
    expired: () => t("quotePage.status.expired"),
    cancelled: () => t("quotePage.status.cancelled"),
  }[status]?.() ?? status;
}

// "Date: …", "Valid until: …", "Status: open": the date, and the status in
// words (an open quote's saying until when it is valid).
const meta = page?.querySelector(".meta p");
let valid = "";
if (meta) {
  const lines = [...meta.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent);
  const made = DAY.exec(lines.find((l) => /^\s*Date:/.test(l)) ?? "")?.[0];
  valid = DAY.exec(lines.find((l) => /^\s*Valid until:/.test(l)) ?? "")?.[0] ?? "";
  const strong = meta.querySelector("strong[class^='status-']");
  const status = strong?.className.slice("status-".length) ?? "";
  const parts = [];
  if (made) parts.push(t("quotePage.date", { date: date(made) }), document.createElement("br"));
  if (valid && status !== "open") parts.push(t("quotePage.validUntil", { date: date(valid) }), document.createElement("br"));
  if (strong) {
    strong.textContent = statusWords(status, valid && date(valid));
    parts.push(strong);
  }
  if (parts.length) meta.replaceChildren(...parts);
}

const to = page?.querySelector(".to h3");
if (to) to.textContent = t("quotePage.for");

const table = page?.querySelector("table");
const heads = [t("quotePage.product"), t("quotePage.quantity"), t("quotePage.price"), t("quotePage.net"), t("quotePage.tax"), t("quotePage.total")];
table?.querySelectorAll("thead th").forEach((th, i) => {
  if (heads[i]) th.textContent = heads[i];
});

// "182.40 EUR" → "€182.40"; unit prices ("38.00 / t") take the same currency;
// quantities ("4.8 t") and rates ("20%") as the locale writes them.
const AMOUNT = /^(-?\d+(?:\.\d+)?) ([A-Z]{3})$/;
const UNIT_PRICE = /^(-?\d+(?:\.\d+)?) \/ (.+)$/;
const MEASURE = /^(-?\d+(?:\.\d+)?) (\S+)$/;
const RATE = /^(-?\d+(?:\.\d+)?)%$/;
const cells = [...(table?.querySelectorAll("td.num") ?? [])];
const currency = cells.map((td) => AMOUNT.exec(text(td))?.[2]).find(Boolean);

/** The delivery row's first cell: "Delivery to AB1 2CD" (its working out
 *  under it) or "Collected by the customer", in the shop's words. */
function deliveryCell(tr, cell) {
  const said = cell.firstChild?.nodeType === Node.TEXT_NODE ? cell.firstChild : null;
  const to = /^\s*Delivery to (.+?)\s*$/.exec(said?.textContent ?? "");
  if (said && to) said.textContent = t("delivery.to", { postcode: to[1] });
  else if (said && tr.classList.contains("collection")) said.textContent = t("delivery.collected");
  const how = cell.querySelector(".how");
  if (how) how.textContent = explainDelivery({ method: "delivery", explanation: text(how) }, currency);
}

for (const tr of table?.querySelectorAll("tbody tr") ?? []) {
  const [firstCell, quantityCell, priceCell, , rateCell] = tr.cells;
  if (tr.classList.contains("delivery")) deliveryCell(tr, firstCell);
  // "How" repeats the quantity when nothing was converted ("500 pc"): left out.
  const how = tr.classList.contains("delivery") ? null : tr.querySelector(".how");
  if (how && text(how) === text(quantityCell)) how.remove();
  else if (how) how.textContent = localNumbers(how.textContent);
  const measure = MEASURE.exec(text(quantityCell));
  if (measure && !AMOUNT.test(text(quantityCell))) quantityCell.textContent = `${decimal(measure[1])} ${measure[2]}`;
  const price = UNIT_PRICE.exec(text(priceCell));
  if (price && currency) priceCell.textContent = t("format.perUnit", { price: money(price[1], currency), unit: price[2] });
  const rate = RATE.exec(text(rateCell));
  if (rate) rateCell.textContent = percent(rate[1]);
}
for (const td of cells) {
  const amount = AMOUNT.exec(text(td));
  if (amount) td.textContent = money(amount[1], amount[2]);
}
// The rule and the saving of each line a price list priced: the page has
// only the prices, the quote itself (by the same link) has how they came.
// A trade contact's own quote (`/account/quotes/{number}`) is read from their account.
const link = /^\/q\/([^/]+)$/.exec(location.pathname)?.[1];
const own = /^\/account\/quotes\/([^/]+)$/.exec(location.pathname)?.[1];
const priced = link
  ? await api(`/quotes/link/${encodeURIComponent(decodeURIComponent(link))}`).catch(() => null)
  : own ? await api(`/account/quotes/${encodeURIComponent(decodeURIComponent(own))}`).catch(() => null) : null;
for (const line of priced?.lines ?? []) {
  const note = ruleNote(line.list_price, priced.currency);
  if (!note) continue;
  const row = [...(table?.querySelectorAll("tbody tr:not(.delivery)") ?? [])].find((tr) => text(tr.querySelector(".sku")) === line.sku);
  const rule = document.createElement("div");
  rule.className = "rule";
  rule.textContent = note;
  row?.cells[0].append(rule);
}

const totalLabel = table?.querySelector("tfoot td");
if (totalLabel) totalLabel.textContent = t("quotePage.total");

// "Prices are net; tax is added per line. This quote is valid until …"
const note = page?.querySelector("p.note");
if (note) {
  const gross = /Prices include tax/.test(text(note));
  const until = DAY.exec(text(note))?.[0] ?? valid;
  note.textContent = [
    gross ? t("quotePage.pricesGross") : t("quotePage.pricesNet"),
    until ? t("quotePage.validNote", { date: date(until) }) : "",
  ].filter(Boolean).join(" ");
}

const keep = page?.querySelector("p.keep");
if (keep && own) {
  const account = document.createElement("a");
  account.href = "/account";
  account.textContent = t("quotePage.accountLink");
  keep.replaceChildren(...tx("quotePage.keepAccount", { account }));
} else if (keep) {
  keep.textContent = t("quotePage.keep");
}

// Just requested from the quote list (quote-list.js), its link e-mailed to the
// customer: said once, above the advice to keep the address.
const mailedKey = `quarry.quote-mailed.${number}`;
let mailed = null;
try {
  mailed = sessionStorage.getItem(mailedKey);
  sessionStorage.removeItem(mailedKey);
} catch {
  // No storage: nothing was kept to say.
}
if (keep && mailed) {
  const said = document.createElement("p");
  said.className = "mailed";
  said.setAttribute("role", "status");
  said.textContent = t("quotePage.mailed", { to: mailed });
  keep.before(said);
}

const links = page?.querySelectorAll(".print a") ?? [];
for (const link of links) {
  if (link.hasAttribute("data-print")) link.textContent = t("quotePage.print");
  else if (link.getAttribute("href") === "/") link.textContent = t("quotePage.back");
}

for (const each of document.querySelectorAll(".quote table")) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  each.before(wrap);
  wrap.append(each);
  stackTables(each);
}
