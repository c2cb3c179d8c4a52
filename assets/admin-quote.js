// Back office: one quote (`/admin/quote?number=Q-…`): its customer, priced
// lines, totals and held stock, and for staff the steps open → accepted → fulfilled,
// changing an open quote (admin-quote-form.js, `/admin/quotes?edit=Q-…`),
// re-pricing an open quote at today's prices (what changes shown first), and
// a new customer link, shown to copy and, when the shop sends mail, e-mailed;
// ordering any quote again (a new one at today's prices, what changed said
// on the new quote's page); and an accepted quote's deliveries, made in loads
// with their printable notes (admin-quote-deliveries.js).
import { api, money } from "/assets/api.js";
import { busy, h, say, thumbnail, when } from "/assets/ui.js";
import { card, table } from "/assets/admin-kit.js";
import { contactCell, statusBadge } from "/assets/admin-quotes.js";
import { explainDelivery } from "/assets/delivery.js";
import { localNumbers, percent, quantity, t } from "/assets/i18n.js";
import { ruleNote } from "/assets/list-price.js";
import { customerPage } from "/assets/admin-customers.js";
import { deliveriesCard, outstandingWords } from "/assets/admin-quote-deliveries.js";

const measured = (m) => quantity(m.quantity, m.unit);

/** What staff may do to a quote in each status (the server has the last word). */
const ACTIONS = () => [
  { action: "accept", label: t("quote.accept"), progress: t("quote.accepting"), from: ["open"], done: (n) => t("quote.accepted", { number: n }) },
  { action: "fulfil", label: t("quote.fulfil"), progress: t("quote.fulfilling"), from: ["open", "accepted"], done: (n) => t("quote.fulfilled", { number: n }),
    // After loads were delivered, only what is still to deliver ships.
    confirm: (n, quote) => (quote.deliveries
      ? t("quote.fulfilRestConfirm", { number: n, rest: outstandingWords(quote) })
      : t("quote.fulfilConfirm", { number: n })) },
  { action: "cancel", label: t("quote.cancel"), progress: t("quote.cancelling"), from: ["open", "accepted"], done: (n) => t("quote.cancelled", { number: n }), danger: true,
    confirm: (n) => t("quote.cancelConfirm", { number: n }) },
];

function lines(quote) {
  const m = (amount) => money(amount, quote.currency);
  return table([
    [t("quote.product"), (l) => h("div", { class: "line-product" },
      thumbnail(quote.photos?.[l.sku], "line-photo"),
      h("div", {}, h("a", { href: `/admin/product?${new URLSearchParams({ sku: l.sku })}` }, l.name), h("div", { class: "muted mono" }, l.sku)))],
    [t("quote.requested"), (l) => measured(l.requested), { num: true }],
    [t("quote.sold"), (l) => h("div", {}, measured(l.sold), l.pack_rounding ? h("div", { class: "muted" }, localNumbers(l.pack_rounding)) : null), { num: true }],
    [t("quote.how"), (l) => h("div", { class: "explain" }, localNumbers(l.explanation),
      l.list_price ? h("div", { class: "rule" }, ruleNote(l.list_price, quote.currency)) : null)],
    [t("quote.unitPrice"), (l) => t("format.perUnit", { price: m(l.unit_price), unit: l.pricing.unit }), { num: true }],
    [t("quote.net"), (l) => m(l.net), { num: true }],
    [t("quote.tax"), (l) => h("div", {}, m(l.tax), h("div", { class: "muted" }, percent(l.tax_rate))), { num: true }],
    [t("quote.gross"), (l) => m(l.gross), { num: true }],
  ], quote.lines, { caption: t("quote.lines") });
}

/** How the goods reach the customer: where to and the charge, or collection. */
function delivery(quote) {
  const d = quote.delivery;
  if (d.method === "collection") return [t("delivery.collected")];
  return [
    h("strong", {}, t("delivery.to", { postcode: d.postcode })), " ",
    h("span", { class: "mono" }, d.zone), " · ",
    t("quote.deliveryCharge", { net: money(d.net, quote.currency), gross: money(d.gross, quote.currency) }),
    h("div", { class: "explain" }, explainDelivery(d, quote.currency)),
  ];
}

function totals(quote) {
  const m = (amount) => money(amount, quote.currency);
  const rows = [...quote.totals.by_tax_class.map((c) => ({ ...c, label: `${c.tax_class} (${percent(c.tax_rate)})` })),
    { label: t("quote.total"), total: true, ...quote.totals }];
  return h("div", {},
    table([
      ["", (r) => (r.total ? h("strong", {}, r.label) : r.label)],
      [t("quote.net"), (r) => m(r.net), { num: true }],
      [t("quote.tax"), (r) => m(r.tax), { num: true }],
      [t("quote.gross"), (r) => (r.total ? h("strong", {}, m(r.gross)) : m(r.gross)), { num: true }],
    ], rows, { caption: t("quote.totals") }),
    h("p", { class: "muted" }, quote.prices_include_tax ? t("quote.shownGross") : t("quote.shownNet")));
}

