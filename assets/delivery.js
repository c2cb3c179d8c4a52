// A delivery charge in the page's language. The server explains a charge and
// refuses a postcode in English ("13 t → 2 loads × 45.00 = 90.00, Town", "we
// do not deliver to ZZ9 1AA; …"); the storefront, the quote page and the back
// office read those apart and say them again in the page's words, amounts in
// the shop's currency. Anything of another shape is shown as the server wrote
// it, its decimals in the shop's way. The storefront's choice of collection
// or delivery to a postcode (the quote list's and the product page's
// calculator's, kept in this browser by quote-basket.js) is made and priced
// here too, the same on both pages.
import { api } from "/assets/api.js";
import * as basket from "/assets/quote-basket.js";
import { decimal, localNumbers, money, t } from "/assets/i18n.js";
import { debounce } from "/assets/ui.js";

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
// `{t} t → {n} load(s) × {per load}[ + {t} t × {per tonne}] = {worked}[, minimum {minimum}], {zone}[ (not weighed, no mass known: {skus})]`
const EXPLANATION = new RegExp(String.raw`^(${NUMBER}) t → (\d+) loads? × (${NUMBER})(?: \+ ${NUMBER} t × (${NUMBER}))? = (${NUMBER})(?:, minimum (${NUMBER}))?, (.+?)(?: \(not weighed, no mass known: ([^()]+)\))?$`);

/**
 * How a delivery's charge was worked out (`delivery`, as an estimate or a
 * quote has it), in the page's words; amounts in `currency` when given.
 */
export function explainDelivery(delivery, currency) {
  const text = String(delivery?.explanation ?? "");
  if (delivery?.method === "collection") return t("delivery.noCharge");
  const parts = EXPLANATION.exec(text);
  if (!parts) return localNumbers(text);
  const [, tonnes, loads, perLoad, perTonne, worked, minimum, zone, notWeighed] = parts;
  const amount = (value) => (currency ? money(value, currency) : decimal(value));
  const formula = [t("delivery.byLoad", { tonnes: decimal(tonnes), count: Number(loads), price: amount(perLoad) })];
  if (perTonne) formula.push(`+ ${decimal(tonnes)} t × ${amount(perTonne)}`);
  formula.push(`= ${amount(worked)}`);
  const said = [formula.join(" ")];
  if (minimum) said.push(t("delivery.minimum", { amount: amount(minimum) }));
  said.push(zone);
  return said.join(", ") + (notWeighed ? ` ${t("delivery.notWeighed", { skus: notWeighed })}` : "");
}

const NOT_DELIVERED = /^we do not deliver to (.+?); collection only, or call us(?: \((.*)\))?$/;
const NOT_A_POSTCODE = /^"(.*)" is not a postcode\b/;
const TOO_MANY_LOADS = new RegExp(String.raw`^(${NUMBER}) t is more than (\d+) loads\b`);

/** Whether an API error is about the delivery asked for (`delivery`, `delivery.postcode`). */
export function isDeliveryError(error) {
  return error?.field === "delivery" || Boolean(error?.field?.startsWith("delivery."));
}

/** A refused delivery's message in the page's words (the server's when it is of another kind). */
export function deliveryRefusal(error) {
  const message = String(error?.message ?? "");
  const refused = NOT_DELIVERED.exec(message);
  if (refused) {
    return refused[2]
      ? t("delivery.notDelivered", { postcode: refused[1], contact: refused[2] })
      : t("delivery.notDeliveredCall", { postcode: refused[1] });
  }
  const typed = NOT_A_POSTCODE.exec(message);
  if (typed) return t("delivery.notAPostcode", { postcode: typed[1] });
  const heavy = TOO_MANY_LOADS.exec(message);
  if (heavy) return t("delivery.tooMuch", { tonnes: decimal(heavy[1]), loads: Number(heavy[2]) });
  return message;
}

/** The delivery as the API takes it, of a choice as quote-basket.js keeps it:
 *  null when none is chosen, or delivery is chosen without a postcode yet. */
export function requestedDelivery(choice) {
  if (choice?.method === "collection") return { collection: true };
  if (choice?.method === "delivery" && choice.postcode?.trim()) return { postcode: choice.postcode.trim() };
  return null;
}

/**
 * Estimates `lines` (as the API takes them) with `delivery` (null: without).
 * A delivery refused (not delivered there, not a postcode, too much for the
 * lorries) leaves the lines priced all the same, without it. Answers
 * `{ estimate, refused }`, `refused` the API's error about the delivery or
 * null; any other error is thrown. `options` go to `api` (a `signal`).
 */
export async function estimateDelivered(lines, delivery, options = {}) {
  const ask = (body) => api("/quote/estimate", { ...options, method: "POST", body });
  try {
    return { estimate: await ask(delivery ? { lines, delivery } : { lines }), refused: null };
  } catch (error) {
    if (!delivery || !isDeliveryError(error)) throw error;
    return { estimate: await ask({ lines }), refused: error };
  }
}

/**
 * The storefront's form choosing how the goods reach the customer: radios
 * `method` ("collection", "delivery") and a `postcode` input in `field`, shown
 * only for delivery, with `note` under it for what is wrong with the postcode.
 * It shows the choice kept in this browser (quote-basket.js), so the quote list
 * and a product's calculator share it, or `preset` (a method) while none is
 * kept; a choice is kept once the customer makes it. `onChoose()` is called
 * after each new choice is kept (a postcode as it is typed, after a pause).
 * Answers `{ choice, request, choose, note }`: the choice shown, it as the API
 * takes it (`requestedDelivery`), keeping what the form says now (a postcode
 * typed a moment ago), and saying `text` under the postcode ("" clears it).
 */
export function deliveryChoice(form, { field, note, preset = null, onChoose = () => {} }) {
  const postcode = form.elements.postcode;
  const choice = () => basket.delivery() ?? (preset ? { method: preset } : null);

  function say(text) {
    note.textContent = text;
    if (text) postcode.setAttribute("aria-invalid", "true");
    else postcode.removeAttribute("aria-invalid");
  }

  function choose() {
    const method = form.elements.method.value;
    if (!method) return;
    const chosen = method === "delivery" ? { method, postcode: postcode.value.trim() } : { method };
    // The preset shown, not chosen, is not kept either.
    const before = JSON.stringify(choice());
    field.hidden = method !== "delivery";
    if (JSON.stringify(chosen) === before) return;
    basket.chooseDelivery(chosen);
    say("");
    onChoose();
  }

  const shown = choice();
  for (const radio of form.elements.method) radio.checked = radio.value === shown?.method;
  postcode.value = shown?.postcode ?? "";
  field.hidden = shown?.method !== "delivery";

  form.addEventListener("change", choose);
  postcode.addEventListener("input", debounce(choose, 500));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    choose();
  });
  return { choice, request: () => requestedDelivery(choice()), choose, note: say };
}
