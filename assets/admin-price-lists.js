// Back office: price lists (`/admin/price-lists`): what trade customers pay,
// as rules over the catalogue's prices (a fixed price for one SKU, or a
// percentage off a SKU, a category or everything, from a quantity, between
// dates). Everyone signed in sees the lists and tries them in the preview;
// staff who make quotes add, change and delete them. Amounts and quantities
// are typed the shop's way ("45,00" in de-DE).
import { api, money } from "/assets/api.js";
import { busy, clearErrors, h, markMissing, readNumbers, say, showError } from "/assets/ui.js";
import { card, table } from "/assets/admin-kit.js";
import { date, decimal, localNumbers, t, toInput } from "/assets/i18n.js";
import { productCombobox } from "/assets/product-combobox.js";

/** A number box: typed the shop's way, read by `readNumbers` on saving. */
const NUMBER = { inputmode: "decimal", autocomplete: "off", maxlength: "24" };

/** What a rule gives and for what, in the page's words: "7 % off Aggregates from 20". */
function describe(rule, currency) {
  const what = rule.sku ? rule.sku : rule.category ? rule.category : t("rules.everything");
  const parts = [rule.price
    ? t("rules.fixedFor", { price: money(rule.price, currency), what })
    : t("rules.percentFor", { percent: decimal(rule.percent_off), what })];
  if (rule.min_quantity) parts.push(t("rules.fromQuantity", { quantity: decimal(rule.min_quantity) }));
  if (rule.valid_from) parts.push(t("rules.validFrom", { date: date(rule.valid_from) }));
  if (rule.valid_until) parts.push(t("rules.validUntil", { date: date(rule.valid_until) }));
  return parts.join(", ");
}

/** Why a list cannot be deleted, or another refusal, in the page's words. */
function explain(error, code) {
  if (error.code === "price_list_in_use") {
    const who = /\(([^)]*)\)/.exec(error.message)?.[1];
    if (who) error.message = t("priceLists.inUse", { code, customers: who });
  } else if (error.code === "duplicate_price_list") {
    error.message = t("priceLists.duplicate", { code });
  } else if (error.status === 404) {
    error.message = t("priceLists.gone", { code });
  }
  return error;
}

/**
 * The rules of a list as a table to edit: each row applies to a SKU, a
 * category or everything, gives a fixed price or a percentage off, from a
 * quantity, between dates. Its boxes are named as the API names a rule's
 * parts (`rules[2].percent_off`), so a refusal is said at its box.
 */
