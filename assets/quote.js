// The customer's quote page (drawn by the server): its print link (no inline
// handlers: the CSP forbids them), amounts in the shop's currency style as the
// storefront writes them ("€182.40", not "182.40 EUR"), the status in a
// customer's words, and on a phone the lines as labelled cards, so the page
// never scrolls sideways.
import { money } from "/assets/api.js";
import { stackTables } from "/assets/ui.js";

for (const link of document.querySelectorAll("[data-print]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    window.print();
  });
}

// "182.40 EUR" → "€182.40"; unit prices ("38.00 / t") take the same currency.
const AMOUNT = /^(-?\d+(?:\.\d+)?) ([A-Z]{3})$/;
const UNIT_PRICE = /^(-?\d+(?:\.\d+)?) \/ (.+)$/;
const cells = [...document.querySelectorAll(".quote td.num")];
const currency = cells.map((td) => AMOUNT.exec(td.textContent.trim())?.[2]).find(Boolean);
if (currency) {
  for (const td of cells) {
    const text = td.textContent.trim();
    const amount = AMOUNT.exec(text);
    const price = UNIT_PRICE.exec(text);
    if (amount) td.textContent = money(amount[1], amount[2]);
    else if (price) td.textContent = `${money(price[1], currency)} / ${price[2]}`;
  }
}

// "How" repeats the quantity when nothing was converted ("500 pc"): left out.
for (const tr of document.querySelectorAll(".quote tbody tr")) {
  const how = tr.querySelector(".how");
  const quantity = tr.querySelector("td.num")?.textContent.trim();
  if (how && quantity && how.textContent.trim() === quantity) how.remove();
}

/** What each status means to the customer; `{valid}` is the validity date. */
const STATUS = {
  open: "Open — valid until {valid}",
  accepted: "Accepted — we are preparing your order",
  fulfilled: "Completed — delivered or collected",
  expired: "Expired — ask us for a new quote",
  cancelled: "Cancelled",
};
const status = document.querySelector(".quote .meta strong[class^='status-']");
const words = status && STATUS[status.className.slice("status-".length)];
if (words) {
  // The lines before it read "Date: …", "Valid until: …", "Status: ".
  const nodes = [...status.parentElement.childNodes];
  const label = status.previousSibling;
  const validLine = nodes.find((n) => n.nodeType === Node.TEXT_NODE && /^\s*Valid until:/.test(n.textContent));
  const valid = validLine?.textContent.replace(/^\s*Valid until:\s*/, "").trim() ?? "";
  if (label?.nodeType === Node.TEXT_NODE && /Status:\s*$/.test(label.textContent)) {
    label.textContent = label.textContent.replace(/Status:\s*$/, "");
  }
  if (words.includes("{valid}") && validLine && valid) {
    // Said in the status line: the separate line (and its line break) goes.
    if (validLine.nextSibling?.nodeName === "BR") validLine.nextSibling.remove();
    validLine.remove();
    status.textContent = words.replace("{valid}", valid);
  } else {
    status.textContent = words.replace(" — valid until {valid}", "");
  }
}

for (const table of document.querySelectorAll(".quote table")) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  table.before(wrap);
  wrap.append(table);
  stackTables(table);
}
