// One product: create (no `?sku=`) or edit (`?sku=SAND-04`), with units,
// packs, density, prices and tiers, reorder points, and archiving. The API's
// validation errors show next to the field they name; nothing typed is lost.
import { api, request } from "/assets/api.js";
import { busy, clearErrors, h, markMissing, say, showError } from "/assets/ui.js";
import { card } from "/assets/admin-kit.js";

function input(label, name, value, attrs = {}) {
  return h("label", { class: attrs.wide ? "wide" : null }, label,
    h("input", { name, value: value ?? "", autocomplete: "off", ...attrs, wide: null }));
}

function text(label, name, value, attrs = {}) {
  return h("label", { class: "wide" }, label, h("textarea", { name, maxlength: "4000", ...attrs }, value ?? ""));
}

/** Rows of inputs that can be added and removed, named `packs[0].name`… */
function repeater(legend, key, fields, values, addLabel) {
  const rows = h("div", { class: "stack" });
  const fieldset = h("fieldset", { class: "wide" }, h("legend", {}, legend), rows);
  const renumber = () => {
    [...rows.children].forEach((row, i) => {
      for (const el of row.querySelectorAll("[data-field]")) el.name = `${key}[${i}].${el.dataset.field}`;
      row.querySelector(".remove").setAttribute("aria-label", `Remove row ${i + 1} of ${legend}`);
    });
  };
  const add = (value = {}) => {
    const row = h("div", { class: "row" },
      fields.map(([label, field, attrs]) => h("label", {}, label,
        h("input", { dataset: { field }, value: value[field] ?? "", autocomplete: "off", ...attrs }))));
    const remove = h("button", { type: "button", class: "secondary remove" }, "Remove");
    remove.addEventListener("click", () => {
      row.remove();
      renumber();
      more.focus();
    });
    row.append(remove);
    rows.append(row);
    renumber();
  };
  const more = h("button", { type: "button", class: "secondary" }, addLabel);
  more.addEventListener("click", () => {
    add();
    rows.lastChild.querySelector("input").focus();
  });
  fieldset.append(more);
  for (const value of values ?? []) add(value);
  fieldset.read = () => [...rows.children].map((row) =>
    Object.fromEntries([...row.querySelectorAll("[data-field]")].map((el) => [el.dataset.field, el.value.trim()])))
    .filter((row) => Object.values(row).some(Boolean));
  return fieldset;
}

/**
 * Fills `list` (a datalist) with the categories products have, from the
 * search's category counts: the top level and the level under it at once,
 * deeper levels as a path is typed (`grow(typed)`).
 */
function categoryList(list) {
  const asked = new Map();
  const add = (paths) => {
    const have = new Set([...list.options].map((o) => o.value));
    for (const path of paths) if (!have.has(path)) list.append(h("option", { value: path }));
  };
  const under = (category) => {
    if (!asked.has(category)) {
      asked.set(category, api("/search", { query: { category, limit: 1 } })
        .then((answer) => Object.keys(answer.facets?.category ?? {}))
        .catch(() => []));
    }
    return asked.get(category);
  };
  under("").then(async (top) => {
    add(top);
    for (const children of await Promise.all(top.map(under))) add(children);
  });
  return {
    /** Offers the categories under the one typed (or its parent, while a level is typed). */
    grow(typed) {
      const path = typed.trim().replace(/\/+$/, "");
      if (!path.includes("/") && !typed.endsWith("/")) return;
      const known = [...list.options].find((o) => o.value.toLowerCase() === path.toLowerCase());
      if (known) under(known.value).then(add);
    },
  };
}

