// The storefront: search as you type, facets, sort, and availability badges
// that follow the live event stream. The search lives in the address bar, so
// back, forward and shared links work.
import { api, live, money, shop } from "/assets/api.js";
import { availabilityBadge, brand, debounce, h, setAvailability } from "/assets/ui.js";
import { showCount } from "/assets/quote-basket.js";

const form = document.getElementById("search");
const q = document.getElementById("q");
const sort = document.getElementById("sort");
const inStock = document.getElementById("in-stock");
const results = document.getElementById("results");
const status = document.getElementById("status");
const more = document.getElementById("more");
const categoryList = document.getElementById("facet-category");
const tagList = document.getElementById("facet-tags");
const brandList = document.getElementById("facet-brand");
const relaxedNote = document.getElementById("relaxed");
const filters = document.getElementById("filters");
const filtersOn = document.getElementById("filters-on");

const TAGS_SHOWN = 15;
const state = { category: "", tags: new Set(), brand: "", cursor: null };
let currency = "EUR";
let asked = 0;
let inFlight = null;

function readAddress() {
  const params = new URLSearchParams(location.search);
  q.value = params.get("q") ?? "";
  sort.value = params.get("sort") ?? "";
  inStock.checked = params.get("in_stock") === "true";
  state.category = params.get("category") ?? "";
  state.tags = new Set((params.get("tags") ?? "").split(",").filter(Boolean));
  state.brand = params.get("brand") ?? "";
}

function query() {
  return {
    q: q.value.trim(),
    sort: sort.value,
    in_stock: inStock.checked ? "true" : "",
    category: state.category,
    tags: [...state.tags].join(","),
    brand: state.brand,
    in_stock_first: "true",
  };
}

function writeAddress() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query())) {
    if (value && key !== "in_stock_first") params.set(key, value);
  }
  const search = params.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

function hit(item) {
  const name = h("a", { class: "hit-name", href: `/p/${encodeURIComponent(item.sku)}` });
  // Highlights come from the server HTML-escaped, with only <mark> added.
  if (item.highlight?.name) name.innerHTML = item.highlight.name;
  else name.textContent = item.name;
  const desc = h("p", { class: "desc" });
  if (item.highlight?.description) desc.innerHTML = item.highlight.description;
  return h("li", { class: "hit", dataset: { sku: item.sku } },
    h("div", {}, name,
      h("div", { class: "meta" }, [item.brand, item.category, item.sku].filter(Boolean).join(" · "))),
    h("div", { class: "price" },
      h("div", {}, `${money(item.price, currency)} / ${item.unit}`),
      item.availability ? availabilityBadge(item.sku, item.availability) : null),
    desc.innerHTML ? desc : null);
}

/** A facet's checkbox; `key` finds it again once the facets are redrawn. */
function facetButton(key, label, count, active, onClick) {
  return h("li", {},
    h("label", {},
      h("input", { type: "checkbox", checked: active, onchange: onClick, dataset: { facet: key } }),
      label,
      h("span", { class: "count" }, count === null ? "" : String(count))));
}

function renderFacets(facets) {
  // Redrawing replaces the checkbox just ticked: keep the keyboard focus on
  // its successor (or the first box of its list when it went away).
  const focused = document.activeElement?.dataset?.facet;
  const focusedList = document.activeElement?.closest("ul");
  categoryList.replaceChildren();
  if (state.category) {
    const parts = state.category.split("/");
    categoryList.append(facetButton(`category:${state.category.toLowerCase()}`, parts.at(-1), null, true, () => {
      state.category = parts.slice(0, -1).join("/");
      search();
    }));
  }
  for (const [path, count] of Object.entries(facets?.category ?? {})) {
    if (path.toLowerCase() === state.category.toLowerCase()) continue;
    categoryList.append(facetButton(`category:${path.toLowerCase()}`, path.split("/").at(-1), count, false, () => {
      state.category = path;
      search();
    }));
  }
  tagList.replaceChildren();
  const tags = Object.entries(facets?.tags ?? {}).sort((a, b) => b[1] - a[1]);
  for (const tag of state.tags) {
    if (!tags.some(([t]) => t === tag)) tags.unshift([tag, null]);
  }
  for (const [tag, count] of tags.slice(0, TAGS_SHOWN + state.tags.size)) {
    tagList.append(facetButton(`tag:${tag}`, tag, count, state.tags.has(tag), () => {
      if (state.tags.has(tag)) state.tags.delete(tag);
      else state.tags.add(tag);
      search();
    }));
  }
  brandList.replaceChildren();
  const brands = Object.entries(facets?.brand ?? {}).sort((a, b) => b[1] - a[1]);
  if (state.brand && !brands.some(([b]) => b === state.brand)) brands.unshift([state.brand, null]);
  for (const [name, count] of brands.slice(0, TAGS_SHOWN)) {
    brandList.append(facetButton(`brand:${name}`, name, count, state.brand === name, () => {
      state.brand = state.brand === name ? "" : name;
      search();
    }));
  }
  brandList.previousElementSibling.hidden = brands.length === 0;
  const chosen = (state.category ? 1 : 0) + (state.brand ? 1 : 0) + state.tags.size + (inStock.checked ? 1 : 0);
  filtersOn.textContent = chosen ? `(${chosen} on)` : "";
  if (focused && !document.activeElement?.dataset?.facet) {
    const again = [...document.querySelectorAll("[data-facet]")].find((el) => el.dataset.facet === focused);
    (again ?? focusedList?.querySelector("input"))?.focus();
  }
}

