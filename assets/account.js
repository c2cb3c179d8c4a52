// The storefront's trade account (`/account`): a trade contact signs in with
// their e-mail address, and sees their company, the price list it buys at (the
// shop's calculator prices at it), and the company's quotes, newest first, each
// to print and to order again (a new quote with the same lines at today's
// prices, saying what changed); an order delivered in loads is "part
// delivered" until the last, and its loads are listed, each with its delivery
// note to print, under each line's delivered and outstanding quantities.
// Staff who come here are sent to the back office.
import { api, me, money, setCsrf, shop } from "/assets/api.js";
import { brand, busy, h, say, stackTables } from "/assets/ui.js";
import { date, dateTime, localNumbers, localize, quantity, t } from "/assets/i18n.js";
import { deliveredLine, notePath, positive, progressOf } from "/assets/quote-deliveries.js";
import { showCount } from "/assets/quote-basket.js";
import { rememberAccount, showAccountLink } from "/assets/account-link.js";

const main = document.getElementById("main");
const notice = document.getElementById("notice");
const signinBox = document.getElementById("signin-box");
const signinForm = document.getElementById("account-login");
const signinMessage = document.getElementById("signin-message");
const staffBox = document.getElementById("staff-box");
const accountBox = document.getElementById("account-box");
const againBox = document.getElementById("again-box");
const quotesTable = document.getElementById("account-quotes");
const quotesBody = quotesTable.tBodies[0];
const quotesEmpty = document.getElementById("quotes-empty");
const quotesMessage = document.getElementById("quotes-message");
const more = document.getElementById("more-quotes");
const deliveriesCard = document.getElementById("deliveries-card");
const deliveriesBox = document.getElementById("account-deliveries");

const PAGE = 20;
let cursor = null;
let signedIn = false;
/** The quotes listed so far (every page loaded), for their deliveries. */
let listed = [];

/** The printable page of one of the customer's quotes. */
const printable = (number) => `/account/quotes/${encodeURIComponent(number)}`;

/** A quote's status in a customer's words, as a coloured badge: an
 *  accepted quote with loads delivered is "part delivered". */
function statusBadge(status, deliveries = 0) {
  const words = {
    open: t("quoteStatus.open"),
    accepted: deliveries > 0 ? t("account.partDelivered") : t("quoteStatus.accepted"),
    fulfilled: t("quoteStatus.fulfilled"),
    expired: t("quoteStatus.expired"),
    cancelled: t("quoteStatus.cancelled"),
  }[status] ?? status;
  const part = status === "accepted" && deliveries > 0;
  return h("span", { class: "badge", dataset: part ? { status, part: "delivered" } : { status } }, words);
}

/** Shows one of the page's three states: "signin", "staff" or "account". */
function show(state) {
  signinBox.hidden = state !== "signin";
  staffBox.hidden = state !== "staff";
  accountBox.hidden = state !== "account";
  signedIn = state === "account";
  main.removeAttribute("aria-busy");
}

function showSignIn(text, kind = "info") {
  rememberAccount(null);
  showAccountLink(null);
  show("signin");
  say(notice, text ?? "", kind);
  signinForm.elements.username.focus();
}

function showStaff() {
  rememberAccount(null);
  showAccountLink(null);
  say(notice, "");
  show("staff");
  staffBox.querySelector("a")?.focus();
}

/** The contact's company, who they are, and the prices they see. */
function drawAccount(account) {
  const { contact, customer } = account;
  document.getElementById("account-customer").textContent = customer.name;
  const fact = (term, value) => (value ? [h("dt", {}, term), h("dd", {}, value)] : []);
  document.getElementById("account-facts").replaceChildren(
    ...fact(t("account.signedInAs"), t("account.who", { name: contact.name, login: contact.login })),
    ...fact(t("account.customerCode"), h("span", { class: "mono" }, customer.code)),
    ...fact(t("account.paymentTerms"), customer.payment_terms),
    ...fact(t("account.billingAddress"), customer.billing_address ? h("div", { class: "address" }, customer.billing_address) : null),
    ...fact(t("account.deliveryAddresses"), customer.delivery_addresses?.length
      ? h("ul", { class: "addresses" }, customer.delivery_addresses.map((a) => h("li", { class: "address" }, a)))
      : null),
  );
  document.getElementById("account-prices").replaceChildren(customer.price_list
    ? h("span", { id: "account-price-list" }, t("account.prices", { list: customer.price_list.name }))
    : h("span", { id: "account-price-list" }, t("account.listPrices")));
}

