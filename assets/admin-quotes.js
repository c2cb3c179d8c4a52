// Back office: saved quotes, newest first, filtered by status; each opens its
// own page (`/admin/quote?number=…`). Staff make a new quote for a caller
// here too (`?new=1`: the form of admin-quote-form.js above the list), and
// change an open one (`?edit=Q-…`: the same form, filled in from it). A new
// quote for a trade customer comes from their page (`?new=1&customer=…`).
import { api, money } from "/assets/api.js";
import { h, when } from "/assets/ui.js";
import { card, paged, quoteStatusName, table } from "/assets/admin-kit.js";
import { t } from "/assets/i18n.js";

const STATUSES = ["open", "accepted", "fulfilled", "expired", "cancelled"];

/** A quote's status as a coloured badge. */
export function statusBadge(status) {
  return h("span", { class: "badge", dataset: { status } }, quoteStatusName(status));
}

/** The customer's name with email and phone under it. */
export function contactCell(contact) {
  return h("div", {},
    contact.name,
    contact.email ? h("div", { class: "muted" }, contact.email) : null,
    contact.phone ? h("div", { class: "muted" }, contact.phone) : null);
}

/**
 * Staff change the open quote `number` (`?edit=Q-…`): the new-quote form
 * filled in from it. A quote no longer open is not offered for changing.
 */
async function changeQuote(main, number, shop) {
  const { activeCustomers, changeQuoteForm, quotePage } = await import("/assets/admin-quote-form.js");
  const back = h("p", {}, h("a", { href: quotePage(number) }, t("changeQuote.back", { number })));
  main.append(back, h("h1", {}, t("changeQuote.title", { number })));
  let quote;
  try {
    quote = await api(`/quotes/${encodeURIComponent(number)}`);
  } catch (error) {
    const text = error.status === 404 ? t("quote.missing", { number }) : error.message;
    main.append(h("p", { class: "message error", role: "alert" }, text));
    return;
  }
  if (quote.status !== "open" || new Date(quote.valid_until) < new Date()) {
    main.append(h("p", { class: "message error", role: "alert", id: "change-refused" },
      quote.status === "open" ? t("changeQuote.expired") : t("changeQuote.notOpen")));
    return;
  }
  const [places, customers] = await Promise.all([api("/locations", { query: { limit: 200 } }), activeCustomers()]);
  const locations = places.items.filter((l) => l.active);
  main.append(await changeQuoteForm(locations, quote.currency ?? shop?.currency, quote, customers));
  main.querySelector("[name='contact.name']")?.focus();
}

export async function render(main, { staff, shop } = {}) {
  const params = new URLSearchParams(location.search);
  const initial = params.get("status") ?? "";
  const status = h("select", { name: "status" },
    h("option", { value: "" }, t("quotes.all")),
    STATUSES.map((s) => h("option", { value: s, selected: s === initial }, quoteStatusName(s))));
  const filters = h("form", { class: "toolbar", role: "search" }, h("label", {}, t("quotes.status"), status));
  filters.addEventListener("submit", (event) => event.preventDefault());

  const columns = [
    [t("quotes.number"), (q) => h("a", { href: `/admin/quote?${new URLSearchParams({ number: q.number })}`, class: "mono" }, q.number)],
    [t("quotes.status"), (q) => statusBadge(q.status)],
    [t("quotes.customer"), (q) => h("div", {}, contactCell(q.contact),
      q.customer ? h("div", {}, h("a", { href: `/admin/customer?${new URLSearchParams({ code: q.customer })}`, class: "mono" }, q.customer)) : null)],
    [t("quotes.total"), (q) => money(q.totals.gross, q.currency), { num: true }],
    [t("quotes.created"), (q) => when(q.created_at)],
    [t("quotes.validUntil"), (q) => when(q.valid_until)],
  ];
  const list = card(t("quotes.title"), filters);
  const changing = staff ? params.get("edit") : null;
  if (changing) {
    await changeQuote(main, changing, shop);
    return;
  }
  const making = staff && params.has("new");
  main.append(h("h1", {}, making ? t("quotes.newTitle") : t("quotes.title")));
  if (making) {
    const { activeCustomers, newQuoteForm } = await import("/assets/admin-quote-form.js");
    const [places, customers] = await Promise.all([api("/locations", { query: { limit: 200 } }), activeCustomers()]);
    const locations = places.items.filter((l) => l.active);
    main.append(newQuoteForm(locations, shop?.currency, { customers, customer: params.get("customer") }));
    main.querySelector("[name='contact.name']")?.focus();
  } else if (staff) {
    main.append(h("p", { class: "actions" }, h("a", { href: "/admin/quotes?new=1", class: "button", id: "new-quote-link" }, t("quotes.new"))));
  }
  main.append(list);
  const pager = paged(list, "/quotes", () => ({ status: status.value }),
    (items) => table(columns, items, {
      empty: status.value ? t("quotes.noneWith", { status: quoteStatusName(status.value) }) : t("quotes.none"),
      caption: t("quotes.title"),
    }));
  status.addEventListener("change", () => {
    // Keep the filter in the address, so Back from a quote returns to it.
    const search = status.value ? `?${new URLSearchParams({ status: status.value })}` : "";
    history.replaceState(null, "", location.pathname + search);
    pager.reload();
  });
  await pager.reload();
}
