// The quote list: the lines the customer collected, priced live by the
// server with the delivery chosen (collection, or delivery to a postcode),
// and the request that saves them as a quote.
import { api, idempotencyKey, money, shop } from "/assets/api.js";
import { brand, busy, clearErrors, debounce, h, say, showError, stackTables, thumbnail } from "/assets/ui.js";
import * as basket from "/assets/quote-basket.js";
import { deliveryChoice, deliveryRefusal, estimateDelivered, explainDelivery, isDeliveryError } from "/assets/delivery.js";
import { decimal, localNumbers, localize, readNumber, t, toInput } from "/assets/i18n.js";
import { accountLink } from "/assets/account-link.js";
import { ruleNote } from "/assets/list-price.js";

const tbody = document.querySelector("#lines tbody");
const linesMessage = document.getElementById("lines-message");
const form = document.getElementById("request");
const requestMessage = document.getElementById("request-message");
const send = document.getElementById("send");
const postcode = document.getElementById("delivery").elements.postcode;
// One key per filled-in request: a retry after a lost answer books nothing twice.
let key = idempotencyKey();

function row(line, index) {
  const quantity = h("input", {
    name: "quantity", class: "qty", value: toInput(line.quantity), inputmode: "decimal", maxlength: "24",
    "aria-label": t("quoteList.quantityOf", { name: line.name ?? line.sku }),
  });
  quantity.addEventListener("input", debounce(() => {
    // Read the shop's way ("2,5" in de-DE); kept in the list as the API writes it.
    const read = readNumber(quantity.value);
    if (read.error) {
      quantity.setAttribute("aria-invalid", "true");
      say(linesMessage, read.error, "error");
      return;
    }
    basket.update(index, { quantity: read.value });
    key = idempotencyKey();
    price();
  }, 300));
  const remove = h("button", { type: "button", class: "secondary", "aria-label": t("quoteList.removeOne", { name: line.name ?? line.sku }) }, t("quoteList.remove"));
  remove.addEventListener("click", () => {
    basket.remove(index);
    key = idempotencyKey();
    draw();
    // The list is redrawn without this button: focus the next line's (or the
    // previous one's), or the way back to the catalogue when the list is empty.
    const buttons = tbody.querySelectorAll("button");
    (buttons[index] ?? buttons[index - 1] ?? document.querySelector("#empty a"))?.focus();
  });
  return h("tr", { class: "line", dataset: { index: String(index) } },
    h("td", {}, h("div", { class: "line-product" },
      // Lines added before the list kept photos have none to show.
      "image" in line ? thumbnail(line.image, "line-photo") : null,
      h("div", {}, h("a", { href: `/p/${encodeURIComponent(line.sku)}` }, line.name ?? line.sku), h("div", { class: "muted mono" }, line.sku)))),
    h("td", {}, h("div", { class: "row nowrap" }, quantity, h("span", {}, line.unit))),
    h("td", { class: "explain" }),
    h("td", { class: "num net" }),
    h("td", { class: "num gross" }),
    h("td", {}, remove));
}

/** The lines as the API takes them. */
function requested() {
  return basket.lines().map((l) => ({ sku: l.sku, quantity: l.quantity, unit: l.unit }));
}

/** The list's last row: how the goods reach the customer and what that
 *  costs, from the estimate's `delivery` (none: no row). */
function deliveryRow(delivery, currency) {
  if (!delivery) return null;
  const collected = delivery.method === "collection";
  const what = collected
    ? h("td", {}, h("strong", {}, t("delivery.collected")))
    : h("td", {}, h("strong", {}, t("delivery.to", { postcode: delivery.postcode })),
      delivery.zone_name ? h("div", { class: "muted zone" }, delivery.zone_name) : null);
  return h("tr", { class: `delivery${collected ? " collection" : ""}`, id: "delivery-line" },
    what,
    h("td", {}, collected ? "" : t("quoteList.loads", { count: delivery.loads, tonnes: decimal(delivery.tonnes) })),
    h("td", { class: "explain" }, explainDelivery(delivery, currency)),
    h("td", { class: "num net" }, money(delivery.net, currency)),
    h("td", { class: "num gross" }, money(delivery.gross, currency)),
    h("td", {}));
}

/** Shows the delivery row of `estimate` (or none) after the lines. */
function showDelivery(estimate) {
  tbody.querySelector("tr.delivery")?.remove();
  const row = deliveryRow(estimate?.delivery, estimate?.currency);
  if (row) tbody.append(row);
}

function markLine(error) {
  const match = /^lines\[(\d+)\]/.exec(error.field ?? "");
  for (const tr of tbody.querySelectorAll("tr")) tr.querySelector("input")?.removeAttribute("aria-invalid");
  if (match) tbody.children[Number(match[1])]?.querySelector("input")?.setAttribute("aria-invalid", "true");
}

