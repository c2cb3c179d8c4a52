// The quote list: the lines the customer collected, priced live by the
// server, and the request that saves them as a quote.
import { api, idempotencyKey, money, shop } from "/assets/api.js";
import { brand, busy, clearErrors, debounce, h, say, showError, stackTables, thumbnail } from "/assets/ui.js";
import * as basket from "/assets/quote-basket.js";
import { localNumbers, localize, readNumber, t, toInput } from "/assets/i18n.js";

const tbody = document.querySelector("#lines tbody");
const linesMessage = document.getElementById("lines-message");
const form = document.getElementById("request");
const requestMessage = document.getElementById("request-message");
const send = document.getElementById("send");
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

function markLine(error) {
  const match = /^lines\[(\d+)\]/.exec(error.field ?? "");
  for (const tr of tbody.querySelectorAll("tr")) tr.querySelector("input")?.removeAttribute("aria-invalid");
  if (match) tbody.children[Number(match[1])]?.querySelector("input")?.setAttribute("aria-invalid", "true");
}

async function price() {
  const lines = requested();
  if (lines.length === 0) return;
  try {
    const estimate = await api("/quote/estimate", { method: "POST", body: { lines } });
    estimate.lines.forEach((line, i) => {
      const tr = tbody.children[i];
      if (!tr) return;
      // "500 pc" for 500 pc says nothing: only what was worked out is shown.
      const wanted = line.requested ?? line.sold;
      const plain = !line.pack_rounding && line.explanation.trim() === `${wanted.quantity} ${wanted.unit}`;
      tr.querySelector(".explain").textContent = plain ? "" : localNumbers(line.explanation + (line.pack_rounding ? ` — ${line.pack_rounding}` : ""));
      tr.querySelector(".net").textContent = money(line.net, estimate.currency);
      tr.querySelector(".gross").textContent = money(line.gross, estimate.currency);
    });
    document.getElementById("sum-net").textContent = money(estimate.totals.net, estimate.currency);
    document.getElementById("sum-gross").textContent = money(estimate.totals.gross, estimate.currency);
    markLine({});
    say(linesMessage, "");
  } catch (error) {
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
  price();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const data = new FormData(form);
  const text = (name) => String(data.get(name) ?? "").trim() || null;
  const body = {
    lines: requested(),
    contact: { name: text("name") ?? "", email: text("email"), phone: text("phone") },
    note: text("note"),
  };
  say(requestMessage, t("quoteList.saving"), "info");
  try {
    const quote = await busy(send, t("common.saving"), () =>
      api("/quotes", { method: "POST", body, headers: { "idempotency-key": key } }));
    basket.clear();
    location.assign(quote.link);
  } catch (error) {
    if (error.field?.startsWith("lines")) markLine(error);
    showError(form, requestMessage, error);
  }
});

basket.showCount(document.getElementById("basket-count"));
const info = await shop().catch(() => null);
await localize(info);
if (info) brand(info);
// On a phone each line is a card, its cells labelled with their column.
stackTables(document.getElementById("lines"));
draw();