/** One of the customer's quotes: number, date, status, total, and what can be done with it. */
function quoteRow(quote) {
  const again = h("button", { type: "button", class: "secondary order-again" }, t("account.orderAgain"));
  again.addEventListener("click", () => orderAgain(quote, again));
  return h("tr", { dataset: { number: quote.number } },
    h("td", {}, h("span", { class: "mono quote-number" }, quote.number)),
    h("td", {}, date(quote.created_at)),
    h("td", {}, statusBadge(quote.status, quote.deliveries ?? 0),
      quote.deliveries ? h("div", {}, h("a", { href: `#${deliveriesId(quote.number)}`, class: "deliveries-link" },
        t("account.deliveryCount", { count: quote.deliveries }))) : null),
    h("td", { class: "num" }, money(quote.totals.gross, quote.currency)),
    h("td", {}, h("div", { class: "actions" },
      h("a", { href: printable(quote.number), class: "button secondary print-quote" }, t("account.print")),
      again)));
}

/** The id of a quote's deliveries on the page. */
const deliveriesId = (number) => `deliveries-${number}`;

/** One quote's deliveries: each line's ordered, delivered and outstanding
 *  quantities, and the loads, each with its note (A4 or an 80 mm receipt). */
function quoteDeliveries(quote, items) {
  const rows = progressOf(quote);
  const th = (text, num) => h("th", { scope: "col", class: num ? "num" : null }, text);
  return h("section", { class: "quote-deliveries", id: deliveriesId(quote.number), dataset: { number: quote.number } },
    h("h3", {}, t("account.deliveriesOf", { number: quote.number }), " ", statusBadge(quote.status, quote.deliveries)),
    h("div", { class: "table-wrap" }, h("table", { class: "delivery-progress" },
      h("caption", { class: "visually-hidden" }, t("deliveries.progress")),
      h("thead", {}, h("tr", {}, th(t("deliveries.product")), th(t("deliveries.ordered"), true), th(t("deliveries.delivered"), true),
        th(t("deliveries.outstanding"), true))),
      h("tbody", {}, rows.map((row) => h("tr", { dataset: { line: String(row.line), sku: row.sku } },
        h("td", {}, h("div", {}, row.name), h("div", { class: "muted mono" }, row.sku)),
        h("td", { class: "num ordered" }, quantity(row.ordered, row.unit)),
        h("td", { class: "num delivered" }, quantity(row.delivered, row.unit)),
        h("td", { class: "num outstanding" }, positive(row.outstanding)
          ? quantity(row.outstanding, row.unit)
          : h("span", { class: "badge", dataset: { status: "fulfilled" } }, t("deliveries.allDone")))))))),
    h("ul", { class: "load-lines delivery-notes" }, items.map((d) => h("li", { dataset: { delivery: String(d.number) } },
      h("strong", {}, t("account.delivery", { number: `${d.quote}/${d.number}`, date: dateTime(d.created_at) })),
      d.vehicle ? ` · ${t("account.vehicle", { vehicle: d.vehicle })}` : "",
      h("div", {}, d.lines.map((l) => `${l.name}: ${deliveredLine(l)}`).join("; ")),
      h("div", { class: "actions" },
        h("a", { href: notePath(d.quote, d.number), target: "_blank", rel: "noopener", class: "note-a4" }, t("deliveries.noteA4")),
        h("a", { href: notePath(d.quote, d.number, "80mm"), target: "_blank", rel: "noopener", class: "note-receipt" }, t("deliveries.noteReceipt")))))));
}

