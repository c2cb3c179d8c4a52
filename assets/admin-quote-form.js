// Back office: a new quote for a caller (`/admin/quotes?new=1`), for staff
// taking an order on the phone: the customer's contact, lines found by typing
// a product's name or SKU (a combobox, as on the stock page), each in one of
// the product's units, priced live by the server with the delivery chosen,
// stock held at one location if asked, and a note. Saved once (one
// idempotency key a form), it opens the quote's page with the customer's link.
// The same form changes an open quote (`/admin/quotes?edit=Q-…`): filled in
// from the quote, saved with PUT (today's prices, valid anew, held again as
// the form says), it returns to the quote's page, which says it was changed.
// A quote for a trade customer (chosen, or preset from `?customer=…`) is
// priced at their price list, each line priced by a rule saying which and
// what it saved.
import { api, idempotencyKey, money } from "/assets/api.js";
import { busy, debounce, h, markMissing, say, showError } from "/assets/ui.js";
import { card } from "/assets/admin-kit.js";
import { deliveryRefusal, explainDelivery, isDeliveryError } from "/assets/delivery.js";
import { localNumbers, readNumber, t, toInput } from "/assets/i18n.js";
import { ruleNote } from "/assets/list-price.js";
import { productCombobox } from "/assets/product-combobox.js";

/** The trade customers a quote may be for: the active ones, in code order (none when they cannot be read). */
export async function activeCustomers() {
  const found = [];
  let cursor = "";
  try {
    // A few pages at most: a shop's trade accounts, not its walk-in callers.
    for (let page = 0; page < 20; page += 1) {
      const answer = await api("/customers", { query: { limit: 200, cursor } });
      found.push(...answer.items.filter((c) => c.active));
      if (!answer.next_cursor) break;
      cursor = answer.next_cursor;
    }
  } catch {
    // No customers to choose: the quote is at list prices, as before.
  }
  return found;
}

/** The units a line of `product` may be asked in: its stock unit, pricing unit and packs. */
function unitsOf(product) {
  return [...new Set([product.unit, product.pricing_unit, ...(product.packs ?? []).map((p) => p.name)].filter(Boolean))];
}

/**
 * The product box (product-combobox.js): a product picked from the list, or
 * the SKU typed when Enter is pressed with nothing highlighted, goes to `onPick(sku)`.
 */
function productPicker(onPick) {
  const input = h("input", {
    id: "product-search", autocomplete: "off", maxlength: "64", placeholder: t("newQuote.findPlaceholder"),
    role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "product-options",
  });
  const choices = h("ul", { id: "product-options", role: "listbox", "aria-labelledby": "product-search-label", hidden: true });
  const matches = h("p", { class: "visually-hidden", role: "status" });
  const combo = productCombobox({
    input, listbox: choices, status: matches, optionId: "product-option",
    matches: (count) => t("newQuote.matches", { count }),
    noMatch: () => t("newQuote.noMatch"),
    onPick,
    onEnter: () => {
      const code = input.value.trim();
      if (code) combo.take(code);
    },
  });
  const el = h("div", { class: "combo" },
    h("label", {}, h("span", { id: "product-search-label" }, t("newQuote.find")), input), choices, matches);
  return { el, input };
}

/** The address of a quote's back-office page. */
export function quotePage(number) {
  return `/admin/quote?${new URLSearchParams({ number })}`;
}

/** Why the server refused to change a quote (409), in the page's words. */
function changeRefusal(error) {
  if (error.code === "quote_status") return t("changeQuote.notOpen");
  if (error.code === "quote_expired") return t("changeQuote.expired");
  return error.message;
}

/**
 * A refusal naming a part of a line the form has no box for
 * (`lines[1].sku`) is said at that line's quantity.
 */
function atItsLine(form, error) {
  const field = error?.field;
  if (!field?.startsWith("lines[") || form.querySelector(`[name="${CSS.escape(field)}"]`)) return error;
  const quantity = field.replace(/\].*$/, "].quantity");
  return form.querySelector(`[name="${CSS.escape(quantity)}"]`) ? { message: error.message, field: quantity } : error;
}