function holds(quote) {
  const unit = Object.fromEntries(quote.lines.map((l) => [l.sku, l.stock.unit]));
  const empty = quote.hold_stock ? t("quote.nothingHeld") : t("quote.noHold");
  return table([
    [t("quote.sku"), (x) => h("span", { class: "mono" }, x.sku)],
    [t("quote.location"), (x) => h("span", { class: "mono" }, x.location)],
    [t("quote.quantity"), (x) => quantity(x.quantity, unit[x.sku]), { num: true }],
  ], quote.holds, { empty, caption: t("quote.held") });
}

/** The buttons for the steps the quote can take now; each redraws the page. */
function actions(quote, message, redraw) {
  if (quote.status === "open" && new Date(quote.valid_until) < new Date()) {
    return h("p", { class: "message info" }, t("quote.pastValidity"));
  }
  const possible = ACTIONS().filter((a) => a.from.includes(quote.status));
  if (possible.length === 0) return null;
  // An open quote is changed on the new-quote form, filled in from it.
  const change = quote.status === "open"
    ? h("a", { href: `/admin/quotes?${new URLSearchParams({ edit: quote.number })}`, class: "button secondary", id: "change-quote" }, t("quote.change"))
    : null;
  return h("div", { class: "actions no-print" }, possible.flatMap((a) => {
    const button = h("button", { type: "button", class: a.danger ? "danger" : a.action === "accept" ? null : "secondary" }, a.label);
    button.addEventListener("click", () => {
      if (a.confirm && !confirm(a.confirm(quote.number, quote))) return;
      busy(button, a.progress, async () => {
        try {
          const next = await api(`/quotes/${encodeURIComponent(quote.number)}/${a.action}`, { method: "POST" });
          redraw(next, a.done(quote.number));
        } catch (error) {
          say(message, error.message, "error");
        }
      });
    });
    return a.action === "accept" ? [button, change] : button;
  }));
}

/** A customer link, shown once: to open, and to copy for a message to the customer. */
function shownLink(url) {
  const field = h("input", { id: "customer-link", readonly: "", value: url, "aria-label": t("quote.linkLabel") });
  const copied = h("span", { class: "muted", "aria-live": "polite" });
  const copy = h("button", { type: "button", class: "secondary", id: "copy-link" }, t("quote.copyLink"));
  copy.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(url);
      copied.textContent = t("quote.copied");
    } catch {
      // No clipboard (a page not served over HTTPS): the link is selected to copy by hand.
      copied.textContent = t("quote.copyByHand");
    }
  });
  return h("div", { class: "stack" },
    h("label", { for: "customer-link" }, t("quote.linkLabel")),
    h("div", { class: "toolbar" }, field, copy, copied),
    h("p", {}, h("a", { href: url, target: "_blank", rel: "noopener" }, t("quote.customerPage"))));
}

/** Staff issue a new customer link (the old one stops working). */
function newLink(quote, message, redraw) {
  const button = h("button", { type: "button", class: "secondary", id: "new-link" }, t("quote.newLink"));
  button.addEventListener("click", () => {
    if (!confirm(t("quote.newLinkConfirm", { number: quote.number }))) return;
    busy(button, t("quote.newLinkMaking"), async () => {
      try {
        const next = await api(`/quotes/${encodeURIComponent(quote.number)}/link`, { method: "POST" });
        redraw(next, t("quote.newLinkDone"));
      } catch (error) {
        say(message, error.message, "error");
      }
    });
  });
  return button;
}

/** Staff e-mail the customer a new link (the old one stops working); it is shown to copy too. */
function emailLink(quote, message, redraw) {
  const button = h("button", { type: "button", class: "secondary", id: "email-link" }, t("quote.emailLink"));
  button.addEventListener("click", () => {
    if (!confirm(t("quote.emailLinkConfirm", { number: quote.number, to: quote.contact.email }))) return;
    busy(button, t("quote.emailLinkSending"), async () => {
      try {
        const next = await api(`/quotes/${encodeURIComponent(quote.number)}/link`, { method: "POST", query: { email: "true" } });
        redraw(next, next.mail?.state === "queued" ? t("quote.emailLinkDone", { to: next.mail.to }) : t("quote.emailLinkNoAddress"),
          next.mail?.state === "queued" ? "ok" : "info");
      } catch (error) {
        say(message, error.code === "mail_not_configured" ? t("quote.mailOff") : error.message, "error");
      }
    });
  });
  return button;
}

