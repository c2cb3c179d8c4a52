// Products: the catalogue searched as you type (archived ones too), sorted
// by relevance, name or price, with links to edit each one; products ticked
// (across pages and searches) get their shelf labels printed (admin-labels.js).
import { api, money } from "/assets/api.js";
import { availabilityBadge, debounce, h } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";
import { t } from "/assets/i18n.js";

export async function render(main, { shop, staff }) {
  const params = new URLSearchParams(location.search);
  const q = h("input", { type: "search", name: "q", id: "product-search", value: params.get("q") ?? "", maxlength: "200", autocomplete: "off" });
  const sort = h("select", { name: "sort" },
    h("option", { value: "" }, t("sort.best")),
    h("option", { value: "name" }, t("sort.name")),
    h("option", { value: "price" }, t("sort.priceUp")),
    h("option", { value: "-price" }, t("sort.priceDown")));
  sort.value = params.get("sort") ?? "name";
  // Every category, each under its parent, with its count (archived products too).
  const category = h("select", { name: "category" }, h("option", { value: "" }, t("products.allCategories")));
  const wanted = params.get("category") ?? "";
  if (wanted) category.append(h("option", { value: wanted }, wanted));
  category.value = wanted;
  api("/categories").then((answer) => {
    category.replaceChildren(h("option", { value: "" }, t("products.allCategories")),
      ...answer.items.map((c) => h("option", { value: c.path },
        `${"\u2003".repeat(c.depth - 1)}${c.name} (${c.products})`)));
    // A category from an older address that the list does not spell so still filters.
    if (wanted && !answer.items.some((c) => c.path === wanted)) category.append(h("option", { value: wanted }, wanted));
    category.value = wanted;
  }).catch(() => {
    // The filter keeps the category from the address.
  });
  const filters = h("form", { class: "toolbar", role: "search" },
    h("label", {}, t("products.search"), q),
    h("label", {}, t("products.category"), category),
    h("label", {}, t("products.sort"), sort),
    staff ? h("a", { class: "button", href: "/admin/product", id: "new-product" }, t("products.new")) : null);
  filters.addEventListener("submit", (event) => event.preventDefault());
  const list = h("div", { id: "products" });
  const picking = labelPicker();
  main.append(h("h1", {}, t("products.title")), card(t("products.catalogue"), filters, picking.bar, list));

  const query = () => ({ q: q.value.trim(), sort: sort.value, category: category.value.trim() });
  const rows = (hits) => picking.show(hits, table([
    [h("span", { class: "visually-hidden" }, t("products.pick")), (p) => picking.box(p)],
    [t("products.sku"), (p) => h("a", { href: `/admin/product?sku=${encodeURIComponent(p.sku)}` }, p.sku)],
    [t("products.name"), (p) => p.name],
    [t("products.category"), (p) => p.category],
    [t("products.price"), (p) => t("format.perUnit", { price: money(p.price, shop.currency), unit: p.unit }), { num: true }],
    [t("products.stock"), (p) => (p.availability ? availabilityBadge(p.sku, p.availability) : "")],
  ], hits, { empty: t("products.none") }));
  const pages = paged(list, "/search", query, rows, {
    items: "hits",
    total: (answer) => t("store.count", { count: answer.total }),
  });
  const changed = debounce(() => {
    const address = new URLSearchParams(Object.entries(query()).filter(([, v]) => v));
    history.replaceState(null, "", `?${address}`);
    pages.reload();
  }, 200);
  q.addEventListener("input", changed);
  category.addEventListener("change", changed);
  sort.addEventListener("change", changed);
  await pages.reload();
}

/** Where the ticked products are kept while the back office is open in this tab. */
const PICKED = "quarry.label-skus";

/**
 * The products ticked for labels: a box on each row, one for every product
 * on the page, and the button that opens their labels. Kept in this tab's
 * session storage, so paging, searching and coming back keep them.
 */
function labelPicker() {
  let picked;
  try {
    picked = new Set(JSON.parse(sessionStorage.getItem(PICKED) ?? "[]"));
  } catch {
    picked = new Set();
  }
  let shown = [];
  const all = h("input", { type: "checkbox", id: "pick-page" });
  const count = h("span", { id: "picked-count", class: "muted", "aria-live": "polite" });
  const print = h("button", { type: "button", id: "print-picked" }, t("products.printLabels"));
  const clear = h("button", { type: "button", class: "secondary", id: "clear-picked" }, t("products.clearPicked"));
  const bar = h("div", { class: "selection-bar", id: "label-picker" },
    h("label", { class: "inline" }, all, t("products.pickPage")), count, print, clear);

  function save() {
    try {
      sessionStorage.setItem(PICKED, JSON.stringify([...picked]));
    } catch {
      // No storage: the ticks last as long as the page.
    }
  }
  function update() {
    const on = shown.filter((sku) => picked.has(sku)).length;
    all.checked = shown.length > 0 && on === shown.length;
    all.indeterminate = on > 0 && on < shown.length;
    all.disabled = shown.length === 0;
    count.textContent = t("products.picked", { count: picked.size });
    print.disabled = picked.size === 0;
    clear.hidden = picked.size === 0;
    for (const box of document.querySelectorAll("#products input.pick")) box.checked = picked.has(box.dataset.sku);
  }
  all.addEventListener("change", () => {
    for (const sku of shown) {
      if (all.checked) picked.add(sku);
      else picked.delete(sku);
    }
    save();
    update();
  });
  clear.addEventListener("click", () => {
    picked.clear();
    save();
    update();
  });
  print.addEventListener("click", () => {
    if (picked.size) location.assign(`/admin/labels?${new URLSearchParams({ skus: [...picked].join(",") })}`);
  });
  update();
  return {
    bar,
    /** The box of one row: archived products get no label. */
    box(product) {
      const box = h("input", {
        type: "checkbox", class: "pick", dataset: { sku: product.sku }, checked: picked.has(product.sku),
        disabled: product.active === false,
        "aria-label": product.active === false ? t("products.pickArchived", { sku: product.sku }) : t("products.pickOne", { sku: product.sku }),
      });
      box.addEventListener("change", () => {
        if (box.checked) picked.add(product.sku);
        else picked.delete(product.sku);
        save();
        update();
      });
      return box;
    },
    /** Notes the products now listed; answers what lists them. */
    show(hits, drawn) {
      shown = hits.filter((p) => p.active !== false).map((p) => p.sku);
      queueMicrotask(update);
      return drawn;
    },
  };
}
