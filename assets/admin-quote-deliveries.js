// Back office: the deliveries of an accepted quote, on its page
// (admin-quote.js). Each line's ordered, delivered and outstanding quantities
// (in the product's stock unit); for staff a form to deliver a load (how much
// of each line, what the weighbridge says actually left, where from, the
// vehicle, driver, reference and a note), booked once however often it is
// sent (one idempotency key for one load); closing the quote when the
// customer wants no more; and the loads delivered, each with its printable
// note (A4, or an 80 mm receipt printer). A fulfilled quote, or a viewer,
// sees the same without the form.
import { api, idempotencyKey } from "/assets/api.js";
import { busy, clearErrors, h, readNumbers, say, showError, when } from "/assets/ui.js";
import { quantity, t, toInput } from "/assets/i18n.js";
import { deliveredLine, notePath, positive, progressOf } from "/assets/quote-deliveries.js";

/** The shop's locations in use, asked for once a page. */
let places = null;
function locations() {
  places ??= api("/locations", { query: { limit: 200 } }).then((answer) => answer.items.filter((l) => l.active)).catch(() => []);
  return places;
}

/** The units what actually left may be given in: the stock unit first, the
 *  line's other units, and tonnes and kilograms for goods weighed by mass. */
function actualUnits(row, shop) {
  const dimension = Object.fromEntries((shop?.units ?? []).map((u) => [u.code, u.dimension]));
  const weighed = row.units.some((u) => dimension[u] === "mass");
  return [...new Set([...row.units, ...(weighed ? ["t", "kg"] : [])].filter(Boolean))];
}

/** The table of the quote's lines: ordered, delivered, still to deliver, and
 *  for a form (`inputs`) this load's quantity and what actually left. */
function progressTable(rows, inputs) {
  const head = [
    [t("deliveries.product")],
    [t("deliveries.ordered"), "num"],
    [t("deliveries.delivered"), "num"],
    [t("deliveries.outstanding"), "num"],
    ...(inputs ? [[t("deliveries.thisLoad")], [t("deliveries.actual")]] : []),
  ];
  return h("div", { class: "table-wrap" }, h("table", { id: "delivery-progress" },
    h("caption", { class: "visually-hidden" }, t("deliveries.progress")),
    h("thead", {}, h("tr", {}, head.map(([title, cls]) => h("th", { scope: "col", class: cls }, title)))),
    h("tbody", {}, rows.map((row) => h("tr", { dataset: { line: String(row.line), sku: row.sku } },
      h("td", {}, h("div", {}, row.name), h("div", { class: "muted mono" }, row.sku)),
      h("td", { class: "num ordered" }, quantity(row.ordered, row.unit)),
      h("td", { class: "num delivered" }, quantity(row.delivered, row.unit)),
      h("td", { class: "num outstanding" }, positive(row.outstanding)
        ? quantity(row.outstanding, row.unit)
        : h("span", { class: "badge", dataset: { status: "fulfilled" } }, t("deliveries.allDone"))),
      ...(inputs ? inputs(row) : []))))));
}

/** This load's boxes of one line: how much (with a shortcut for the rest) and what actually left. */
function loadInputs(row, shop) {
  if (!positive(row.outstanding)) return [h("td", {}), h("td", {})];
  const name = `line${row.line}`;
  const amount = h("input", {
    name: `${name}.quantity`, class: "qty", inputmode: "decimal", maxlength: "24", autocomplete: "off",
    "aria-label": t("deliveries.quantityOf", { sku: row.sku, unit: row.unit }),
  });
  const rest = h("button", {
    type: "button", class: "secondary rest",
    "aria-label": t("deliveries.restOf", { sku: row.sku, quantity: quantity(row.outstanding, row.unit) }),
  }, t("deliveries.rest"));
  rest.addEventListener("click", () => {
    amount.value = toInput(row.outstanding);
    amount.focus();
  });
  const actual = h("input", {
    name: `${name}.actual_quantity`, class: "qty", inputmode: "decimal", maxlength: "24", autocomplete: "off",
    "aria-label": t("deliveries.actualOf", { sku: row.sku }),
  });
  const unit = h("select", { name: `${name}.actual_unit`, "aria-label": t("deliveries.actualUnitOf", { sku: row.sku }) },
    actualUnits(row, shop).map((u) => h("option", { value: u }, u)));
  return [
    h("td", {}, h("div", { class: "row nowrap" }, amount, h("span", { class: "muted" }, row.unit), rest)),
    h("td", {}, h("div", { class: "row nowrap" }, actual, unit)),
  ];
}