/** A change re-pricing makes, named in the page's words (the server names them in English). */
function changeName(change) {
  if (change.what === "delivery") return t("quote.delivery");
  if (change.what === "total") return t("quote.total");
  return h("span", {}, change.name, h("div", { class: "muted mono" }, change.what));
}

/** Why the server refused to re-price (409), in the page's words. */
function repriceRefusal(error) {
  if (error.status !== 409) return error.message;
  const message = String(error.message ?? "");
  if (/only an open quote is re-priced/.test(message)) return t("quote.repriceNotOpen");
  if (/holds stock/.test(message)) return t("quote.repriceHolds");
  return message;
}

/**
 * Staff re-price an open quote at today's prices: first what would change
 * (a dry run), then, confirmed, the quote saved so, and the page drawn again.
 */
function repricer(quote, message, redraw) {
  const path = `/quotes/${encodeURIComponent(quote.number)}/reprice`;
  const start = h("button", { type: "button", class: "secondary", id: "reprice" }, t("quote.reprice"));
  const panel = h("section", { id: "reprice-changes", class: "card stack", hidden: true, "aria-live": "polite" });
  start.addEventListener("click", () => busy(start, t("quote.repriceChecking"), async () => {
    say(message, "");
    let answer;
    try {
      answer = await api(path, { method: "POST", query: { dry_run: "true" } });
    } catch (error) {
      panel.hidden = true;
      say(message, repriceRefusal(error), "error");
      return;
    }
    const m = (amount) => money(amount, answer.quote.currency ?? quote.currency);
    const confirmButton = h("button", { type: "button", id: "reprice-confirm" }, t("quote.repriceConfirm"));
    const keep = h("button", { type: "button", class: "secondary" }, t("quote.repriceKeep"));
    keep.addEventListener("click", () => {
      panel.hidden = true;
      panel.replaceChildren();
      start.focus();
    });
    confirmButton.addEventListener("click", () => busy(confirmButton, t("quote.repricing"), async () => {
      try {
        const done = await api(path, { method: "POST" });
        redraw(done.quote, done.changes.length ? t("quote.repriced", { number: quote.number }) : t("quote.repricedSame", { number: quote.number }));
      } catch (error) {
        say(message, repriceRefusal(error), "error");
      }
    }));
    panel.replaceChildren(
      h("h2", {}, t("quote.repriceChanges")),
      answer.changes.length === 0
        ? h("p", { class: "message info" }, t("quote.repriceSame"))
        : table([
          [t("quote.repriceWhat"), changeName],
          [t("quote.repriceBefore"), (c) => m(c.before), { num: true }],
          [t("quote.repriceAfter"), (c) => m(c.after), { num: true }],
        ], answer.changes, { caption: t("quote.repriceChanges") }),
      h("p", { class: "muted" }, t("quote.repriceValidity")),
      h("div", { class: "actions" }, confirmButton, keep));
    panel.hidden = false;
    confirmButton.focus();
  }));
  return h("div", { class: "stack no-print" }, h("div", { class: "actions" }, start), panel);
}

/** What became of a line ordered again, in the page's words (the server's note for anything else). */
function againNote(change, currency) {
  const m = (amount) => money(amount, currency);
  switch (change.change) {
    case "unchanged": return t("again.unchanged");
    case "price_up": return t("again.priceUp", { was: m(change.was), now: m(change.now) });
    case "price_down": return t("again.priceDown", { was: m(change.was), now: m(change.now) });
    case "dropped": return t("again.dropped");
    default: return localNumbers(change.note);
  }
}

/**
 * Staff order a quote again: a new quote for the same customer with the same
 * lines and delivery at today's prices, opened at once; what changed line by
 * line is said there (kept for it in this tab's storage).
 */
function orderAgain(quote, message) {
  const button = h("button", { type: "button", class: "secondary", id: "order-again" }, t("quote.orderAgain"));
  button.addEventListener("click", () => busy(button, t("quote.orderingAgain"), async () => {
    try {
      const answer = await api(`/quotes/${encodeURIComponent(quote.number)}/again`, { method: "POST" });
      const made = answer.quote.number;
      try {
        sessionStorage.setItem(`quarry.quote-again.${made}`, JSON.stringify({ from: answer.from, changes: answer.changes }));
        if (answer.quote.link) sessionStorage.setItem(`quarry.quote-link.${made}`, answer.quote.link);
      } catch {
        // No storage: the new quote is shown without what changed.
      }
      location.assign(`/admin/quote?${new URLSearchParams({ number: made })}`);
    } catch (error) {
      say(message, error.message, "error");
    }
  }));
  return h("div", { class: "actions no-print" }, button);
}

