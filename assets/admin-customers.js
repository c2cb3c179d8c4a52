// Back office: trade customers (`/admin/customers`): the shop's accounts, in
// code order, each with the price list they buy at, opening its own page
// (`/admin/customer?code=…`, admin-customer.js). Everyone signed in sees them;
// staff who make quotes add them here. The form that adds one also changes
// one on its page.
import { api } from "/assets/api.js";
import { busy, clearErrors, h, markMissing, say, showError } from "/assets/ui.js";
import { card, table } from "/assets/admin-kit.js";
import { t } from "/assets/i18n.js";

/** The address of a customer's back-office page. */
export function customerPage(code) {
  return `/admin/customer?${new URLSearchParams({ code })}`;
}

/** A customer's state as a badge: active, or archived. */
export function activeBadge(customer) {
  const state = customer.active ? "active" : "archived";
  return h("span", { class: "badge", dataset: { status: state } }, customer.active ? t("customers.active") : t("customers.archived"));
}

/** A price list named for people ("TRADE-A — Trade list A"), or "List prices" for none. */
export function listName(code, lists) {
  if (!code) return t("customers.listPrices");
  const list = lists.find((l) => l.code === code);
  return list ? `${list.code} — ${list.name}` : code;
}

/** The delivery addresses as typed: one address a block, blocks apart by an empty line. */
function addressBlocks(text) {
  return text.split(/\n[ \t]*\n/).map((block) => block.replace(/^\s+|\s+$/g, "")).filter(Boolean);
}

/** The server's refusal in the page's words, for the refusals staff meet most. */
function explain(error, code) {
  if (error.code === "duplicate_customer") error.message = t("customers.duplicate", { code });
  return error;
}

/**
 * The form that adds a customer, or, with `customer` (as GET /customers/{code}
 * answers it), changes that one: saved with the version it was read at, so a
 * colleague's change in between is not undone. `lists` are the price lists to
 * choose from; `saved(customer)` hears the customer saved.
 */