// Each pricing has its number: an answer to an earlier one, come late, is not shown.
let pricings = 0;

async function price() {
  const lines = requested();
  if (lines.length === 0) return;
  const pricing = ++pricings;
  try {
    // Not delivered there: the lines are priced all the same, without it.
    const { estimate, refused } = await estimateDelivered(lines, delivery.request());
    if (pricing !== pricings) return;
    delivery.note(refused ? deliveryRefusal(refused) : "");
    estimate.lines.forEach((line, i) => {
      const tr = tbody.children[i];
      if (!tr) return;
      // "500 pc" for 500 pc says nothing: only what was worked out is shown.
      const wanted = line.requested ?? line.sold;
      const plain = !line.pack_rounding && line.explanation.trim() === `${wanted.quantity} ${wanted.unit}`;
      // A trade contact's line priced at their list: the rule and what it saves.
      const rule = ruleNote(line.list_price, estimate.currency);
      tr.querySelector(".explain").replaceChildren(...[
        plain ? null : localNumbers(line.explanation + (line.pack_rounding ? ` — ${line.pack_rounding}` : "")),
        rule ? h("div", { class: "rule" }, rule) : null,
      ].filter(Boolean));
      tr.querySelector(".net").textContent = money(line.net, estimate.currency);
      tr.querySelector(".gross").textContent = money(line.gross, estimate.currency);
    });
    document.getElementById("sum-net").textContent = money(estimate.totals.net, estimate.currency);
    document.getElementById("sum-gross").textContent = money(estimate.totals.gross, estimate.currency);
    showDelivery(estimate);
    markLine({});
    say(linesMessage, "");
  } catch (error) {
    if (pricing !== pricings) return;
    showDelivery(null);
    markLine(error);
    say(linesMessage, error.message, "error");
  }
}

function draw() {
  const lines = basket.lines();
  tbody.replaceChildren(...lines.map(row));
  document.getElementById("empty").hidden = lines.length > 0;
  document.getElementById("lines").hidden = lines.length === 0;
  document.getElementById("request-box").hidden = lines.length === 0;
  document.getElementById("delivery-box").hidden = lines.length === 0;
  price();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const data = new FormData(form);
  const text = (name) => String(data.get(name) ?? "").trim() || null;
  // A postcode typed a moment ago counts, though the list was not priced with it yet.
  delivery.choose();
  const chosen = delivery.request();
  if (delivery.choice()?.method === "delivery" && !chosen) {
    delivery.note(t("quoteList.postcodeNeeded"));
    say(requestMessage, t("quoteList.postcodeNeeded"), "error");
    postcode.focus();
    return;
  }
  const body = {
    lines: requested(),
    ...(chosen ? { delivery: chosen } : {}),
    contact: { name: text("name") ?? "", email: text("email"), phone: text("phone") },
    note: text("note"),
  };
  say(requestMessage, t("quoteList.saving"), "info");
  try {
    const quote = await busy(send, t("common.saving"), () =>
      api("/quotes", { method: "POST", body, headers: { "idempotency-key": key } }));
    basket.clear();
    // The quote's page says, once, that its link was e-mailed too (quote.js).
    try {
      if (quote.mail?.state === "queued") sessionStorage.setItem(`quarry.quote-mailed.${quote.number}`, quote.mail.to);
    } catch {
      // No storage: the page is shown without saying so.
    }
    location.assign(quote.link);
  } catch (error) {
    if (isDeliveryError(error)) {
      delivery.note(deliveryRefusal(error));
      say(requestMessage, deliveryRefusal(error), "error");
      postcode.focus();
      return;
    }
    if (error.field?.startsWith("lines")) markLine(error);
    showError(form, requestMessage, error);
  }
});

basket.showCount(document.getElementById("basket-count"));
const info = await shop().catch(() => null);
await localize(info);
if (info) brand(info);
// A trade contact signed in: the quote is their company's (the server files it
// so), and their name and address are filled in.
accountLink().then((account) => {
  if (!account) return;
  const note = document.getElementById("account-note");
  note.textContent = t("quoteList.forAccount", { customer: account.customer.name });
  note.hidden = false;
  if (!form.elements.name.value) form.elements.name.value = account.contact.name;
  if (!form.elements.email.value) form.elements.email.value = account.contact.login;
});
// On a phone each line is a card, its cells labelled with their column.
stackTables(document.getElementById("lines"));
// Collection or delivery to a postcode, kept in this browser (and chosen on a
// product's page too): a new choice prices the list again.
const delivery = deliveryChoice(document.getElementById("delivery"), {
  field: document.getElementById("postcode-field"),
  note: document.getElementById("postcode-note"),
  onChoose() {
    say(requestMessage, "");
    key = idempotencyKey();
    price();
  },
});
draw();