/** The deliveries of the listed quotes that have any, newest quote first. */
async function loadDeliveries() {
  const delivered = listed.filter((q) => q.deliveries > 0);
  deliveriesCard.hidden = delivered.length === 0;
  if (delivered.length === 0) {
    deliveriesBox.replaceChildren();
    return;
  }
  deliveriesBox.setAttribute("aria-busy", "true");
  const blocks = await Promise.all(delivered.map(async (quote) => {
    try {
      const { items } = await api(`/account/quotes/${encodeURIComponent(quote.number)}/deliveries`);
      return quoteDeliveries(quote, items);
    } catch (error) {
      return h("p", { class: "message error" }, t("account.deliveriesFailed", { number: quote.number, error: error.message }));
    }
  }));
  deliveriesBox.replaceChildren(...blocks);
  deliveriesBox.removeAttribute("aria-busy");
}

/** The customer's quotes, a page at a time: `append` adds the next page. */
async function loadQuotes({ append = false } = {}) {
  quotesTable.setAttribute("aria-busy", "true");
  try {
    const answer = await api("/account/quotes", { query: { limit: PAGE, cursor: append ? cursor : null } });
    cursor = answer.next_cursor;
    const rows = answer.items.map(quoteRow);
    if (append) quotesBody.append(...rows);
    else quotesBody.replaceChildren(...rows);
    listed = append ? [...listed, ...answer.items] : answer.items;
    const none = quotesBody.rows.length === 0;
    quotesTable.hidden = none;
    quotesEmpty.hidden = !none;
    more.hidden = !cursor;
    say(quotesMessage, "");
    await loadDeliveries();
  } catch (error) {
    say(quotesMessage, error.message, "error");
  } finally {
    quotesTable.removeAttribute("aria-busy");
  }
}

/** What became of a line ordered again, in the page's words. */
function changeNote(change, unit) {
  const per = (amount) => (amount ? t("format.perUnit", { price: money(amount, againCurrency), unit }) : "—");
  switch (change.change) {
    case "unchanged": return t("again.unchanged");
    case "price_up": return t("again.priceUp", { was: per(change.was), now: per(change.now) });
    case "price_down": return t("again.priceDown", { was: per(change.was), now: per(change.now) });
    case "dropped": return t("again.dropped");
    default: return localNumbers(change.note);
  }
}

let againCurrency = "EUR";

/** The new quote an order again made, and what changed since the earlier one. */
function drawAgain(answer) {
  const { quote, from, changes } = answer;
  againCurrency = quote.currency;
  const unitOf = Object.fromEntries(quote.lines.map((l) => [l.sku, l.pricing.unit]));
  const price = (amount, sku) => (amount === null || amount === undefined
    ? "—"
    : unitOf[sku] ? t("format.perUnit", { price: money(amount, quote.currency), unit: unitOf[sku] }) : money(amount, quote.currency));
  const dropped = changes.filter((c) => c.change === "dropped");
  const rows = changes.map((c) => h("tr", { class: `change ${c.change}`, dataset: { sku: c.sku, change: c.change } },
    h("td", {}, h("div", {}, c.name), h("div", { class: "muted mono" }, c.sku)),
    h("td", { class: "num" }, price(c.was, c.sku)),
    h("td", { class: "num" }, c.change === "dropped" ? h("span", { class: "badge", dataset: { status: "cancelled" } }, t("again.droppedBadge")) : price(c.now, c.sku)),
    h("td", { class: "note" }, c.change === "dropped" ? h("strong", {}, changeNote(c, unitOf[c.sku])) : changeNote(c, unitOf[c.sku]))));
  const heading = h("h2", { id: "again-heading", tabindex: "-1" }, t("again.heading", { number: quote.number }));
  againBox.replaceChildren(...[
    heading,
    h("p", { class: "message ok", id: "again-done" }, t("again.done", { number: quote.number, from, valid: date(quote.valid_until) })),
    dropped.length ? h("p", { class: "message info", id: "again-dropped" }, t("again.someDropped", { count: dropped.length })) : null,
    h("div", { class: "table-wrap" }, h("table", { id: "again-changes" },
      h("caption", { class: "visually-hidden" }, t("again.changes")),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, t("again.product")),
        h("th", { scope: "col", class: "num" }, t("again.was")),
        h("th", { scope: "col", class: "num" }, t("again.now")),
        h("th", { scope: "col" }, t("again.note")))),
      h("tbody", {}, rows))),
    h("p", { class: "muted" }, t("again.total", { total: money(quote.totals.gross, quote.currency) })),
    h("div", { class: "actions" },
      h("a", { href: printable(quote.number), class: "button", id: "again-print" }, t("again.open", { number: quote.number })),
      h("button", { type: "button", class: "secondary", id: "again-close", onclick: () => { againBox.hidden = true; } }, t("again.close"))),
  ].filter(Boolean));
  againBox.hidden = false;
  heading.focus();
}