/**
 * Says when the answer does not match every word (and which words it
 * matches), or offers the corrected query when nothing matched.
 */
function explain(answer) {
  relaxedNote.replaceChildren();
  relaxedNote.hidden = true;
  if (answer.relaxed && answer.total > 0) {
    const { matched, ignored } = answer.relaxed;
    relaxedNote.append(
      "No product matches every word; showing products that match ",
      h("em", {}, matched.join(" ")),
      ignored.length ? ` (left out: ${ignored.join(", ")})` : "",
      ".");
    relaxedNote.hidden = false;
  } else if (answer.did_you_mean) {
    const fix = answer.did_you_mean;
    relaxedNote.append("Did you mean ",
      h("a", {
        href: `?q=${encodeURIComponent(fix)}`,
        onclick: (event) => {
          event.preventDefault();
          q.value = fix;
          search();
        },
      }, fix), "?");
    relaxedNote.hidden = false;
  }
}

/** Runs the search; `append` adds the next page instead of replacing. */
async function search({ append = false } = {}) {
  const mine = ++asked;
  inFlight?.abort();
  inFlight = new AbortController();
  if (!append) writeAddress();
  results.setAttribute("aria-busy", "true");
  try {
    const answer = await api("/search", {
      query: { ...query(), limit: 20, cursor: append ? state.cursor : "" },
      signal: inFlight.signal,
    });
    if (mine !== asked) return;
    const items = answer.hits.map(hit);
    if (append) results.append(...items);
    else results.replaceChildren(...items);
    state.cursor = answer.next_cursor;
    more.hidden = !answer.next_cursor;
    const shown = results.children.length;
    status.textContent = answer.total === 0
      ? `Nothing matches “${q.value.trim()}”. Check the spelling or remove a filter.`
      : `${answer.total} product${answer.total === 1 ? "" : "s"}${shown < answer.total ? `, showing ${shown}` : ""}`;
    if (!append) explain(answer);
    if (!append) renderFacets(answer.facets);
  } catch (error) {
    if (error.name === "AbortError" || mine !== asked) return;
    status.textContent = error.message;
  } finally {
    if (mine === asked) results.removeAttribute("aria-busy");
  }
}

const typed = debounce(() => search(), 120);
q.addEventListener("input", typed);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});
sort.addEventListener("change", () => search());
inStock.addEventListener("change", () => search());
more.addEventListener("click", () => search({ append: true }));
addEventListener("popstate", () => {
  readAddress();
  search();
});

function availabilityChanged(sku, availability) {
  for (const badge of results.querySelectorAll(".badge[data-sku]")) {
    if (badge.dataset.sku !== sku) continue;
    if (setAvailability(badge, availability)) {
      badge.classList.remove("flash");
      void badge.offsetWidth;
      badge.classList.add("flash");
    }
  }
}

live({
  // What anonymous visitors get.
  "availability.changed": (data) =>
    availabilityChanged(data.sku, { status: data.availability, available: data.available }),
  // What a signed-in member of staff gets instead.
  "level.changed": (data) =>
    availabilityChanged(data.sku, { status: data.product_availability, available: data.product_available }),
});

// On a phone the filters come before the results, folded away until wanted.
const narrow = matchMedia("(max-width: 720px)");
filters.open = !narrow.matches;
narrow.addEventListener("change", () => {
  filters.open = !narrow.matches;
});

readAddress();
showCount(document.getElementById("basket-count"));
shop().then((info) => {
  currency = info.currency;
  brand(info);
  search();
}).catch((error) => {
  status.textContent = error.message;
});
