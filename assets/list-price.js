// A line priced by a trade customer's price list (`list_price` in the API's
// lines): the rule that applied and what it saved, said in small print under
// the line on the staff quote form, the quote pages and the price-list preview.
import { localNumbers, money, t } from "/assets/i18n.js";

/** "Trade list A: 7% off Aggregates · saves €12.77", or null for a line at the list price. */
export function ruleNote(listPrice, currency) {
  if (!listPrice) return null;
  return t("listPrice.note", { rule: localNumbers(listPrice.rule), saving: money(listPrice.saving, currency) });
}