/** The loads delivered so far, each with its notes to print; loaded into `into`. */
async function loadList(into, quote) {
  into.setAttribute("aria-busy", "true");
  into.replaceChildren(h("p", { class: "muted" }, t("common.loading")));
  try {
    const { items } = await api(`/quotes/${encodeURIComponent(quote.number)}/deliveries`);
    into.replaceChildren(items.length === 0
      ? h("p", { class: "muted", id: "no-deliveries" }, t("deliveries.none"))
      : h("div", { class: "table-wrap" }, h("table", { id: "delivery-list" },
        h("caption", { class: "visually-hidden" }, t("deliveries.list")),
        h("thead", {}, h("tr", {}, [t("deliveries.number"), t("deliveries.date"), t("deliveries.vehicleDriver"), t("deliveries.reference"),
          t("deliveries.what"), t("deliveries.notes")].map((title) => h("th", { scope: "col" }, title)))),
        h("tbody", {}, items.map((d) => h("tr", { dataset: { delivery: String(d.number) } },
          h("td", {}, h("span", { class: "mono" }, `${d.quote}/${d.number}`)),
          h("td", {}, when(d.created_at), h("div", { class: "muted" }, d.created_by)),
          h("td", {}, [d.vehicle, d.driver].filter(Boolean).join(" · ") || "—"),
          h("td", {}, d.reference ?? "—", d.note ? h("div", { class: "muted" }, d.note) : null),
          h("td", {}, h("ul", { class: "load-lines" }, d.lines.map((l) => h("li", { dataset: { line: String(l.line) } },
            h("span", { class: "mono" }, l.sku), " ", deliveredLine(l))))),
          h("td", {}, h("div", { class: "actions" },
            h("a", { href: notePath(d.quote, d.number), target: "_blank", rel: "noopener", class: "note-a4" }, t("deliveries.noteA4")),
            h("a", { href: notePath(d.quote, d.number, "80mm"), target: "_blank", rel: "noopener", class: "note-receipt" }, t("deliveries.noteReceipt"))))))))));
  } catch (error) {
    into.replaceChildren(h("p", { class: "message error", role: "alert" }, error.message));
  } finally {
    into.removeAttribute("aria-busy");
  }
}

/**
 * An API error about one of the lines sent (`lines[1].quantity`) named by the
 * box it came from: the lines sent are the ones given a quantity, so the
 * second sent may be the quote's third line (`line3.quantity`).
 */
function atItsBox(error, sent) {
  const at = /^lines\[(\d+)\]\.(\w+)$/.exec(error.field ?? "");
  if (!at) return error;
  const line = sent[Number(at[1])]?.line;
  if (!line) return error;
  const box = at[2] === "unit" ? "quantity" : at[2];
  return { field: `line${line}.${box}`, message: error.message, status: error.status, code: error.code };
}

/** The form for one load: `done(answer)` hears the delivery booked;
 *  `more(message)` is put beside its button (closing the quote), saying
 *  what goes wrong in the form's message. */