function rulesEditor(categories) {
  const tbody = h("tbody");
  const none = h("p", { class: "muted" }, t("rules.none"));
  const rules = h("table", { id: "rules-table" },
    h("caption", { class: "visually-hidden" }, t("rules.title")),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("rules.appliesTo")),
      h("th", { scope: "col" }, t("rules.gives")),
      h("th", { scope: "col" }, t("rules.minQuantity")),
      h("th", { scope: "col" }, t("rules.validFromLabel")),
      h("th", { scope: "col" }, t("rules.validUntilLabel")),
      h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("rules.remove"))))),
    tbody);
  const add = h("button", { type: "button", class: "secondary", id: "add-rule" }, t("rules.add"));
  const el = h("fieldset", { id: "rules" }, h("legend", {}, t("rules.title")),
    h("p", { class: "muted" }, t("rules.explain")),
    h("div", { class: "table-wrap" }, rules), none, h("div", { class: "actions" }, add));

  /** Each box's name from its row's place and what its row's choices are. */
  function renumber() {
    [...tbody.children].forEach((tr, i) => {
      const n = i + 1;
      const scope = tr.querySelector('[data-field="scope"]').value;
      const kind = tr.querySelector('[data-field="kind"]').value;
      const target = tr.querySelector('[data-field="target"]');
      target.name = `rules[${i}].${scope === "all" ? "target" : scope}`;
      target.hidden = scope === "all";
      target.required = scope !== "all";
      if (scope === "category") target.setAttribute("list", "rule-categories");
      else target.removeAttribute("list");
      target.placeholder = scope === "sku" ? "SAND-04" : scope === "category" ? "Aggregates/Sand" : "";
      target.closest("label").firstChild.textContent = scope === "sku" ? t("rules.skuOf", { n }) : t("rules.categoryOf", { n });
      const amount = tr.querySelector('[data-field="amount"]');
      amount.name = `rules[${i}].${kind === "price" ? "price" : "percent_off"}`;
      amount.closest("label").firstChild.textContent = kind === "price" ? t("rules.priceOf", { n }) : t("rules.percentOf", { n });
      const labels = { min_quantity: t("rules.minOf", { n }), valid_from: t("rules.fromOf", { n }), valid_until: t("rules.untilOf", { n }) };
      for (const box of tr.querySelectorAll("[data-part]")) {
        box.name = `rules[${i}].${box.dataset.part}`;
        box.closest("label").firstChild.textContent = labels[box.dataset.part];
      }
      tr.querySelector("button.remove-rule").setAttribute("aria-label", t("rules.removeOne", { n }));
    });
    rules.hidden = tbody.children.length === 0;
    none.hidden = !rules.hidden;
  }

  /** A hidden label for a box in a row: the column's name with the rule's number. */
  const boxed = (input) => h("label", {}, h("span", { class: "visually-hidden" }, ""), input);

  /** A row for `rule` (an API rule; none: a new one, 5 % off everything). */
  function append(rule = {}) {
    const scopeOf = rule.sku ? "sku" : rule.category ? "category" : "all";
    const scope = h("select", { dataset: { field: "scope" }, "aria-label": t("rules.appliesTo") },
      h("option", { value: "sku" }, t("rules.oneSku")),
      h("option", { value: "category" }, t("rules.oneCategory")),
      h("option", { value: "all" }, t("rules.everything")));
    scope.value = scopeOf;
    const target = h("input", { dataset: { field: "target" }, autocomplete: "off", maxlength: "200", class: "mono",
      value: rule.sku ?? rule.category ?? "" });
    const kind = h("select", { dataset: { field: "kind" }, "aria-label": t("rules.gives") },
      h("option", { value: "percent" }, t("rules.percentOff")),
      h("option", { value: "price" }, t("rules.fixedPrice")));
    kind.value = rule.price ? "price" : "percent";
    const amount = h("input", { dataset: { field: "amount" }, ...NUMBER, class: "qty", required: true,
      value: toInput(rule.price ?? rule.percent_off ?? "") });
    const min = h("input", { dataset: { part: "min_quantity" }, ...NUMBER, class: "qty", value: toInput(rule.min_quantity ?? "") });
    const from = h("input", { type: "date", dataset: { part: "valid_from" }, maxlength: "10", value: rule.valid_from ?? "" });
    const until = h("input", { type: "date", dataset: { part: "valid_until" }, maxlength: "10", value: rule.valid_until ?? "" });
    const remove = h("button", { type: "button", class: "secondary remove-rule" }, t("rules.remove"));
    const tr = h("tr", { class: "rule" },
      h("td", {}, h("div", { class: "stack tight" }, scope, boxed(target))),
      h("td", {}, h("div", { class: "stack tight" }, kind, boxed(amount))),
      h("td", {}, boxed(min)),
      h("td", {}, boxed(from)),
      h("td", {}, boxed(until)),
      h("td", {}, remove));
    scope.addEventListener("change", () => {
      renumber();
      if (!target.hidden) target.focus();
    });
    kind.addEventListener("change", renumber);
    remove.addEventListener("click", () => {
      const next = tr.nextElementSibling ?? tr.previousElementSibling;
      tr.remove();
      renumber();
      (next?.querySelector("select") ?? add).focus();
    });
    tbody.append(tr);
    renumber();
    return tr;
  }
  add.addEventListener("click", () => {
    const tr = append();
    tr.querySelector("select").focus();
  });

  return {
    el: h("div", {}, el, h("datalist", { id: "rule-categories" }, categories.map((c) => h("option", { value: c.path })))),
    /** Shows `list`'s rules (none: an empty table). */
    show(list) {
      tbody.replaceChildren();
      for (const rule of list ?? []) append(rule);
      renumber();
    },
    /** The number boxes by name, with what was typed in them, for `readNumbers`. */
    typed() {
      return Object.fromEntries([...tbody.querySelectorAll("input[inputmode=decimal]")].map((box) => [box.name, box.value]));
    },
    /** The rules as the API takes them, the numbers as `readNumbers` read them. */
    read(numbers) {
      return [...tbody.children].map((tr) => {
        const rule = {};
        const scope = tr.querySelector('[data-field="scope"]').value;
        const target = tr.querySelector('[data-field="target"]').value.trim();
        if (scope !== "all") rule[scope] = target;
        const amount = tr.querySelector('[data-field="amount"]');
        rule[amount.name.split(".")[1]] = numbers[amount.name];
        for (const box of tr.querySelectorAll("[data-part]")) {
          const value = box.inputMode === "decimal" ? numbers[box.name] : box.value;
          if (value) rule[box.dataset.part] = value;
        }
        return rule;
      });
    },
  };
}

