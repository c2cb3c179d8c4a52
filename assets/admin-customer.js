// Back office: one trade customer (`/admin/customer?code=…`): their details
// and the price list they buy at; staff who make quotes change them (saved
// with the version read, so a colleague's change in between is not undone),
// archive or restore them, and start a quote for them. Their contacts (the
// people who sign in to the storefront's trade account) and the invitations
// not yet taken up: staff invite someone (a link shown once, to pass on:
// Quarry sends no e-mail), disable or enable a contact, withdraw an
// invitation. And their quotes, with what they came to this year.
import { api, money } from "/assets/api.js";
import { busy, clearErrors, h, markMissing, say, showError, when } from "/assets/ui.js";
import { card, paged, quoteStatusName, table } from "/assets/admin-kit.js";
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

function draw(main, customer, lists, { staff, shop, notice, kind = "ok" }) {
  const message = h("p", { class: "message", role: "status", id: "customer-message" });
  const redraw = (next, text, said) => draw(main, next, lists, { staff, shop, notice: text, kind: said });
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
    contactsSection(customer, { staff }),
    quotesSection(customer, { shop }),
    staff
      ? h("section", { class: "card", id: "customer-edit-card" }, h("h2", {}, t("customer.change")),
        customerForm(lists, (next) => redraw(next, t("customers.saved", { code: next.code })), customer))
      : h("p", { class: "muted" }, t("customers.viewersOnly")),
  ].filter(Boolean));
  if (notice) say(message, notice, kind);
}

/** A contact's state as a badge: active, or disabled. */
function contactBadge(contact) {
  return h("span", { class: "badge", dataset: { status: contact.active ? "active" : "archived" } },
    contact.active ? t("contacts.active") : t("contacts.disabled"));
}

/** An invitation's state as a badge: pending, or expired. */
function inviteBadge(invite) {
  const expired = invite.status === "expired";
  return h("span", { class: "badge", dataset: { status: expired ? "expired" : "open" } },
    expired ? t("contacts.expired") : t("contacts.pending"));
}

/** Who did something: "yard", "cli" (the command line), a contact's login. */
function actorName(actor) {
  if (!actor) return "—";
  return String(actor).replace(/^(user|contact|token):/, "");
}

/** An invitation link, shown once: to copy and pass on. */
function shownInvite(answer) {
  const field = h("input", { id: "invite-link", readonly: "", value: answer.link, "aria-label": t("contacts.linkLabel"), class: "mono" });
  const copied = h("span", { class: "muted", "aria-live": "polite" });
  const copy = h("button", { type: "button", class: "secondary", id: "copy-invite" }, t("contacts.copy"));
  copy.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(answer.link);
      copied.textContent = t("contacts.copied");
    } catch {
      // No clipboard (a page not served over HTTPS): the link is selected to copy by hand.
      copied.textContent = t("contacts.copyByHand");
    }
  });
  field.addEventListener("focus", () => field.select());
  return h("div", { class: "stack invite-link", id: "invite-link-box" },
    h("p", { class: "message ok", role: "status" }, t("contacts.invited", { email: answer.invite.email, name: answer.invite.name })),
    h("label", { for: "invite-link" }, t("contacts.linkLabel")),
    h("div", { class: "toolbar" }, field, copy, copied),
    h("p", { class: "muted", id: "invite-link-note" }, t("contacts.linkNote")));
}

/**
 * The customer's contacts and open invitations; for staff, the buttons that
 * disable, enable and withdraw, and the form that invites someone.
 */
