// Products: the catalogue searched as you type (archived ones too), sorted
// by relevance, name or price, with links to edit each one.
import { money } from "/assets/api.js";
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
  const category = h("input", { name: "category", value: params.get("category") ?? "", maxlength: "200" });
  const filters = h("form", { class: "toolbar", role: "search" },
    h("label", {}, t("products.search"), q),
    h("label", {}, t("products.category"), category),
    h("label", {}, t("products.sort"), sort),
    staff ? h("a", { class: "button", href: "/admin/product", id: "new-product" }, t("products.new")) : null);
  filters.addEventListener("submit", (event) => event.preventDefault());
  const list = h("div", { id: "products" });
  main.append(h("h1", {}, t("products.title")), card(t("products.catalogue"), filters, list));

  const query = () => ({ q: q.value.trim(), sort: sort.value, category: category.value.trim() });
  const rows = (hits) => table([
    [t("products.sku"), (p) => h("a", { href: `/admin/product?sku=${encodeURIComponent(p.sku)}` }, p.sku)],
    [t("products.name"), (p) => p.name],
    [t("products.category"), (p) => p.category],
    [t("products.price"), (p) => t("format.perUnit", { price: money(p.price, shop.currency), unit: p.unit }), { num: true }],
    [t("products.stock"), (p) => (p.availability ? availabilityBadge(p.sku, p.availability) : "")],
  ], hits, { empty: t("products.none") });
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
  category.addEventListener("input", changed);
  sort.addEventListener("change", changed);
  await pages.reload();
}