/**
 * The form that adds a list, or changes one when `edit(list)` was called;
 * `saved(list, created)` hears each list saved.
 */
function listForm(categories, saved) {
  const message = h("p", { class: "message", role: "alert" });
  const rules = rulesEditor(categories);
  const submit = h("button", { type: "submit", id: "save-list" }, t("priceLists.add"));
  const cancel = h("button", { type: "button", class: "secondary", hidden: true, id: "cancel-list" }, t("priceLists.newInstead"));
  const form = h("form", { id: "list-form", class: "stack", novalidate: true },
    h("div", { class: "form-grid" },
      h("label", {}, t("priceLists.code"), h("input", { name: "code", required: true, maxlength: "32", class: "mono", autocomplete: "off", placeholder: "TRADE-C" })),
      h("label", {}, t("priceLists.name"), h("input", { name: "name", required: true, maxlength: "120", autocomplete: "off", placeholder: t("priceLists.nameExample") }))),
    rules.el,
    message,
    h("div", { class: "actions" }, submit, cancel));
  const heading = h("h2", {}, t("priceLists.addTitle"));
  const box = h("section", { class: "card", id: "list-form-card" }, heading, form);
  let editing = null;

  const show = (list) => {
    editing = list;
    clearErrors(form);
    say(message, "");
    form.reset();
    heading.textContent = list ? t("priceLists.editTitle", { code: list.code }) : t("priceLists.addTitle");
    submit.textContent = list ? t("priceLists.save") : t("priceLists.add");
    cancel.hidden = !list;
    form.elements.code.readOnly = Boolean(list);
    form.elements.code.value = list?.code ?? "";
    form.elements.name.value = list?.name ?? "";
    rules.show(list?.rules ?? [{ percent_off: "5" }]);
  };
  cancel.addEventListener("click", () => {
    show(null);
    form.elements.code.focus();
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    if (markMissing(form, message)) return;
    const numbers = readNumbers(form, message, rules.typed());
    if (!numbers) return;
    const code = editing?.code ?? form.elements.code.value.trim();
    const body = { name: form.elements.name.value.trim(), rules: rules.read(numbers) };
    const created = !editing;
    busy(submit, t("common.saving"), async () => {
      try {
        return created
          ? await api("/price-lists", { method: "POST", body: { code, ...body } })
          : await api(`/price-lists/${encodeURIComponent(code)}`, { method: "PUT", body });
      } catch (error) {
        showError(form, message, explain(error, code));
        return null;
      }
    }).then(async (list) => {
      // Shown once the button is itself again: the list saved, to change further or try.
      if (!list) return;
      show(list);
      await saved(list, created);
    });
  });
  show(null);

  return {
    box,
    edit(list) {
      show(list);
      box.scrollIntoView({ block: "start" });
      form.elements.name.focus();
    },
    /** The list being changed, if any. */
    editing: () => editing?.code ?? null,
    reset: () => show(null),
  };
}

/**
 * The preview: what a product costs at a list, as the server prices it —
 * the working out, the unit price, net and gross, the rule that applied and
 * what it saved, or that no rule applies.
 */
