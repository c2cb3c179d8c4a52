// One product: create (no `?sku=`) or edit (`?sku=SAND-04`), with units,
// packs, density, prices and tiers, reorder points, and archiving. The API's
// validation errors show next to the field they name; nothing typed is lost.
import { api, request } from "/assets/api.js";
import { busy, clearErrors, h, markMissing, readNumbers, say, showError } from "/assets/ui.js";
import { card } from "/assets/admin-kit.js";
import { photosCard } from "/assets/admin-photos.js";
import { stockCard } from "/assets/admin-product-stock.js";
import { t, time, toInput, unitName } from "/assets/i18n.js";

/** A number box: typed the shop's way ("41,50" in de-DE), read by `readNumbers` on saving. */
const NUMBER = { inputmode: "decimal" };

function input(label, name, value, attrs = {}) {
  const shown = attrs.inputmode === "decimal" ? toInput(value) : value ?? "";
  return h("label", { class: attrs.wide ? "wide" : null }, label,
    h("input", { name, value: shown, autocomplete: "off", ...attrs, wide: null }));
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
      row.querySelector(".remove").setAttribute("aria-label", t("productForm.removeRow", { row: i + 1, list: legend }));
    });
  };
  const add = (value = {}) => {
    const row = h("div", { class: "row" },
      fields.map(([label, field, attrs]) => h("label", {}, label,
        h("input", { dataset: { field }, value: attrs?.inputmode === "decimal" ? toInput(value[field]) : value[field] ?? "", autocomplete: "off", ...attrs }))));
    const remove = h("button", { type: "button", class: "secondary remove" }, t("productForm.remove"));
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
  // Number boxes give what `readNumbers` read from them (`numbers`, by name).
  fieldset.read = (numbers = {}) => [...rows.children].map((row) =>
    Object.fromEntries([...row.querySelectorAll("[data-field]")].map((el) =>
      [el.dataset.field, el.inputMode === "decimal" ? numbers[el.name] ?? "" : el.value.trim()])))
    .filter((row) => Object.values(row).some(Boolean));
  return fieldset;
}