function contactsSection(customer, { staff }) {
  const code = customer.code;
  const base = `/customers/${encodeURIComponent(code)}`;
  const message = h("p", { class: "message", role: "status", id: "contacts-message" });
  const lists = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, t("common.loading")));
  const linkBox = h("div", {});

  async function invite(body, button) {
    return busy(button, t("contacts.inviting"), async () => {
      const answer = await api(`${base}/invites`, { method: "POST", body });
      linkBox.replaceChildren(shownInvite(answer));
      await refresh();
      linkBox.querySelector("input")?.focus();
      return answer;
    });
  }

  function contactRow(contact) {
    if (!staff) return null;
    const toggle = h("button", { type: "button", class: contact.active ? "danger toggle-contact" : "secondary toggle-contact" },
      contact.active ? t("contacts.disable") : t("contacts.enable"));
    toggle.addEventListener("click", () => {
      if (contact.active && !confirm(t("contacts.disableConfirm", { name: contact.name, login: contact.login }))) return;
      busy(toggle, t("common.saving"), async () => {
        try {
          const next = await api(`${base}/contacts/${encodeURIComponent(contact.login)}`, { method: "PUT", body: { active: !contact.active } });
          await refresh();
          say(message, next.active ? t("contacts.enabled", { login: next.login }) : t("contacts.disabledDone", { login: next.login }), "ok");
        } catch (error) {
          say(message, error.message, "error");
        }
      });
    });
    const again = h("button", { type: "button", class: "secondary new-password-link" }, t("contacts.passwordLink"));
    again.addEventListener("click", async () => {
      try {
        await invite({ email: contact.login, name: contact.name }, again);
        say(message, "");
      } catch (error) {
        say(message, error.message, "error");
      }
    });
    return h("div", { class: "actions" }, toggle, contact.active ? again : null);
  }

  function withdrawButton(invite) {
    if (!staff) return null;
    const button = h("button", { type: "button", class: "secondary withdraw-invite" }, t("contacts.withdraw"));
    button.addEventListener("click", () => {
      if (!confirm(t("contacts.withdrawConfirm", { email: invite.email }))) return;
      busy(button, t("common.saving"), async () => {
        try {
          await api(`${base}/invites/${encodeURIComponent(invite.id)}`, { method: "DELETE" });
          await refresh();
          say(message, t("contacts.withdrawn", { email: invite.email }), "ok");
        } catch (error) {
          say(message, error.message, "error");
        }
      });
    });
    return button;
  }

  async function refresh() {
    lists.setAttribute("aria-busy", "true");
    try {
      const { contacts, invites } = await api(`${base}/contacts`);
      const contactColumns = [
        [t("contacts.name"), (c) => c.name],
        [t("contacts.login"), (c) => h("span", { class: "mono" }, c.login)],
        [t("contacts.state"), contactBadge],
        [t("contacts.invitedBy"), (c) => actorName(c.invited_by)],
        [t("contacts.created"), (c) => when(c.created_at)],
      ];
      if (staff) contactColumns.push(["", contactRow]);
      const inviteColumns = [
        [t("contacts.email"), (i) => h("span", { class: "mono" }, i.email)],
        [t("contacts.name"), (i) => i.name],
        [t("contacts.state"), inviteBadge],
        [t("contacts.invitedBy"), (i) => actorName(i.created_by)],
        [t("contacts.expires"), (i) => when(i.expires_at)],
      ];
      if (staff) inviteColumns.push(["", withdrawButton]);
      const contactTable = table(contactColumns, contacts, { empty: t("contacts.none"), caption: t("contacts.title") });
      contactTable.id = "contacts";
      const inviteTable = table(inviteColumns, invites, { empty: t("contacts.noInvites"), caption: t("contacts.invitations") });
      inviteTable.id = "invites";
      lists.replaceChildren(
        contactTable,
        h("h3", {}, t("contacts.invitations")),
        inviteTable);
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      lists.removeAttribute("aria-busy");
    }
  }

  let form = null;
  if (staff && customer.active) {
    const formMessage = h("p", { class: "message", role: "alert" });
    const submit = h("button", { type: "submit", id: "send-invite" }, t("contacts.invite"));
    form = h("form", { id: "invite-form", class: "form-grid", novalidate: true },
      h("label", {}, t("contacts.email"), h("input", { name: "email", type: "email", required: true, maxlength: "254", autocomplete: "off", spellcheck: "false", placeholder: t("contacts.emailExample") })),
      h("label", {}, t("contacts.name"), h("input", { name: "name", required: true, maxlength: "120", autocomplete: "off", placeholder: t("contacts.nameExample") })),
      h("div", { class: "actions wide" }, submit),
      h("div", { class: "wide" }, formMessage));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (markMissing(form, formMessage)) return;
      clearErrors(form);
      say(formMessage, "");
      try {
        await invite({ email: form.elements.email.value.trim(), name: form.elements.name.value.trim() }, submit);
        form.reset();
      } catch (error) {
        showError(form, formMessage, error);
      }
    });
  }

  refresh();
  return h("section", { class: "card", id: "contacts-card" },
    h("h2", {}, t("contacts.title")),
    h("p", { class: "muted" }, t("contacts.intro")),
    message,
    lists,
    form ? h("h3", {}, t("contacts.inviteTitle")) : null,
    form,
    linkBox,
    staff && !customer.active ? h("p", { class: "muted" }, t("contacts.archivedNoInvite")) : null);
}

