// Back office: one trade customer (`/admin/customer?code=…`): their details
// and the price list they buy at; staff who make quotes change them (saved
// with the version read, so a colleague's change in between is not undone),
// archive or restore them, and start a quote for them.
import { api } from "/assets/api.js";
import { busy, h, say } from "/assets/ui.js";
import { card } from "/assets/admin-kit.js";
import { activeBadge, customerForm, listName, priceLists } from "/assets/admin-customers.js";
import { t } from "/assets/i18n.js";

/** The body PUT /customers/{code} takes: the customer without what the server keeps. */
function asInput(customer) {
  const { created_at: _made, updated_at: _changed, version: _version, ...input } = customer;
  return input;
}

/** A multi-line text (an address, notes) as it was typed. */
function lines(text) {
  return text ? h("div", { class: "address" }, text) : h("span", { class: "muted" }, "—");
}

function draw(main, customer, lists, { staff, notice, kind = "ok" }) {
  const message = h("p", { class: "message", role: "status", id: "customer-message" });
  const redraw = (next, text, said) => draw(main, next, lists, { staff, notice: text, kind: said });
  const fact = (label, ...value) => h("tr", {}, h("th", { scope: "row" }, label), h("td", {}, ...value));
  const list = customer.price_list
    ? h("a", { href: `/admin/price-lists#${encodeURIComponent(customer.price_list)}`, id: "customer-list" }, listName(customer.price_list, lists))
    : h("span", { id: "customer-list" }, t("customers.listPrices"));
  const facts = h("div", { class: "table-wrap" }, h("table", { id: "customer-facts" }, h("tbody", {},
    fact(t("customers.code"), h("span", { class: "mono" }, customer.code)),
    fact(t("customers.name"), customer.name),
    fact(t("customers.priceList"), list),
    fact(t("customers.taxNumber"), customer.tax_number ?? "—"),
    fact(t("customers.paymentTerms"), customer.payment_terms ?? "—"),
    fact(t("customers.billingAddress"), lines(customer.billing_address)),
    fact(t("customers.deliveryAddresses"), customer.delivery_addresses.length
      ? h("ul", { class: "addresses" }, customer.delivery_addresses.map((a) => h("li", { class: "address" }, a)))
      : h("span", { class: "muted" }, "—")),
    fact(t("customers.notes"), lines(customer.notes)),
    fact(t("customers.state"), activeBadge(customer)))));

  let actions = null;
  if (staff) {
    const quote = customer.active
      ? h("a", { href: `/admin/quotes?${new URLSearchParams({ new: "1", customer: customer.code })}`, class: "button", id: "quote-for-customer" }, t("customer.newQuote"))
      : null;
    const archive = h("button", { type: "button", class: customer.active ? "danger" : "secondary", id: "archive-customer" },
      customer.active ? t("customer.archive") : t("customer.restore"));
    archive.addEventListener("click", () => {
      if (customer.active && !confirm(t("customer.archiveConfirm", { code: customer.code, name: customer.name }))) return;
      busy(archive, t("common.saving"), async () => {
        try {
          const next = await api(`/customers/${encodeURIComponent(customer.code)}`, {
            method: "PUT", body: { ...asInput(customer), active: !customer.active }, headers: { "if-match": `"${customer.version}"` },
          });
          redraw(next, next.active ? t("customer.restored", { code: next.code }) : t("customer.archived", { code: next.code }));
        } catch (error) {
          say(message, error.status === 412 ? t("customers.stale", { code: customer.code }) : error.message, "error");
          if (error.status === 412) {
            const reload = h("button", { type: "button", class: "secondary" }, t("customers.reload"));
            reload.addEventListener("click", () => location.reload());
            message.append(" ", reload);
          }
        }
      });
    });
    actions = h("p", { class: "actions" }, quote, archive);
  }

  main.replaceChildren(...[
    h("p", {}, h("a", { href: "/admin/customers" }, t("customer.back"))),
    h("h1", {}, `${t("customer.heading", { code: customer.code, name: customer.name })} `, activeBadge(customer)),
    message,
    actions,
    card(t("customer.details"), facts),
    staff
      ? h("section", { class: "card", id: "customer-edit-card" }, h("h2", {}, t("customer.change")),
        customerForm(lists, (next) => redraw(next, t("customers.saved", { code: next.code })), customer))
      : h("p", { class: "muted" }, t("customers.viewersOnly")),
  ].filter(Boolean));
  if (notice) say(message, notice, kind);
}

export async function render(main, { staff }) {
  const code = new URLSearchParams(location.search).get("code");
  const back = h("p", {}, h("a", { href: "/admin/customers" }, t("customer.back")));
  if (!code) {
    main.append(back, h("h1", {}, t("customer.customer")), h("p", { class: "message error", role: "alert" }, t("customer.which")));
    return;
  }
  try {
    const [customer, lists] = await Promise.all([
      api(`/customers/${encodeURIComponent(code)}`),
      priceLists().catch(() => []),
    ]);
    draw(main, customer, lists, { staff });
  } catch (error) {
    const text = error.status === 404 ? t("customer.missing", { code }) : error.message;
    main.replaceChildren(back, h("h1", {}, t("customer.customer")), h("p", { class: "message error", role: "alert" }, text));
  }
}