/** Fills `list` (a datalist) with every category products are filed under. */
function categoryList(list) {
  api("/categories")
    .then((answer) => list.append(...answer.items.map((c) => h("option", { value: c.path }))))
    .catch(() => {
      // No list: the category is typed in full, as before.
    });
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
  let ours = 0;
  const versionNote = h("span");
  const showVersion = (version) => {
    product.version = version;
    ours = 0;
    versionNote.textContent = t("productForm.version", { sku, version: String(version) });
  };
  // A change of the photos is a new version of the product: the form's next
  // save would be refused as made on an old one. After each, the product is
  // read again, and its new ETag taken when nothing but these changes came
  // between (`ours` of them since the version the form knows); a change
  // someone else made meanwhile is still caught on saving. One reading after
  // another (`reading`), which saving waits for.
  let reading = Promise.resolve();
  const readAgain = async () => {
    try {
      const answer = await request(`/products/${encodeURIComponent(sku)}`);
      if (answer.body.version !== product.version + ours) return;
      etag = answer.response.headers.get("etag");
      showVersion(answer.body.version);
    } catch {
      // Not read again: saving may be refused as a conflict, which says what to do.
    }
  };
  const photosChanged = () => {
    ours += 1;
    reading = reading.then(readAgain);
  };

  if (sku) showVersion(product.version);
  const locations = (await api("/locations", { query: { limit: 100 } }).catch(() => ({ items: [] }))).items;
  const message = h("p", { id: "product-message", class: "message", role: "alert" });
  // Where the page says what became of the product, in view at the top.
  const notice = h("p", { id: "product-notice", class: "message", role: "status", tabindex: "-1" });
  const categories = h("datalist", { id: "category-list" });
  const packs = repeater(t("productForm.packs"), "packs", [[t("productForm.packName"), "name", { maxlength: "32", placeholder: t("productForm.packNameExample") }], [t("productForm.packHolds"), "quantity", NUMBER], [t("productForm.packUnit"), "unit", { maxlength: "32", placeholder: "kg" }]], product.packs, t("productForm.addPack"));
  const breaks = repeater(t("productForm.tiers"), "price_breaks", [[t("productForm.tierFrom"), "min_quantity", NUMBER], [t("productForm.tierPrice"), "price", NUMBER]], product.price_breaks, t("productForm.addTier"));
  const attributes = repeater(t("productForm.attributes"), "attributes", [[t("productForm.attributeName"), "key", { maxlength: "64" }], [t("productForm.attributeValue"), "value", { maxlength: "256" }]],
    Object.entries(product.attributes ?? {}).map(([key, value]) => ({ key, value })), t("productForm.addAttribute"));
  const unit = h("select", { name: "unit" }, shop.units.map((u) => h("option", { value: u.code }, unitName(u.code, u.label))));
  unit.value = product.unit ?? "kg";
  const tax = h("select", { name: "tax_class" }, shop.tax_classes.map((t) => h("option", { value: t }, t)));
  tax.value = product.tax_class ?? (shop.tax_classes.includes("standard") ? "standard" : shop.tax_classes[0]);
  const check = (label, name, checked) => h("label", { class: "inline" }, h("input", { type: "checkbox", name, checked }), label);
  const save = h("button", { type: "submit", id: "save-product" }, sku ? t("productForm.save") : t("productForm.create"));
  const form = h("form", { id: "product-form", class: "stack", novalidate: true },
    h("fieldset", { class: "form-grid" }, h("legend", {}, t("productForm.product")),
      input(t("productForm.sku"), "sku", product.sku, { required: true, maxlength: "64", readonly: Boolean(sku) }),
      input(t("productForm.name"), "name", product.name, { required: true, maxlength: "200" }),
      input(t("productForm.brand"), "brand", product.brand, { maxlength: "80" }),
      input(t("productForm.category"), "category", product.category, { required: true, maxlength: "300", placeholder: t("productForm.categoryExample"), list: "category-list" }),
      categories,
      input(t("productForm.tags"), "tags", (product.tags ?? []).join(", "), { maxlength: "700" }),
      text(t("productForm.description"), "description", product.description),
      check(t("productForm.active"), "active", product.active ?? true)),
    h("fieldset", { class: "form-grid" }, h("legend", {}, t("productForm.unitsAndPrices")),
      h("label", {}, t("productForm.stockUnit"), unit),
      input(t("productForm.price"), "price", product.price, { required: true, ...NUMBER }),
      input(t("productForm.pricingUnit"), "pricing_unit", product.pricing_unit, { maxlength: "32" }),
      input(t("productForm.cost"), "cost", product.cost, NUMBER),
      h("label", {}, t("productForm.taxClass"), tax),
      input(t("productForm.minOrder"), "min_order", product.min_order, NUMBER),
      input(t("productForm.sellInWhole"), "sell_in_whole", product.sell_in_whole, { maxlength: "32" }),
      check(t("productForm.backorder"), "allow_backorder", product.allow_backorder),
      check(t("productForm.fractional"), "fractional_count", product.fractional_count)),
    h("fieldset", { class: "form-grid" }, h("legend", {}, t("productForm.measures")),
      input(t("productForm.density"), "density_kg_m3", product.density_kg_m3, NUMBER),
      input(t("productForm.massPerMetre"), "mass_per_m_kg", product.mass_per_m_kg, NUMBER),
      input(t("productForm.massPerArea"), "mass_per_m2_kg", product.mass_per_m2_kg, NUMBER),
      input(t("productForm.barcode"), "barcode", product.barcode, { maxlength: "64" })),
    packs, breaks, attributes,
    h("fieldset", { class: "form-grid" }, h("legend", {}, t("productForm.reorderPoints")),
      input(t("productForm.everyLocation"), "reorder_point", product.reorder_point, NUMBER),
      locations.map((l) => input(t("productForm.at", { location: l.code }), `reorder_points.${l.code}`, product.reorder_points?.[l.code], NUMBER))),
    text(t("productForm.notes"), "notes", product.notes),
    message,
    staff ? h("div", { class: "actions" }, save) : null);
  if (!staff) for (const el of form.elements) el.disabled = true;
  categoryList(categories);

  const value = (name) => form.elements[name]?.value.trim() ?? "";
  const optional = (name) => value(name) || null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    say(notice, "");
    // Every required field left empty is marked at once, before asking the server.
    if (markMissing(form, message)) return;
    // Every number box, read the shop's way ("41,50" in de-DE) into the API's "41.50".
    const numbers = readNumbers(form, message, Object.fromEntries(
      [...form.querySelectorAll("input[inputmode=decimal]")].map((el) => [el.name, el.value])));
    if (!numbers) return;
    const number = (name) => numbers[name] ?? null;
    const body = {
      sku: value("sku"),
      name: value("name"),
      brand: optional("brand"),
      category: value("category"),
      description: form.elements.description.value,
      tags: value("tags").split(",").map((t) => t.trim()).filter(Boolean),
      attributes: Object.fromEntries(attributes.read().map((a) => [a.key, a.value])),
      unit: unit.value,
      price: number("price") ?? "",
      pricing_unit: optional("pricing_unit"),
      cost: number("cost"),
      tax_class: tax.value,
      min_order: number("min_order"),
      sell_in_whole: optional("sell_in_whole"),
      allow_backorder: form.elements.allow_backorder.checked,
      fractional_count: form.elements.fractional_count.checked,
      active: form.elements.active.checked,
      density_kg_m3: number("density_kg_m3"),
      mass_per_m_kg: number("mass_per_m_kg"),
      mass_per_m2_kg: number("mass_per_m2_kg"),
      barcode: optional("barcode"),
      packs: packs.read(numbers),
      price_breaks: breaks.read(numbers),
      reorder_point: number("reorder_point"),
      reorder_points: Object.fromEntries(locations.map((l) => [l.code, number(`reorder_points.${l.code}`)]).filter(([, v]) => v)),
      notes: form.elements.notes.value,
    };
    say(message, t("common.saving"), "info");
    try {
      await reading;
      const answer = await busy(save, t("common.saving"), () => sku
        ? request(`/products/${encodeURIComponent(sku)}`, { method: "PUT", body, headers: { "if-match": etag ?? "*" } })
        : request("/products", { method: "POST", body }));
      etag = answer.response.headers.get("etag");
      if (sku) showVersion(answer.body.version);
      if (!sku) {
        location.assign(`/admin/product?sku=${encodeURIComponent(answer.body.sku)}&created=1`);
        return;
      }
      say(message, t("productForm.saved", { time: time() }), "ok");
    } catch (error) {
      if (error.status === 412) {
        error.message = t("productForm.conflict");
      }
      showError(form, message, error);
    }
  });

  main.append(...[
    h("p", {}, h("a", { href: "/admin/products" }, t("productForm.back"))),
    h("h1", {}, sku ? `${product.name}` : t("productForm.new")),
    sku ? h("p", { class: "muted" }, versionNote, " · ",
      h("a", { href: `/p/${encodeURIComponent(sku)}`, target: "_blank", rel: "noopener" }, t("productForm.inStorefront"))) : null,
    notice,
    sku ? stockCard(sku, { staff }) : null,
    form,
    sku ? photosCard(sku, product.images, { staff, changed: photosChanged })
      : card(t("photos.title"), h("p", { class: "muted" }, t("photos.afterCreating")))].filter(Boolean));
  if (new URLSearchParams(location.search).has("created")) {
    say(notice, t("productForm.created", { sku }), "ok");
    notice.focus();
    notice.scrollIntoView({ block: "nearest" });
    // Said once: a reload does not say it again.
    history.replaceState(history.state, "", `?${new URLSearchParams({ sku })}`);
  }
  if (sku && staff && product.active) main.append(archiveCard(sku, () => etag));
}

function archiveCard(sku, etag) {
  const message = h("p", { class: "message", role: "alert" });
  const button = h("button", { type: "button", class: "danger", id: "archive-product" }, t("productForm.archive"));
  button.addEventListener("click", async () => {
    if (!confirm(t("productForm.archiveConfirm", { sku }))) return;
    try {
      await busy(button, t("productForm.archiving"), () => request(`/products/${encodeURIComponent(sku)}`, { method: "DELETE", headers: { "if-match": etag() ?? "*" } }));
      location.assign(`/admin/product?sku=${encodeURIComponent(sku)}`);
    } catch (error) {
      say(message, error.message, "error");
    }
  });
  return card(t("productForm.archiveTitle"), h("p", { class: "muted" }, t("productForm.archiveNote")), button, message);
}