/**
 * The form changing the open quote `quote` (as GET /quotes/{number} answers
 * it), filled in from it: each line's product is looked up for its units
 * (a product no longer found keeps the unit the line asked in).
 */
export async function changeQuoteForm(locations, currency, quote, customers = []) {
  const products = await Promise.all(quote.lines.map((line) =>
    api(`/products/${encodeURIComponent(line.sku)}`).catch(() => ({ sku: line.sku, name: line.name, unit: line.requested.unit }))));
  return newQuoteForm(locations, currency, { quote, products, customers, customer: quote.customer ?? null });
}

/**
 * The new-quote form, on `main`; `locations` are the active ones to hold
 * stock at. With `quote` (and its lines' `products`), the form changing it.
 * `customers` are the trade customers to choose from, `customer` the one
 * chosen to begin with.
 */
export function newQuoteForm(locations, currency, { quote = null, products = [], customers = [], customer = null } = {}) {
  const m = (amount) => money(amount, currency);
  const editing = quote !== null;
  const message = h("p", { id: "new-quote-message", class: "message", role: "alert" });
  const linesMessage = h("p", { class: "message", role: "status" });
  const tbody = h("tbody");
  const lines = h("table", { id: "quote-lines" },
    h("caption", { class: "visually-hidden" }, t("newQuote.lines")),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("newQuote.product")),
      h("th", { scope: "col" }, t("newQuote.quantity")),
      h("th", { scope: "col" }, t("newQuote.unit")),
      h("th", { scope: "col" }, t("newQuote.how")),
      h("th", { scope: "col", class: "num" }, t("newQuote.net")),
      h("th", { scope: "col", class: "num" }, t("newQuote.gross")),
      h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("newQuote.remove"))))),
    tbody);
  const noLines = h("p", { class: "muted" }, t("newQuote.noLines"));
  const picker = productPicker((sku) => addLine(sku));

  const collection = h("input", { type: "radio", name: "delivery", value: "collection", checked: true });
  const delivered = h("input", { type: "radio", name: "delivery", value: "delivery" });
  const postcode = h("input", { name: "delivery.postcode", id: "postcode", maxlength: "16", autocomplete: "off", placeholder: "AB1 2CD" });
  const postcodeField = h("label", { hidden: true }, t("newQuote.postcode"), postcode);
  const deliveryPrice = h("div", { id: "delivery-price", class: "explain", "aria-live": "polite" });

  const hold = h("input", { type: "checkbox", name: "hold_stock", id: "hold-stock" });
  const holdAt = h("select", { name: "hold_location", id: "hold-location", disabled: true },
    h("option", { value: "" }, t("newQuote.holdAnywhere")),
    locations.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`)));

  const account = h("select", { name: "customer", id: "quote-customer" },
    h("option", { value: "" }, t("newQuote.noAccount")),
    customers.map((c) => h("option", { value: c.code }, `${c.code} — ${c.name}`)));
  // A customer no longer offered (archived since) stays shown: the server says why it cannot be kept.
  if (customer && !customers.some((c) => c.code === customer)) account.append(h("option", { value: customer }, customer));
  account.value = customer ?? "";
  const accountNote = h("p", { class: "muted", id: "quote-customer-note" });

  const totals = h("div", { id: "quote-totals", "aria-live": "polite" });
  const save = h("button", { type: "submit", id: "save-quote" }, editing ? t("changeQuote.save") : t("newQuote.save"));
  const back = editing
    ? h("a", { href: quotePage(quote.number), class: "button secondary", id: "cancel-change" }, t("newQuote.cancel"))
    : h("a", { href: "/admin/quotes", class: "button secondary" }, t("newQuote.cancel"));
  const form = h("form", { id: editing ? "change-quote-form" : "new-quote", class: "stack", novalidate: true },
    h("fieldset", {}, h("legend", {}, t("newQuote.customer")),
      h("div", { class: "form-grid" },
        h("label", {}, t("newQuote.name"), h("input", { name: "contact.name", required: true, maxlength: "200", autocomplete: "off" })),
        h("label", {}, t("newQuote.email"), h("input", { name: "contact.email", type: "email", maxlength: "254", autocomplete: "off" })),
        h("label", {}, t("newQuote.phone"), h("input", { name: "contact.phone", type: "tel", maxlength: "40", autocomplete: "off" })),
        h("label", {}, t("newQuote.account"), account)),
      h("p", { class: "muted" }, t("newQuote.reachable")),
      accountNote),
    h("fieldset", {}, h("legend", {}, t("newQuote.lines")),
      h("div", { class: "row" }, picker.el),
      h("div", { class: "table-wrap" }, lines),
      noLines,
      linesMessage),
    h("fieldset", {}, h("legend", {}, t("newQuote.delivery")),
      h("div", { class: "row" },
        h("label", { class: "inline" }, collection, t("newQuote.collection")),
        h("label", { class: "inline" }, delivered, t("newQuote.delivered"))),
      postcodeField,
      deliveryPrice),
    totals,
    h("fieldset", {}, h("legend", {}, t("newQuote.holdTitle")),
      h("div", { class: "row" },
        h("label", { class: "inline" }, hold, t("newQuote.hold")),
        h("label", {}, t("newQuote.holdAt"), holdAt))),
    h("label", {}, t("newQuote.note"), h("textarea", { name: "note", maxlength: "2000", rows: "3" })),
    message,
    h("div", { class: "actions" }, save, back));

  // One key for the quote this form makes: a second press of Save (or a
  // retry after a lost answer) of the same quote makes no second one. A
  // changed form after a refusal is another request: it gets a new key.
  let key = idempotencyKey();
  let sent = null;

  function renumber() {
    [...tbody.children].forEach((tr, i) => {
      for (const el of tr.querySelectorAll("[data-field]")) el.name = `lines[${i}].${el.dataset.field}`;
    });
    lines.hidden = tbody.children.length === 0;
    noLines.hidden = !lines.hidden;
  }

  async function addLine(code) {
    say(linesMessage, t("newQuote.lookingUp", { code }), "info");
    let product;
    try {
      product = await api(`/products/${encodeURIComponent(code)}`);
    } catch (error) {
      say(linesMessage, error.status === 404 || error.status === 400 ? t("newQuote.unknown", { code }) : error.message, "error");
      return;
    }
    const existing = [...tbody.children].find((tr) => tr.dataset.sku === product.sku);
    if (existing) {
      say(linesMessage, t("newQuote.already", { sku: product.sku }), "info");
      existing.querySelector('[data-field="quantity"]').focus();
      return;
    }
    const quantity = appendLine(product);
    say(linesMessage, t("newQuote.added", { sku: product.sku, name: product.name }), "ok");
    quantity.select();
    quantity.focus();
    reprice();
  }

  /** A row for `product`, `amount` of it in `unitAsked` (1 in its first unit
   *  when not given); answers its quantity box. */
  function appendLine(product, amount = "1", unitAsked = null) {
    const units = unitsOf(product);
    if (unitAsked && !units.includes(unitAsked)) units.push(unitAsked);
    const quantity = h("input", { class: "qty", dataset: { field: "quantity" }, value: amount, inputmode: "decimal", maxlength: "24",
      "aria-label": t("newQuote.quantityOf", { sku: product.sku }) });
    const unit = h("select", { dataset: { field: "unit" }, "aria-label": t("newQuote.unitFor", { sku: product.sku }) },
      units.map((u) => h("option", { value: u, selected: u === unitAsked }, u)));
    const remove = h("button", { type: "button", class: "secondary", "aria-label": t("newQuote.removeOne", { sku: product.sku }) }, t("newQuote.remove"));
    const tr = h("tr", { dataset: { sku: product.sku } },
      h("td", {}, h("strong", {}, product.name), h("div", { class: "muted mono" }, product.sku)),
      h("td", {}, quantity),
      h("td", {}, unit),
      h("td", { class: "explain how" }),
      h("td", { class: "num net" }),
      h("td", { class: "num gross" }),
      h("td", {}, remove));
    remove.addEventListener("click", () => {
      tr.remove();
      renumber();
      picker.input.focus();
      reprice();
    });
    tbody.append(tr);
    renumber();
    return quantity;
  }

  /**
   * Marks one box with `text` as its error, or clears its mark (no text),
   * leaving the form's other marks: pricing as the lines change must not
   * take away what Save was told about the customer.
   */
  function mark(input, text) {
    const id = `${input.name.replace(/[^a-z0-9]/gi, "-")}-error`;
    input.closest("td, label")?.querySelector(".field-error")?.remove();
    if (!text) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      return;
    }
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    input.closest("td, label").append(h("span", { class: "field-error", id }, text));
  }

  /** The lines as the API takes them, quantities read the shop's way; null
   *  when one cannot be read (marked at its box and said in `into`). */
  function requested(into) {
    let bad = null;
    const body = [...tbody.children].map((tr) => {
      const quantity = tr.querySelector('[data-field="quantity"]');
      mark(quantity, null);
      mark(tr.querySelector('[data-field="unit"]'), null);
      const read = readNumber(quantity.value);
      if (read.error) {
        mark(quantity, read.error);
        bad ??= [quantity, read.error];
      }
      return { sku: tr.dataset.sku, quantity: read.value ?? "", unit: tr.querySelector('[data-field="unit"]').value };
    });
    if (!bad) return body;
    say(into, bad[1], "error");
    return null;
  }

  /**
   * The delivery as the API takes it: collection, a postcode, or null (none
   * yet: no postcode typed); undefined when neither is chosen, as a quote
   * being changed that was saved without a delivery keeps until one is.
   */
  function requestedDelivery() {
    if (collection.checked) return { collection: true };
    if (!delivered.checked) return undefined;
    const typed = postcode.value.trim();
    return typed ? { postcode: typed } : null;
  }

  function showTotals(estimate) {
    if (!estimate) {
      totals.replaceChildren();
      return;
    }
    const row = (label, value, strong) => h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "num" }, strong ? h("strong", {}, value) : value));
    totals.replaceChildren(h("div", { class: "table-wrap" }, h("table", { class: "totals" },
      h("caption", { class: "visually-hidden" }, t("newQuote.totals")),
      h("tbody", {},
        row(t("newQuote.net"), m(estimate.totals.net)),
        row(t("newQuote.tax"), m(estimate.totals.tax)),
        row(t("newQuote.total"), m(estimate.totals.gross), true)))));
  }

  function showDeliveryPrice(estimate) {
    const d = estimate?.delivery;
    if (!d) {
      deliveryPrice.replaceChildren(delivered.checked && !postcode.value.trim() ? t("newQuote.postcodeNeeded") : "");
      return;
    }
    if (d.method === "collection") {
      deliveryPrice.replaceChildren(t("delivery.noCharge"));
      return;
    }
    deliveryPrice.replaceChildren(
      h("div", {}, explainDelivery(d, currency)),
      h("strong", {}, t("newQuote.deliveryCharge", { net: m(d.net), gross: m(d.gross) })));
  }

  // Counts the estimates asked for: an answer to any but the last is stale.
  let priced = 0;
  async function price() {
    const asked = ++priced;
    if (tbody.children.length === 0) {
      showTotals(null);
      showDeliveryPrice(null);
      return;
    }
    const body = requested(linesMessage);
    if (!body) return;
    const delivery = requestedDelivery();
    const forWhom = account.value ? { customer: account.value } : {};
    let estimate;
    let refusal = null;
    try {
      try {
        estimate = await api("/quote/estimate", { method: "POST", body: delivery ? { lines: body, delivery, ...forWhom } : { lines: body, ...forWhom } });
      } catch (error) {
        if (!delivery || !isDeliveryError(error)) throw error;
        // The lines are still priced; the delivery's refusal is said at the postcode.
        refusal = deliveryRefusal(error);
        estimate = await api("/quote/estimate", { method: "POST", body: { lines: body, ...forWhom } });
      }
    } catch (error) {
      if (asked !== priced) return;
      if (error.field === "customer") {
        mark(account, error.message);
        say(linesMessage, error.message, "error");
        return;
      }
      // Said at its line, without taking the focus from where the typing is.
      const input = error.field?.startsWith("lines[") ? form.querySelector(`[name="${CSS.escape(error.field)}"]`)
        ?? form.querySelector(`[name="${CSS.escape(error.field.replace(/\].*$/, "].quantity"))}"]`) : null;
      if (input) mark(input, error.message);
      say(linesMessage, error.message, "error");
      return;
    }
    if (asked !== priced) return;
    say(linesMessage, "");
    estimate.lines.forEach((line, i) => {
      const tr = tbody.children[i];
      if (!tr) return;
      const note = ruleNote(line.list_price, currency);
      tr.querySelector(".how").replaceChildren(localNumbers(line.explanation), note ? h("div", { class: "rule" }, note) : "");
      tr.querySelector(".net").textContent = m(line.net);
      tr.querySelector(".gross").textContent = m(line.gross);
    });
    showTotals(estimate);
    showDeliveryPrice(estimate);
    if (refusal) {
      deliveryPrice.replaceChildren(h("span", { class: "field-error" }, refusal));
    }
  }
  const reprice = debounce(price, 250);

  function chooseDelivery() {
    postcodeField.hidden = !delivered.checked;
    reprice();
  }
  collection.addEventListener("change", chooseDelivery);
  delivered.addEventListener("change", () => {
    chooseDelivery();
    if (delivered.checked) postcode.focus();
  });
  postcode.addEventListener("input", reprice);
  /** Says which list the chosen customer buys at. */
  function describeAccount() {
    const chosen = customers.find((c) => c.code === account.value);
    accountNote.textContent = !account.value ? ""
      : chosen?.price_list ? t("newQuote.accountList", { name: chosen.name, list: chosen.price_list })
        : chosen ? t("newQuote.accountNoList", { name: chosen.name }) : "";
  }
  account.addEventListener("change", () => {
    mark(account, null);
    describeAccount();
    // A quote for an account is usually for someone there: their name, unless one was typed.
    const chosen = customers.find((c) => c.code === account.value);
    const name = form.elements["contact.name"];
    if (chosen && !name.value.trim()) name.value = chosen.name;
    reprice();
  });
  // A box changed since it was refused loses its mark.
  form.addEventListener("input", (event) => {
    if (event.target.getAttribute?.("aria-invalid") && event.target.name) mark(event.target, null);
  });
  tbody.addEventListener("input", reprice);
  tbody.addEventListener("change", reprice);
  hold.addEventListener("change", () => {
    holdAt.disabled = !hold.checked;
  });
  // Enter in a box does not save half a quote: Save is its own button.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.tagName === "INPUT" && event.target !== picker.input) event.preventDefault();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (markMissing(form, message)) return;
    if (tbody.children.length === 0) {
      say(message, t("newQuote.noLinesToSave"), "error");
      picker.input.focus();
      return;
    }
    const body = requested(message);
    if (!body) {
      form.querySelector("#quote-lines [aria-invalid]")?.focus();
      return;
    }
    const data = new FormData(form);
    const text = (name) => String(data.get(name) ?? "").trim() || null;
    const delivery = requestedDelivery();
    if (delivery === null) {
      showError(form, message, { field: "delivery.postcode", message: t("newQuote.postcodeNeeded") });
      return;
    }
    const asked = {
      lines: body,
      contact: { name: text("contact.name"), email: text("contact.email"), phone: text("contact.phone") },
      ...(delivery ? { delivery } : {}),
      // A changed quote keeps no customer unless one is chosen.
      ...(account.value ? { customer: account.value } : editing ? { customer: null } : {}),
      // A changed quote is told not to hold too: else it would hold as the shop does by default.
      ...(hold.checked ? { hold_stock: true, ...(holdAt.value ? { hold_location: holdAt.value } : {}) } : editing ? { hold_stock: false } : {}),
      note: text("note"),
    };
    if (editing) {
      await change(asked);
      return;
    }
    const json = JSON.stringify(asked);
    if (sent !== null && sent !== json) key = idempotencyKey();
    sent = json;
    try {
      const saved = await busy(save, t("newQuote.saving"), () =>
        api("/quotes", { method: "POST", body: asked, headers: { "idempotency-key": key } }));
      // The customer's link is given once: the quote's page shows it.
      if (saved.link) sessionStorage.setItem(`quarry.quote-link.${saved.number}`, saved.link);
      // …and says where it was e-mailed, when it was.
      if (saved.mail?.state === "queued") sessionStorage.setItem(`quarry.quote-mailed.${saved.number}`, saved.mail.to);
      location.assign(quotePage(saved.number));
    } catch (error) {
      refused(error);
    }
  });

  /** Says why saving was refused, at the box it names; what was typed stays. */
  function refused(error) {
    if (isDeliveryError(error)) {
      showError(form, message, { field: "delivery.postcode", message: deliveryRefusal(error) });
      return;
    }
    if (editing && error.status === 412) {
      // Changed by someone else since this form was filled in: saving would undo that.
      showError(form, message, { message: t("changeQuote.stale", { number: quote.number }) });
      message.append(" ", h("a", { href: quotePage(quote.number) }, t("changeQuote.open", { number: quote.number })));
      return;
    }
    if (editing && error.status === 409 && (error.code === "quote_status" || error.code === "quote_expired")) {
      showError(form, message, { message: changeRefusal(error) });
      message.append(" ", h("a", { href: quotePage(quote.number) }, t("changeQuote.open", { number: quote.number })));
      return;
    }
    showError(form, message, atItsLine(form, error));
  }

  /** Saves the changed quote and returns to its page, which says so. */
  async function change(asked) {
    try {
      await busy(save, t("newQuote.saving"), () =>
        api(`/quotes/${encodeURIComponent(quote.number)}`, { method: "PUT", body: asked, headers: { "if-match": `"${quote.version}"` } }));
      sessionStorage.setItem(`quarry.quote-changed.${quote.number}`, "1");
      location.assign(quotePage(quote.number));
    } catch (error) {
      refused(error);
    }
  }

  if (editing) fill();
  renumber();
  describeAccount();
  // Coming from a customer's page: the quote is for them, and for someone there.
  const preset = customers.find((c) => c.code === customer);
  if (!editing && preset) form.elements["contact.name"].value = preset.name;
  if (editing) price();
  return editing
    ? card(t("changeQuote.form"), h("p", { class: "muted" }, t("changeQuote.explain")), form)
    : card(t("newQuote.title"), form);

  /** The form as `quote` is: its customer, lines as they were asked for, delivery, hold and note. */
  function fill() {
    form.elements["contact.name"].value = quote.contact.name ?? "";
    form.elements["contact.email"].value = quote.contact.email ?? "";
    form.elements["contact.phone"].value = quote.contact.phone ?? "";
    form.elements.note.value = quote.note ?? "";
    quote.lines.forEach((line, i) => appendLine(products[i], toInput(line.requested.quantity), line.requested.unit));
    // A quote saved without a delivery has neither chosen until one is.
    collection.checked = quote.delivery?.method === "collection";
    delivered.checked = quote.delivery?.method === "delivery";
    postcode.value = quote.delivery?.postcode ?? "";
    postcodeField.hidden = !delivered.checked;
    hold.checked = quote.hold_stock;
    holdAt.disabled = !hold.checked;
    const places = [...new Set(quote.holds.map((x) => x.location))];
    if (places.length === 1 && locations.some((l) => l.code === places[0])) holdAt.value = places[0];
  }
}