function deliverForm(quote, rows, shop, done, more) {
  const location = h("select", { name: "location", id: "delivery-location" }, h("option", { value: "" }, t("deliveries.anywhere")));
  locations().then((found) => location.append(...found.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`))));
  const message = h("p", { class: "message", id: "deliver-message", role: "alert" });
  const submit = h("button", { type: "submit", id: "deliver" }, t("deliveries.book"));
  const form = h("form", { id: "deliver-form", class: "stack", novalidate: true },
    h("p", { class: "muted no-print" }, t("deliveries.intro")),
    progressTable(rows, (row) => loadInputs(row, shop)),
    h("fieldset", { class: "no-print" }, h("legend", {}, t("deliveries.load")),
      h("div", { class: "form-grid" },
        h("label", {}, t("deliveries.location"), location),
        h("label", {}, t("deliveries.vehicle"), h("input", { name: "vehicle", maxlength: "200", placeholder: t("deliveries.vehicleExample") })),
        h("label", {}, t("deliveries.driver"), h("input", { name: "driver", maxlength: "200" })),
        h("label", {}, t("deliveries.reference"), h("input", { name: "reference", maxlength: "200", placeholder: t("deliveries.referenceExample") })),
        h("label", { class: "wide" }, t("deliveries.note"), h("input", { name: "note", maxlength: "500" })))),
    message,
    h("div", { class: "actions no-print" }, submit, more?.(message)));

  // One key for one load: pressing twice, or again after a lost answer,
  // delivers it once. A changed form after a refusal is another load.
  let key = idempotencyKey();
  let sent = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const open = rows.filter((row) => positive(row.outstanding));
    const boxes = Object.fromEntries(open.flatMap((row) => [`line${row.line}.quantity`, `line${row.line}.actual_quantity`]
      .map((name) => [name, form.elements[name].value])));
    // Typed the shop's way ("2,96" in de-DE).
    const numbers = readNumbers(form, message, boxes);
    if (!numbers) return;
    const lines = [];
    for (const row of open) {
      const amount = numbers[`line${row.line}.quantity`];
      const actual = numbers[`line${row.line}.actual_quantity`];
      if (amount === null) {
        if (actual !== null) {
          showError(form, message, { field: `line${row.line}.quantity`, message: t("deliveries.actualAlone") });
          return;
        }
        continue;
      }
      lines.push({
        line: row.line,
        quantity: amount,
        ...(actual !== null ? { actual_quantity: actual, actual_unit: form.elements[`line${row.line}.actual_unit`].value } : {}),
      });
    }
    if (lines.length === 0) {
      const first = open[0] && `line${open[0].line}.quantity`;
      showError(form, message, { field: first, message: t("deliveries.noLines") });
      return;
    }
    const text = (name) => form.elements[name].value.trim() || undefined;
    const body = {
      location: location.value || undefined,
      lines,
      vehicle: text("vehicle"),
      driver: text("driver"),
      reference: text("reference"),
      note: text("note"),
    };
    const json = JSON.stringify(body);
    if (sent !== null && sent !== json) key = idempotencyKey();
    sent = json;
    try {
      const answer = await busy(submit, t("deliveries.booking"), () =>
        api(`/quotes/${encodeURIComponent(quote.number)}/deliveries`, { method: "POST", body, headers: { "idempotency-key": key } }));
      done(answer);
    } catch (error) {
      showError(form, message, atItsBox(error, lines));
    }
  });
  return form;
}

/** Staff close an accepted quote the customer wants no more of. */
function closeButton(quote, message, redraw) {
  const button = h("button", { type: "button", class: "secondary", id: "close-quote" }, t("deliveries.close"));
  button.addEventListener("click", () => {
    if (!confirm(t("deliveries.closeConfirm", { number: quote.number }))) return;
    busy(button, t("deliveries.closing"), async () => {
      try {
        const next = await api(`/quotes/${encodeURIComponent(quote.number)}/close`, { method: "POST" });
        redraw(next, t("deliveries.closed", { number: quote.number }));
      } catch (error) {
        say(message, error.message, "error");
      }
    });
  });
  return button;
}

/**
 * The quote's deliveries card, for an accepted quote or one delivered in
 * loads (null for any other): `redraw(quote, notice)` draws the page again
 * after a delivery or the close.
 */
export function deliveriesCard(quote, { staff, shop, redraw }) {
  if (quote.status !== "accepted" && !quote.deliveries) return null;
  const rows = progressOf(quote);
  const deliverable = staff && quote.status === "accepted";
  const left = rows.some((row) => positive(row.outstanding));
  const list = h("div", { id: "delivery-loads", "aria-live": "polite" });
  loadList(list, quote);
  const done = (answer) => {
    const number = `${answer.delivery.quote}/${answer.delivery.number}`;
    redraw(answer.quote, answer.quote.status === "fulfilled"
      ? t("deliveries.bookedLast", { number })
      : t("deliveries.booked", { number }));
  };
  const summary = quote.status === "fulfilled"
    ? h("p", { class: "muted", id: "delivery-summary" }, left ? t("deliveries.closedEarly") : t("deliveries.allDelivered"))
    : null;
  return h("section", { class: "card", id: "deliveries-card" },
    h("h2", {}, t("deliveries.title")),
    summary,
    deliverable
      ? deliverForm(quote, rows, shop, done, quote.deliveries ? (said) => closeButton(quote, said, redraw) : null)
      : progressTable(rows, null),
    h("h3", { class: "loads-heading" }, t("deliveries.list")),
    list);
}

/** What is still to deliver, for the fulfil button's question: "3 t of SAND-04, 2 t of GRAV-0816". */
export function outstandingWords(quote) {
  return progressOf(quote).filter((row) => positive(row.outstanding))
    .map((row) => t("deliveries.outstandingOf", { quantity: quantity(row.outstanding, row.unit), sku: row.sku }))
    .join(", ");
}