export function customerForm(lists, saved, customer = null) {
  const editing = customer !== null;
  const message = h("p", { class: "message", role: "alert" });
  const field = (label, name, attrs = {}, tag = "input") => h("label", { class: attrs.wide ? "wide" : null }, label,
    h(tag, { name, autocomplete: "off", ...attrs, wide: null }));
  const list = h("select", { name: "price_list" },
    h("option", { value: "" }, t("customers.listPrices")),
    lists.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`)));
  const submit = h("button", { type: "submit", id: "save-customer" }, editing ? t("customers.save") : t("customers.add"));
  const form = h("form", { id: editing ? "customer-edit" : "customer-form", class: "form-grid", novalidate: true },
    field(t("customers.code"), "code", { required: true, maxlength: "32", class: "mono", placeholder: "NORTHBUILD", readOnly: editing }),
    field(t("customers.name"), "name", { required: true, maxlength: "120", placeholder: t("customers.nameExample") }),
    field(t("customers.taxNumber"), "tax_number", { maxlength: "200" }),
    field(t("customers.paymentTerms"), "payment_terms", { maxlength: "200", placeholder: t("customers.termsExample") }),
    h("label", {}, t("customers.priceList"), list),
    field(t("customers.billingAddress"), "billing_address", { maxlength: "500", rows: "4", wide: true }, "textarea"),
    field(t("customers.deliveryAddresses"), "delivery_addresses", { maxlength: "10500", rows: "6", wide: true }, "textarea"),
    h("p", { class: "muted wide" }, t("customers.deliveryRule")),
    field(t("customers.notes"), "notes", { maxlength: "10000", rows: "3", wide: true }, "textarea"),
    h("p", { class: "muted wide" }, t("customers.notesRule")),
    h("div", { class: "actions wide" }, submit),
    h("div", { class: "wide" }, message));

  const fill = (c) => {
    form.elements.code.value = c.code;
    form.elements.name.value = c.name;
    form.elements.tax_number.value = c.tax_number ?? "";
    form.elements.payment_terms.value = c.payment_terms ?? "";
    // A list no longer offered stays as it is until another is chosen.
    if (c.price_list && !lists.some((l) => l.code === c.price_list)) list.append(h("option", { value: c.price_list }, c.price_list));
    list.value = c.price_list ?? "";
    form.elements.billing_address.value = c.billing_address ?? "";
    form.elements.delivery_addresses.value = (c.delivery_addresses ?? []).join("\n\n");
    form.elements.notes.value = c.notes ?? "";
  };
  if (editing) fill(customer);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    if (markMissing(form, message)) return;
    const text = (name) => form.elements[name].value.trim() || null;
    const code = editing ? customer.code : form.elements.code.value.trim();
    const body = {
      code,
      name: form.elements.name.value.trim(),
      tax_number: text("tax_number"),
      billing_address: text("billing_address"),
      delivery_addresses: addressBlocks(form.elements.delivery_addresses.value),
      payment_terms: text("payment_terms"),
      notes: text("notes"),
      price_list: list.value || null,
      active: editing ? customer.active : true,
    };
    busy(submit, t("common.saving"), async () => {
      try {
        const done = editing
          ? await api(`/customers/${encodeURIComponent(code)}`, { method: "PUT", body, headers: { "if-match": `"${customer.version}"` } })
          : await api("/customers", { method: "POST", body });
        if (editing) customer = done;
        else form.reset();
        await saved(done);
      } catch (error) {
        if (error.status === 412) {
          // A colleague saved it after this page read it: saving would undo their change.
          showError(form, message, { message: t("customers.stale", { code }) });
          const reload = h("button", { type: "button", class: "secondary", id: "reload-customer" }, t("customers.reload"));
          reload.addEventListener("click", () => location.reload());
          message.append(" ", reload);
          return;
        }
        showError(form, message, explain(error, code));
      }
    });
  });
  return form;
}

/** The price lists, or none when they cannot be read (the form still works without). */
export async function priceLists() {
  return (await api("/price-lists")).items;
}

export async function render(main, { staff }) {
  const message = h("p", { class: "message", role: "status", id: "customers-message" });
  const body = h("div", { "aria-live": "polite" });
  const more = h("button", { type: "button", class: "secondary", id: "more-customers", hidden: true }, t("customers.more"));
  const list = card(t("customers.all"), message, body, h("div", { class: "pager" }, more));
  list.id = "customers";
  main.append(h("h1", {}, t("customers.title")), h("p", { class: "muted" }, t("customers.intro")));
  if (staff) {
    main.append(h("p", { class: "actions" }, h("a", { href: "#customer-form", class: "button secondary" }, t("customers.addTitle"))));
  }
  main.append(list);

  const lists = await priceLists().catch((error) => {
    say(message, error.message, "error");
    return [];
  });
  const columns = [
    [t("customers.code"), (c) => h("a", { href: customerPage(c.code), class: "mono" }, c.code)],
    [t("customers.name"), (c) => c.name],
    [t("customers.priceList"), (c) => listName(c.price_list, lists)],
    [t("customers.paymentTerms"), (c) => c.payment_terms ?? "—"],
    [t("customers.state"), activeBadge],
  ];
  const rows = [];
  let cursor = null;

  /** Reads a page of customers after `cursor` (none: from the start). */
  async function load(from = null) {
    body.setAttribute("aria-busy", "true");
    try {
      const answer = await api("/customers", { query: { limit: 50, cursor: from ?? "" } });
      if (!from) rows.length = 0;
      rows.push(...answer.items);
      cursor = answer.next_cursor;
      more.hidden = !cursor;
      body.replaceChildren(table(columns, rows, { empty: t("customers.none"), caption: t("customers.all") }));
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      body.removeAttribute("aria-busy");
    }
  }
  more.addEventListener("click", () => busy(more, t("common.loading"), () => load(cursor)));

  if (staff) {
    const form = customerForm(lists, async (customer) => {
      await load();
      say(message, t("customers.added", { code: customer.code }), "ok");
      body.querySelector(`a[href="${CSS.escape(customerPage(customer.code))}"]`)?.focus();
    });
    main.append(h("section", { class: "card", id: "customer-form-card" }, h("h2", {}, t("customers.addTitle")), form));
  } else {
    list.append(h("p", { class: "muted" }, t("customers.viewersOnly")));
  }
  await load();
}
