// Products: the catalogue searched as you type (archived ones too), sorted
// by relevance, name or price, with links to edit each one.
import { money } from "/assets/api.js";
import { availabilityBadge, debounce, h } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";

export async function render(main, { shop, staff }) {
  const params = new URLSearchParams(location.search);
  const q = h("input", { type: "search", name: "q", id: "product-search", value: params.get("q") ?? "", maxlength: "200", autocomplete: "off" });
  const sort = h("select", { name: "sort" },
    h("option", { value: "" }, "Best match"),
    h("option", { value: "name" }, "Name"),
    h("option", { value: "price" }, "Price, low to high"),
    h("option", { value: "-price" }, "Price, high to low"));
  sort.value = params.get("sort") ?? "name";
  const category = h("input", { name: "category", value: params.get("category") ?? "", maxlength: "200" });
  const filters = h("form", { class: "toolbar", role: "search" },
    h("label", {}, "Search", q),
    h("label", {}, "Category", category),
    h("label", {}, "Sort", sort),
    staff ? h("a", { class: "button", href: "/admin/product", id: "new-product" }, "New product") : null);
  filters.addEventListener("submit", (event) => event.preventDefault());
  const list = h("div", { id: "products" });
  main.append(h("h1", {}, "Products"), card("Catalogue", filters, list));

  const query = () => ({ q: q.value.trim(), sort: sort.value, category: category.value.trim() });
  const rows = (hits) => table([
    ["SKU", (p) => h("a", { href: `/admin/product?sku=${encodeURIComponent(p.sku)}` }, p.sku)],
    ["Name", (p) => p.name],
    ["Category", (p) => p.category],
    ["Price", (p) => `${money(p.price, shop.currency)} / ${p.unit}`, { num: true }],
    ["Stock", (p) => (p.availability ? availabilityBadge(p.sku, p.availability) : "")],
  ], hits, { empty: "No product matches. Change the search, or create the product." });
  const pages = paged(list, "/search", query, rows, {
    items: "hits",
    total: (answer) => `${answer.total} products`,
  });
  const changed = debounce(() => {
    const address = new URLSearchParams(Object.entries(query()).filter(([, v]) => v));
    history.replaceState(null, "", `?${address}`);
    pages.reload();
  }, 200);
  q.addEventListener("input", changed);
  category.addEventListener("input", changed);
  sort.addEventListener("change", changed);
  await pages.reload();
}
