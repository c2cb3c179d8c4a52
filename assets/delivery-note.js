// The printable delivery note (`/delivery-notes/{number}/{n}`: A4, or
// `?paper=80mm` for a receipt printer), drawn by the server in English with
// the API's numbers: its words in the shop's language, quantities as the
// shop's locale writes them ("2,96 t"), the time of the delivery in the
// reader's time zone (the server writes it in UTC), and its print link (no
// inline handlers: the CSP forbids them). On a phone an A4 note's lines are
// labelled cards, so the page never scrolls sideways.
import { shop } from "/assets/api.js";
import { dateTime, decimal, localize, t } from "/assets/i18n.js";
import { stackTables } from "/assets/ui.js";

for (const link of document.querySelectorAll("[data-print]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    window.print();
  });
}

const info = await shop().catch(() => null);
await localize(info);

const page = document.querySelector("main.quote.note");
const text = (el) => el?.textContent.trim() ?? "";
const quote = page?.dataset.quote ?? "";
const number = quote && page?.dataset.delivery ? `${quote}/${page.dataset.delivery}` : "";

// The heading and the page's title: "Delivery note Q-2026-0001/2".
const heading = page?.querySelector(".meta h2");
if (heading && number) heading.textContent = t("deliveryNote.heading", { number });
if (number) document.title = t("deliveryNote.pageTitle", { number, shop: text(page.querySelector("header h1")) });

// "Date: 2026-12-07 14:05" (UTC) and "Quote: Q-…".
const meta = page?.querySelector(".meta p");
if (meta) {
  const said = [...meta.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent);
  const made = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})/.exec(said.find((l) => /^\s*Date:/.test(l)) ?? "");
  const parts = [];
  if (made) parts.push(t("deliveryNote.date", { date: dateTime(`${made[1]}T${made[2]}:00Z`) }), document.createElement("br"));
  if (quote) parts.push(t("deliveryNote.quote", { number: quote }));
  if (parts.length) meta.replaceChildren(...parts);
}

// Who it is for: the company, the contact, and "Deliver to AB1 4QS".
const to = page?.querySelector(".to");
const toHeading = to?.querySelector("h3");
if (toHeading) toHeading.textContent = t("quotePage.for");
for (const node of to?.querySelector("p")?.childNodes ?? []) {
  const where = node.nodeType === Node.TEXT_NODE ? /^\s*Deliver to (.+?)\s*$/.exec(node.textContent) : null;
  if (where) node.textContent = t("deliveryNote.deliverTo", { postcode: where[1] });
}

// The load's details, each "<span>Vehicle:</span> Tipper KX19".
const LABELS = {
  Vehicle: "deliveryNote.vehicle",
  Driver: "deliveryNote.driver",
  Reference: "deliveryNote.reference",
  Note: "deliveryNote.note",
};
for (const label of page?.querySelectorAll(".details p > span:first-child") ?? []) {
  const key = LABELS[text(label).replace(/:$/, "")];
  if (key) {
    label.textContent = t(key);
    label.parentElement.dataset.detail = key.split(".")[1];
  }
}

const table = page?.querySelector("table");
const heads = [t("quotePage.product"), t("deliveryNote.delivered"), t("deliveryNote.outstanding")];
table?.querySelectorAll("thead th").forEach((th, i) => {
  if (heads[i]) th.textContent = heads[i];
});

/** A quantity as the locale writes it, kept on one line on a narrow receipt: "2,96 t". */
const quantity = (value, unit) => `${decimal(value)}\u00a0${unit}`;

// "3 t", "3 t (3000 kg)": as the locale writes them.
const MEASURE = /^(-?\d+(?:\.\d+)?) (\S+)$/;
const ENTERED = /^(-?\d+(?:\.\d+)?) (\S+) \((-?\d+(?:\.\d+)?) (\S+)\)$/;
function localQuantity(said) {
  const plain = MEASURE.exec(said);
  if (plain) return quantity(plain[1], plain[2]);
  const entered = ENTERED.exec(said);
  if (entered) return `${quantity(entered[1], entered[2])} (${quantity(entered[3], entered[4])})`;
  return null;
}

for (const tr of table?.querySelectorAll("tbody tr") ?? []) {
  const sku = tr.querySelector(".sku");
  const line = /^(.+) · line (\d+)$/.exec(text(sku));
  if (line) sku.textContent = t("deliveryNote.line", { sku: line[1], line: line[2] });
  const actual = tr.querySelector(".actual");
  const left = /^Actually delivered: (-?\d+(?:\.\d+)?) (\S+)$/.exec(text(actual));
  if (left) actual.textContent = t("deliveryNote.actual", { quantity: quantity(left[1], left[2]) });
  for (const td of tr.querySelectorAll("td.num")) {
    const shown = localQuantity(text(td));
    if (shown) td.textContent = shown;
  }
}

const sign = page?.querySelector(".sign p");
if (sign) sign.textContent = t("deliveryNote.sign");

for (const link of page?.querySelectorAll(".print a") ?? []) {
  const href = link.getAttribute("href");
  if (link.hasAttribute("data-print")) link.textContent = t("deliveryNote.print");
  else if (href === "?paper=80mm") link.textContent = t("deliveryNote.receipt");
  else if (href === "?paper=a4") link.textContent = t("deliveryNote.a4");
  else link.textContent = t("deliveryNote.back");
}

// A4 on a phone: the lines as labelled cards. A receipt's narrow table fits as it is.
if (table && document.body.classList.contains("paper-a4")) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  table.before(wrap);
  wrap.append(table);
  stackTables(table);
}

// Drawn in the shop's words: for a test, or a script that prints it.
page?.setAttribute("data-drawn", "");
