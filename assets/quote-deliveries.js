// What the back office's quote page (admin-quote-deliveries.js) and the trade
// account (account.js) both say of a quote delivered in loads: each line's
// ordered, delivered and outstanding quantities, what a load carried, and the
// addresses of its printable note.
import { quantity, t } from "/assets/i18n.js";

/** Whether an API decimal is above zero. */
export const positive = (value) => Number(value) > 0;

/** A delivery note's address: A4, or `paper` "80mm" for a receipt printer. */
export function notePath(number, delivery, paper) {
  const path = `/delivery-notes/${encodeURIComponent(number)}/${delivery}`;
  return paper ? `${path}?${new URLSearchParams({ paper })}` : path;
}

/** Each line's ordered, delivered and outstanding quantities (stock unit):
 *  the quote's progress, or, before the first delivery, all of it outstanding. */
export function progressOf(quote) {
  return quote.lines.map((line, i) => {
    const p = quote.progress?.find((x) => x.line === i + 1);
    return {
      line: i + 1,
      sku: line.sku,
      name: line.name,
      unit: p?.unit ?? line.stock.unit,
      ordered: p?.ordered ?? line.stock.quantity,
      delivered: p?.delivered ?? "0",
      outstanding: p?.outstanding ?? line.stock.quantity,
      // The units the line was asked, sold and priced in.
      units: [line.stock.unit, line.requested.unit, line.sold.unit, line.pricing.unit],
    };
  });
}

/** What a load carried of one line: "3 t", "3 t (3000 kg)", "3 t, actually 2.96 t". */
export function deliveredLine(line) {
  const credited = quantity(line.quantity.quantity, line.quantity.unit);
  const entered = line.entered ? ` (${quantity(line.entered.quantity, line.entered.unit)})` : "";
  return line.actual
    ? t("deliveries.lineActual", { quantity: `${credited}${entered}`, actual: quantity(line.actual.quantity, line.actual.unit) })
    : `${credited}${entered}`;
}