export async function render(main, { shop, staff }) {
  const sku = new URLSearchParams(location.search).get("sku");
  let product = {};
  let etag = null;
  if (sku) {
    try {
      const answer = await request(`/products/${encodeURIComponent(sku)}`);
      product = answer.body;
      etag = answer.response.headers.get("etag");
    } catch (error) {
      main.append(h("h1", {}, sku), h("p", { class: "message error", role: "alert" }, error.message));
      return;
    }
  }
  const locations = (await api("/locations", { query: { limit: 100 } }).catch(() => ({ items: [] }))).items;
  const message = h("p", { id: "product-message", class: "message", role: "alert" });
  // Where the page says what became of the product, in view at the top.
  const notice = h("p", { id: "product-notice", class: "message", role: "status", tabindex: "-1" });
  const categories = h("datalist", { id: "category-list" });
  const packs = repeater("Packs", "packs", [["Name", "name", { maxlength: "32", placeholder: "bag" }], ["Holds", "quantity", { inputmode: "decimal" }], ["Unit", "unit", { maxlength: "32", placeholder: "kg" }]], product.packs, "Add a pack");
  const breaks = repeater("Quantity prices", "price_breaks", [["From quantity", "min_quantity", { inputmode: "decimal" }], ["Price", "price", { inputmode: "decimal" }]], product.price_breaks, "Add a quantity price");
  const attributes = repeater("Attributes", "attributes", [["Name", "key", { maxlength: "64" }], ["Value", "value", { maxlength: "256" }]],
    Object.entries(product.attributes ?? {}).map(([key, value]) => ({ key, value })), "Add an attribute");
  const unit = h("select", { name: "unit" }, shop.units.map((u) => h("option", { value: u.code }, u.label)));
  unit.value = product.unit ?? "kg";
  const tax = h("select", { name: "tax_class" }, shop.tax_classes.map((t) => h("option", { value: t }, t)));
  tax.value = product.tax_class ?? (shop.tax_classes.includes("standard") ? "standard" : shop.tax_classes[0]);
  const check = (label, name, checked) => h("label", { class: "inline" }, h("input", { type: "checkbox", name, checked }), label);
  const save = h("button", { type: "submit", id: "save-product" }, sku ? "Save changes" : "Create product");
  const form = h("form", { id: "product-form", class: "stack", novalidate: true },
    h("fieldset", { class: "form-grid" }, h("legend", {}, "Product"),
      input("SKU", "sku", product.sku, { required: true, maxlength: "64", readonly: Boolean(sku) }),
      input("Name", "name", product.name, { required: true, maxlength: "200" }),
      input("Brand", "brand", product.brand, { maxlength: "80" }),
      input("Category", "category", product.category, { required: true, maxlength: "300", placeholder: "Aggregates/Sand", list: "category-list" }),
      categories,
      input("Tags (comma-separated)", "tags", (product.tags ?? []).join(", "), { maxlength: "700" }),
      text("Description", "description", product.description),
      check("Active (shown in the storefront)", "active", product.active ?? true)),
    h("fieldset", { class: "form-grid" }, h("legend", {}, "Units and prices"),
      h("label", {}, "Stock unit", unit),
      input("Price", "price", product.price, { required: true, inputmode: "decimal" }),
      input("Price is per (unit or pack; blank: stock unit)", "pricing_unit", product.pricing_unit, { maxlength: "32" }),
      input("Cost (per stock unit, staff only)", "cost", product.cost, { inputmode: "decimal" }),
      h("label", {}, "Tax class", tax),
      input("Minimum order (in the pricing unit)", "min_order", product.min_order, { inputmode: "decimal" }),
      input("Only sold in whole (pack name)", "sell_in_whole", product.sell_in_whole, { maxlength: "32" }),
      check("Allow back orders", "allow_backorder", product.allow_backorder),
      check("Takes fractions of a piece (stock unit pc)", "fractional_count", product.fractional_count)),
    h("fieldset", { class: "form-grid" }, h("legend", {}, "Measures"),
      input("Density (kg/m³)", "density_kg_m3", product.density_kg_m3, { inputmode: "decimal" }),
      input("Mass per metre (kg/m)", "mass_per_m_kg", product.mass_per_m_kg, { inputmode: "decimal" }),
      input("Mass per m² (kg/m²)", "mass_per_m2_kg", product.mass_per_m2_kg, { inputmode: "decimal" }),
      input("Barcode", "barcode", product.barcode, { maxlength: "64" })),
    packs, breaks, attributes,
    h("fieldset", { class: "form-grid" }, h("legend", {}, "Reorder points (in the stock unit)"),
      input("Every location", "reorder_point", product.reorder_point, { inputmode: "decimal" }),
      locations.map((l) => input(`At ${l.code}`, `reorder_points.${l.code}`, product.reorder_points?.[l.code], { inputmode: "decimal" }))),
    text("Internal notes (staff only)", "notes", product.notes),
    message,
    staff ? h("div", { class: "actions" }, save) : null);
  if (!staff) for (const el of form.elements) el.disabled = true;
  const offered = categoryList(categories);
  form.elements.category.addEventListener("input", (event) => offered.grow(event.target.value));

  const value = (name) => form.elements[name]?.value.trim() ?? "";
  const optional = (name) => value(name) || null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    say(notice, "");
    // Every required field left empty is marked at once, before asking the server.
    if (markMissing(form, message)) return;
    const body = {
      sku: value("sku"),
      name: value("name"),
      brand: optional("brand"),
      category: value("category"),
      description: form.elements.description.value,
      tags: value("tags").split(",").map((t) => t.trim()).filter(Boolean),
      attributes: Object.fromEntries(attributes.read().map((a) => [a.key, a.value])),
      unit: unit.value,
      price: value("price"),
      pricing_unit: optional("pricing_unit"),
      cost: optional("cost"),
      tax_class: tax.value,
      min_order: optional("min_order"),
      sell_in_whole: optional("sell_in_whole"),
      allow_backorder: form.elements.allow_backorder.checked,
      fractional_count: form.elements.fractional_count.checked,
      active: form.elements.active.checked,
      density_kg_m3: optional("density_kg_m3"),
      mass_per_m_kg: optional("mass_per_m_kg"),
      mass_per_m2_kg: optional("mass_per_m2_kg"),
      barcode: optional("barcode"),
      packs: packs.read(),
      price_breaks: breaks.read(),
      reorder_point: optional("reorder_point"),
      reorder_points: Object.fromEntries(locations.map((l) => [l.code, value(`reorder_points.${l.code}`)]).filter(([, v]) => v)),
      notes: form.elements.notes.value,
    };
    say(message, "Saving…", "info");
    try {
      const answer = await busy(save, "Saving…", () => sku
        ? request(`/products/${encodeURIComponent(sku)}`, { method: "PUT", body, headers: { "if-match": etag ?? "*" } })
        : request("/products", { method: "POST", body }));
      etag = answer.response.headers.get("etag");
      if (!sku) {
        location.assign(`/admin/product?sku=${encodeURIComponent(answer.body.sku)}&created=1`);
        return;
      }
      say(message, `Saved at ${new Date().toLocaleTimeString()}.`, "ok");
    } catch (error) {
      if (error.status === 412) {
        error.message = "Someone changed this product since you opened it. Copy what you typed, then reload the page to see their change.";
      }
      showError(form, message, error);
    }
  });

  main.append(...[
    h("p", {}, h("a", { href: "/admin/products" }, "← Products")),
    h("h1", {}, sku ? `${product.name}` : "New product"),
    sku ? h("p", { class: "muted" }, `${sku} · version ${product.version} · `, h("a", { href: `/p/${encodeURIComponent(sku)}`, target: "_blank", rel: "noopener" }, "see it in the storefront")) : null,
    notice,
    form].filter(Boolean));
  if (new URLSearchParams(location.search).has("created")) {
    say(notice, `Created ${sku}. Change anything below and save, or add the next one from Products.`, "ok");
    notice.focus();
    notice.scrollIntoView({ block: "nearest" });
    // Said once: a reload does not say it again.
    history.replaceState(history.state, "", `?${new URLSearchParams({ sku })}`);
  }
  if (sku && staff && product.active) main.append(archiveCard(sku, () => etag));
}

function archiveCard(sku, etag) {
  const message = h("p", { class: "message", role: "alert" });
  const button = h("button", { type: "button", class: "danger", id: "archive-product" }, "Archive product");
  button.addEventListener("click", async () => {
    if (!confirm(`Archive ${sku}? It leaves the storefront; its history stays.`)) return;
    try {
      await busy(button, "Archiving…", () => request(`/products/${encodeURIComponent(sku)}`, { method: "DELETE", headers: { "if-match": etag() ?? "*" } }));
      location.assign(`/admin/product?sku=${encodeURIComponent(sku)}`);
    } catch (error) {
      say(message, error.message, "error");
    }
  });
  return card("Archive", h("p", { class: "muted" }, "Archived products are hidden from customers and search, and can be made active again above."), button, message);
}
