// A delivery charge in the page's language. The server explains a charge and
// refuses a postcode in English ("13 t → 2 loads × 45.00 = 90.00, Town", "we
// do not deliver to ZZ9 1AA; …"); the storefront, the quote page and the back
// office read those apart and say them again in the page's words, amounts in
// the shop's currency. Anything of another shape is shown as the server wrote
// it, its decimals in the shop's way.
import { decimal, localNumbers, money, t } from "/assets/i18n.js";

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