async function orderAgain(quote, button) {
  say(quotesMessage, "");
  try {
    const answer = await busy(button, t("account.ordering"), () =>
      api(`/account/quotes/${encodeURIComponent(quote.number)}/again`, { method: "POST" }));
    drawAgain(answer);
    await loadQuotes();
  } catch (error) {
    if (error.status === 401) return;
    say(quotesMessage, t("account.againFailed", { number: quote.number, error: error.message }), "error");
  }
}

/** Draws the signed-in contact's account and their quotes. */
async function showAccount() {
  let account;
  try {
    account = await api("/account");
  } catch (error) {
    if (error.status === 401) showSignIn();
    else if (error.status === 403) showStaff();
    else say(notice, error.message, "error");
    return;
  }
  rememberAccount(account);
  showAccountLink({ name: account.contact.name, customer: account.customer.name });
  drawAccount(account);
  againBox.hidden = true;
  againBox.replaceChildren();
  say(notice, "");
  show("account");
  await loadQuotes();
}

signinForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(signinForm);
  say(signinMessage, "");
  try {
    const answer = await busy(signinForm.querySelector("button"), t("login.signingIn"), () => api("/auth/login", {
      method: "POST",
      body: { username: String(data.get("username")).trim(), password: data.get("password") },
    }));
    setCsrf(answer.csrf_token);
    signinForm.reset();
    if (answer.contact && !answer.user) await showAccount();
    else showStaff();
  } catch (error) {
    signinForm.elements.password.value = "";
    signinForm.elements.password.focus();
    say(signinMessage, error.message, "error");
  }
});

document.getElementById("account-logout").addEventListener("click", async (event) => {
  await busy(event.currentTarget, t("account.signingOut"), async () => {
    try {
      await api("/auth/logout", { method: "POST" });
    } catch {
      // Signed out already: the page says so either way.
    }
  });
  setCsrf(null);
  quotesBody.replaceChildren();
  listed = [];
  deliveriesBox.replaceChildren();
  deliveriesCard.hidden = true;
  showSignIn(t("login.signedOut"), "ok");
});

more.addEventListener("click", () => busy(more, t("common.loading"), () => loadQuotes({ append: true })));

// A request answered 401: the session ended (expiry, signed out elsewhere, disabled).
addEventListener("quarry:unauthenticated", () => {
  if (signedIn) showSignIn(t("login.ended"), "info");
});

// Tables fold into labelled cards on a phone.
stackTables(main);
showCount(document.getElementById("basket-count"));
const info = await shop().catch(() => null);
await localize(info);
if (info) brand(info);
let who = null;
try {
  who = await me();
} catch (error) {
  say(notice, error.message, "error");
}
if (!who) showSignIn();
else if (who.role === "contact") await showAccount();
else showStaff();