/** Adds up API amounts ("491.47", "12.5") exactly; answers a decimal string. */
function sum(amounts) {
  const places = Math.max(2, ...amounts.map((a) => (String(a).split(".")[1] ?? "").length));
  const scaled = (a) => {
    const [whole, fraction = ""] = String(a).replace(/^-/, "").split(".");
    const value = BigInt(whole + fraction.padEnd(places, "0"));
    return String(a).startsWith("-") ? -value : value;
  };
  const total = amounts.reduce((n, a) => n + scaled(a), 0n);
  const sign = total < 0n ? "-" : "";
  const digits = (total < 0n ? -total : total).toString().padStart(places + 1, "0");
  return `${sign}${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

/** This year's accepted and fulfilled quotes of the customer (newest first, so
 *  the listing stops at the first of an earlier year). */
async function quotesThisYear(code, year) {
  const found = [];
  for (const status of ["accepted", "fulfilled"]) {
    let cursor = null;
    do {
      const page = await api("/quotes", { query: { customer: code, status, limit: 200, cursor } });
      const mine = page.items.filter((q) => new Date(q.created_at).getFullYear() === year);
      found.push(...mine);
      const older = page.items.some((q) => new Date(q.created_at).getFullYear() < year);
      cursor = older ? null : page.next_cursor;
    } while (cursor);
  }
  return found;
}

/** The customer's quotes, newest first, and what this year's came to. */
function quotesSection(customer, { shop }) {
  const code = customer.code;
  const year = new Date().getFullYear();
  const total = h("p", { id: "year-total" }, t("common.loading"));
  const section = h("section", { class: "card", id: "customer-quotes" },
    h("h2", {}, t("customerQuotes.title")),
    total);
  const columns = [
    [t("quotes.number"), (q) => h("a", { href: `/admin/quote?${new URLSearchParams({ number: q.number })}`, class: "mono" }, q.number)],
    [t("customerQuotes.date"), (q) => when(q.created_at)],
    [t("quotes.status"), (q) => h("span", { class: "badge", dataset: { status: q.status } }, quoteStatusName(q.status))],
    [t("quotes.total"), (q) => money(q.totals.gross, q.currency), { num: true }],
  ];
  paged(section, "/quotes", () => ({ customer: code }),
    (items) => table(columns, items, { empty: t("customerQuotes.none"), caption: t("customerQuotes.title") }),
    { limit: 20 }).reload();
  quotesThisYear(code, year).then((quotes) => {
    const currency = quotes[0]?.currency ?? shop?.currency ?? "EUR";
    total.replaceChildren(
      h("strong", {}, t("customerQuotes.yearTotal", { year, total: money(sum(quotes.map((q) => q.totals.gross)), currency) })), " ",
      h("span", { class: "muted" }, t("customerQuotes.yearCounts", { count: quotes.length, year })));
  }, (error) => say(total, error.message, "error"));
  return section;
}

export async function render(main, { staff, shop }) {
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
    draw(main, customer, lists, { staff, shop });
  } catch (error) {
    const text = error.status === 404 ? t("customer.missing", { code }) : error.message;
    main.replaceChildren(back, h("h1", {}, t("customer.customer")), h("p", { class: "message error", role: "alert" }, text));
  }
}