function previewBox() {
  const message = h("p", { class: "message", role: "alert" });
  const list = h("select", { name: "list", id: "preview-list" });
  const sku = h("input", {
    name: "sku", id: "preview-sku", autocomplete: "off", maxlength: "64", required: true, class: "mono", placeholder: "SAND-04",
    role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "preview-options",
  });
  const options = h("ul", { id: "preview-options", role: "listbox", "aria-labelledby": "preview-sku-label", hidden: true });
  const matches = h("p", { class: "visually-hidden", role: "status" });
  const unit = h("select", { name: "unit", id: "preview-unit" }, h("option", { value: "" }, t("preview.pricingUnit")));
  let unitsFor = null;
  /** The units `code` is sold in, as the unit's choices (its pricing unit first, the default). */
  async function units(code) {
    if (!code || code === unitsFor) return;
    unitsFor = code;
    const chosen = unit.value;
    unit.replaceChildren(h("option", { value: "" }, t("preview.pricingUnit")));
    try {
      const product = await api(`/products/${encodeURIComponent(code)}`);
      const all = [...new Set([product.pricing_unit ?? product.unit, product.unit, ...(product.packs ?? []).map((p) => p.name)].filter(Boolean))];
      unit.append(...all.map((u) => h("option", { value: u }, u)));
      if (all.includes(chosen)) unit.value = chosen;
    } catch {
      // An unknown SKU: the preview says so when asked.
    }
  }
  productCombobox({
    input: sku, listbox: options, status: matches, optionId: "preview-option",
    matches: (count) => t("newQuote.matches", { count }),
    noMatch: () => t("newQuote.noMatch"),
    onPick: (code) => {
      sku.value = code;
      units(code);
    },
    onEnter: () => form.requestSubmit(),
  });
  sku.addEventListener("change", () => units(sku.value.trim()));
  const amount = h("input", { name: "quantity", id: "preview-quantity", required: true, ...NUMBER, value: "1" });
  const submit = h("button", { type: "submit", id: "preview-go" }, t("preview.show"));
  const result = h("div", { id: "preview-result", "aria-live": "polite" });
  const form = h("form", { id: "preview-form", class: "stack", novalidate: true },
    h("div", { class: "form-grid" },
      h("label", {}, t("preview.list"), list),
      h("div", { class: "combo" }, h("label", {}, h("span", { id: "preview-sku-label" }, t("preview.sku")), sku), options, matches),
      h("label", {}, t("preview.quantity"), amount),
      h("label", {}, t("preview.unit"), unit)),
    message,
    h("div", { class: "actions" }, submit),
    result);

  function draw(answer) {
    const line = answer.line;
    const m = (value) => money(value, answer.currency);
    const row = (label, value, strong) => h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "num" }, strong ? h("strong", {}, value) : value));
    const by = line.list_price;
    result.replaceChildren(
      h("p", {}, h("strong", {}, line.name), " ", h("span", { class: "muted mono" }, line.sku)),
      h("p", { class: "explain" }, localNumbers(line.explanation)),
      h("div", { class: "table-wrap" }, h("table", { class: "totals" },
        h("caption", { class: "visually-hidden" }, t("preview.title")),
        h("tbody", {},
          row(t("preview.unitPrice"), t("format.perUnit", { price: m(line.unit_price), unit: line.pricing.unit })),
          row(t("newQuote.net"), m(line.net), !answer.prices_include_tax),
          row(t("newQuote.tax"), m(line.tax)),
          row(t("newQuote.gross"), m(line.gross), answer.prices_include_tax)))),
      by
        ? h("p", { class: "message ok", id: "preview-rule" },
          t("preview.ruleApplied", { rule: localNumbers(by.rule) }), " ",
          t("preview.saving", { saving: m(by.saving), list: m(by.list_amount), price: t("format.perUnit", { price: m(by.list_unit_price), unit: line.pricing.unit }) }))
        : h("p", { class: "message info", id: "preview-rule" }, t("preview.noRule")),
      h("p", { class: "muted" }, answer.prices_include_tax ? t("preview.shownGross") : t("preview.shownNet")));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    if (markMissing(form, message)) return;
    const numbers = readNumbers(form, message, { quantity: amount.value });
    if (!numbers) return;
    say(message, "");
    busy(submit, t("preview.pricing"), async () => {
      try {
        const answer = await api(`/price-lists/${encodeURIComponent(list.value)}/preview`, {
          query: { sku: sku.value.trim(), quantity: numbers.quantity, unit: unit.value },
        });
        draw(answer);
      } catch (error) {
        result.replaceChildren();
        if (error.status === 404 && !error.field) error.field = "list";
        showError(form, message, error);
      }
    });
  });

  const el = card(t("preview.title"), h("p", { class: "muted" }, t("preview.explain")), form);
  el.id = "preview";
  return {
    el,
    /** The lists to choose from; `chosen` is picked when given. */
    lists(all, chosen) {
      const before = chosen ?? list.value;
      list.replaceChildren(...all.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`)));
      if (all.some((l) => l.code === before)) list.value = before;
    },
  };
}

export async function render(main, { shop, staff }) {
  const currency = shop.currency;
  const message = h("p", { class: "message", role: "status", id: "price-lists-message" });
  const body = h("div", { "aria-live": "polite" });
  const all = card(t("priceLists.all"), message, body);
  all.id = "price-lists";
  main.append(h("h1", {}, t("priceLists.title")), h("p", { class: "muted" }, t("priceLists.intro")), all);
  const categories = await api("/categories").then((answer) => answer.items).catch(() => []);
  const preview = previewBox();

  let form = null;
  const remove = (list, button) => {
    if (!confirm(t("priceLists.removeConfirm", { code: list.code, name: list.name }))) return;
    busy(button, t("priceLists.removing"), async () => {
      try {
        await api(`/price-lists/${encodeURIComponent(list.code)}`, { method: "DELETE" });
        if (form.editing() === list.code) form.reset();
        await load();
        say(message, t("priceLists.removed", { code: list.code }), "ok");
      } catch (error) {
        say(message, explain(error, list.code).message, "error");
        if (error.status === 404) await load();
      }
    });
  };
  const columns = [
    [t("priceLists.code"), (l) => h("span", { class: "mono", id: `list-${l.code}` }, l.code)],
    [t("priceLists.name"), (l) => l.name],
    [t("rules.title"), (l) => (l.rules.length
      ? h("ul", { class: "rules" }, l.rules.map((r) => h("li", {}, describe(r, currency))))
      : h("span", { class: "muted" }, t("rules.none")))],
  ];
  if (staff) {
    columns.push(["", (l) => {
      const edit = h("button", { type: "button", class: "secondary edit-list", dataset: { list: l.code }, "aria-label": t("priceLists.editOne", { code: l.code }) }, t("priceLists.edit"));
      edit.addEventListener("click", () => form.edit(l));
      const drop = h("button", { type: "button", class: "danger remove-list", dataset: { list: l.code }, "aria-label": t("priceLists.removeOne", { code: l.code }) }, t("priceLists.remove"));
      drop.addEventListener("click", () => remove(l, drop));
      return h("div", { class: "actions" }, edit, drop);
    }]);
  }

  let lists = [];
  async function load(chosen) {
    body.setAttribute("aria-busy", "true");
    try {
      lists = (await api("/price-lists")).items;
      body.replaceChildren(table(columns, lists, { empty: t("priceLists.none"), caption: t("priceLists.title") }));
      preview.lists(lists, chosen);
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  if (staff) {
    form = listForm(categories, async (list, created) => {
      await load(list.code);
      say(message, created ? t("priceLists.added", { code: list.code }) : t("priceLists.saved", { code: list.code }), "ok");
    });
    main.append(form.box);
  } else {
    all.append(h("p", { class: "muted" }, t("priceLists.viewersOnly")));
  }
  main.append(preview.el);
  await load();
  // `#TRADE-A` (from a customer's page): that list, to change or to try.
  const asked = decodeURIComponent(location.hash.slice(1));
  const named = lists.find((l) => l.code === asked);
  if (named) {
    preview.lists(lists, named.code);
    if (staff) form.edit(named);
    else document.getElementById(`list-${named.code}`)?.scrollIntoView({ block: "center" });
  }
}