/** What changed since the quote this one was ordered again from. */
function againChanges(again, currency) {
  return h("div", { class: "message info", id: "again-notice", role: "status" },
    h("p", {}, t("quote.againFrom", { from: again.from })),
    h("ul", { id: "again-changes" }, again.changes.map((c) => h("li", { class: c.change, dataset: { sku: c.sku, change: c.change } },
      h("strong", {}, c.name), ` (${c.sku}): `,
      c.change === "dropped" ? h("strong", {}, againNote(c, currency)) : againNote(c, currency)))));
}

function draw(main, quote, { staff, shop, notice, kind = "ok", mailed, again }) {
  const message = h("p", { class: "message", role: "status" });
  const redraw = (next, text, said) => draw(main, next, { staff, shop, notice: text, kind: said });
  const fact = (label, ...value) => h("tr", {}, h("th", { scope: "row" }, label), h("td", {}, ...value));
  const facts = h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {},
    fact(t("quote.customer"), contactCell(quote.contact)),
    quote.customer ? fact(t("quote.account"), h("a", { href: customerPage(quote.customer), id: "quote-account", class: "mono" }, quote.customer)) : null,
    fact(t("quote.created"), when(quote.created_at), quote.created_by ? ` ${t("quote.by", { who: quote.created_by })}` : ""),
    fact(t("quote.validUntil"), when(quote.valid_until)),
    quote.delivery ? fact(t("quote.delivery"), ...delivery(quote)) : null,
    fact(t("quote.lastChange"), when(quote.updated_at)))));
  const link = quote.link ? shownLink(quote.link) : h("p", { class: "muted" }, t("quote.linkNotKept"));
  const print = h("button", { type: "button", class: "secondary no-print" }, t("quote.print"));
  print.addEventListener("click", () => window.print());
  main.replaceChildren(...[
    h("p", { class: "no-print" }, h("a", { href: "/admin/quotes" }, t("quote.back"))),
    h("h1", {}, `${t("quote.heading", { number: quote.number })} `, statusBadge(quote.status)),
    message,
    again ? againChanges(again, quote.currency) : null,
    staff ? actions(quote, message, redraw) : null,
    staff ? orderAgain(quote, message) : null,
    staff && quote.status === "open" ? repricer(quote, message, redraw) : null,
    deliveriesCard(quote, { staff, shop, redraw }),
    card(t("quote.details"), facts, link,
      h("div", { class: "actions" }, print, staff ? newLink(quote, message, redraw) : null,
        staff && shop?.mail && quote.contact.email ? emailLink(quote, message, redraw) : null)),
    card(t("quote.lines"), lines(quote)),
    card(t("quote.totals"), totals(quote)),
    card(t("quote.held"), holds(quote)),
    quote.note ? card(t("quote.note"), h("p", {}, quote.note)) : null,
  ].filter(Boolean));
  if (notice) say(message, notice, kind);
  // A quote staff just saved whose link went to the customer by e-mail.
  if (mailed) message.after(h("p", { class: "message ok", id: "link-mailed", role: "status" }, t("quote.linkMailed", { to: mailed })));
}

export async function render(main, { staff, shop }) {
  const number = new URLSearchParams(location.search).get("number");
  const back = h("p", {}, h("a", { href: "/admin/quotes" }, t("quote.back")));
  if (!number) {
    main.append(back, h("h1", {}, t("quote.quote")), h("p", { class: "message error", role: "alert" }, t("quote.which")));
    return;
  }
  try {
    const quote = await api(`/quotes/${encodeURIComponent(number)}`);
    // A quote staff just made (admin-quote-form.js): its customer link, given
    // once when it was saved, is shown here once.
    const kept = `quarry.quote-link.${number}`;
    const link = sessionStorage.getItem(kept);
    sessionStorage.removeItem(kept);
    if (link && !quote.link) quote.link = link;
    // …and the address it was e-mailed to, said once too.
    const mailedKey = `quarry.quote-mailed.${number}`;
    const mailed = sessionStorage.getItem(mailedKey);
    sessionStorage.removeItem(mailedKey);
    // …or that staff just changed it.
    const changedKey = `quarry.quote-changed.${number}`;
    const changed = sessionStorage.getItem(changedKey);
    sessionStorage.removeItem(changedKey);
    // …or that it was just ordered again from another, and what changed.
    const againKey = `quarry.quote-again.${number}`;
    let again = null;
    try {
      again = JSON.parse(sessionStorage.getItem(againKey) ?? "null");
    } catch {
      again = null;
    }
    sessionStorage.removeItem(againKey);
    const notice = again ? t("quote.againMade", { number, from: again.from })
      : link ? t("quote.saved", { number }) : changed ? t("quote.changed", { number }) : null;
    draw(main, quote, { staff, shop, notice, mailed, again });
  } catch (error) {
    const text = error.status === 404 ? t("quote.missing", { number }) : error.message;
    main.replaceChildren(back, h("h1", {}, t("quote.heading", { number })), h("p", { class: "message error", role: "alert" }, text));
  }
}
