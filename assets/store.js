// The storefront: search as you type, facets, sort, and availability badges
// that follow the live event stream. The search lives in the address bar, so
// shared links work, and each choice of filters is a step in the history:
// Back undoes the last one, and coming back to the shop (from a product, or a
// reload) shows as many results as were loaded, scrolled where they were.
import { api, live, money, shop } from "/assets/api.js";
import { availabilityBadge, brand, debounce, h, setAvailability, thumbnail } from "/assets/ui.js";
import { localize, t, tx } from "/assets/i18n.js";
import { showCount } from "/assets/quote-basket.js";
import { accountLink } from "/assets/account-link.js";

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
const state = { category: "", tags: new Set(), brand: "", cursor: null, pages: 0 };
const PAGE = 20;
let currency = "EUR";
let asked = 0;
let inFlight = null;
/** The shop's settings and words: what searching waits for. */
const ready = shop().then(async (info) => {
  await localize(info);
  currency = info.currency;
  brand(info);
  accountLink();
});

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

/**
 * Puts the search in the address: `push` makes it a new step of the history
 * (unless nothing changed), `replace` rewrites the current one. Each step
 * remembers how many pages of results were shown and where the page was
 * scrolled (`pages`, `scroll`), and whether it is being typed (`typing`).
 */
function writeAddress(how, { typing = false } = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query())) {
    if (value && key !== "in_stock_first") params.set(key, value);
  }
  const search = params.toString() ? `?${params}` : "";
  const entry = { pages: 1, scroll: 0, typing };
  if (how === "push" && search !== location.search) history.pushState(entry, "", search || location.pathname);
  else history.replaceState(entry, "", search || location.pathname);
}

/** Notes in the current step of the history what it shows now. */
function remember(change) {
  history.replaceState({ ...history.state, ...change }, "");
}

/** The price per base unit (what sorting by price compares), shown when the
 *  price is per something else: "€0.034 / kg" beside "€34.00 / t". */
function unitPrice(item) {
  const base = item.unit_price;
  if (!base || base.per === (item.per ?? item.unit)) return null;
  return h("div", { class: "unit-price muted" }, `${money(base.amount, currency)} / ${base.per}`);
}

function hit(item) {
  const href = `/p/${encodeURIComponent(item.sku)}`;
  const name = h("a", { class: "hit-name", href });
  // Highlights come from the server HTML-escaped, with only <mark> added.
  if (item.highlight?.name) name.innerHTML = item.highlight.name;
  else name.textContent = item.name;
  const desc = h("p", { class: "desc" });
  if (item.highlight?.description) desc.innerHTML = item.highlight.description;
  // A photo leads to the product too, for a tap (the keyboard has the name's
  // link); the placeholder of a product without one is only a picture.
  const photo = item.image?.thumb_url
    ? h("a", { class: "hit-photo", href, tabindex: "-1" }, thumbnail(item.image))
    : h("div", { class: "hit-photo" }, thumbnail(null));
  return h("li", { class: "hit", dataset: { sku: item.sku } },
    photo,
    h("div", {}, name,
      h("div", { class: "meta" }, [item.brand, item.category, item.sku].filter(Boolean).join(" · "))),
    h("div", { class: "price" },
      h("div", {}, `${money(item.price, currency)} / ${item.per ?? item.unit}`),
      unitPrice(item),
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
      search({ history: "push" });
    }));
  }
  for (const [path, count] of Object.entries(facets?.category ?? {})) {
    if (path.toLowerCase() === state.category.toLowerCase()) continue;
    categoryList.append(facetButton(`category:${path.toLowerCase()}`, path.split("/").at(-1), count, false, () => {
      state.category = path;
      search({ history: "push" });
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
      search({ history: "push" });
    }));
  }
  brandList.replaceChildren();
  const brands = Object.entries(facets?.brand ?? {}).sort((a, b) => b[1] - a[1]);
  if (state.brand && !brands.some(([b]) => b === state.brand)) brands.unshift([state.brand, null]);
  for (const [name, count] of brands.slice(0, TAGS_SHOWN)) {
    brandList.append(facetButton(`brand:${name}`, name, count, state.brand === name, () => {
      state.brand = state.brand === name ? "" : name;
      search({ history: "push" });
    }));
  }
  brandList.previousElementSibling.hidden = brands.length === 0;
  const chosen = (state.category ? 1 : 0) + (state.brand ? 1 : 0) + state.tags.size + (inStock.checked ? 1 : 0);
  filtersOn.textContent = chosen ? t("store.filtersOn", { count: chosen }) : "";
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
    relaxedNote.append(...(ignored.length
      ? tx("store.relaxedLeftOut", { words: h("em", {}, matched.join(" ")), left: ignored.join(", ") })
      : tx("store.relaxed", { words: h("em", {}, matched.join(" ")) })));
    relaxedNote.hidden = false;
  } else if (answer.did_you_mean) {
    const fix = answer.did_you_mean;
    relaxedNote.append(...tx("store.didYouMean", { fix: h("a", {
        href: `?q=${encodeURIComponent(fix)}`,
        onclick: (event) => {
          event.preventDefault();
          q.value = fix;
          search({ history: "push" });
        },
      }, fix) }));
    relaxedNote.hidden = false;
  }
}

/** What went wrong with a search, in a customer's words. */
function trouble(error) {
  if (error.status === 0) return t("store.unreachable");
  if (error.field === "q" && q.value.trim().length > q.maxLength) {
    return t("store.tooLong", { max: q.maxLength });
  }
  if (error.status === 429) return t("store.tooMany");
  if (error.status >= 400 && error.status < 500) return t("store.refused");
  return t("store.broken");
}

/** Pages of results from the first, until `pages` pages are in (or there are no more). */
async function fetchPages(pages, signal) {
  const first = await api("/search", { query: { ...query(), limit: PAGE }, signal });
  const hits = [...first.hits];
  let cursor = first.next_cursor;
  while (cursor && hits.length < pages * PAGE) {
    const next = await api("/search", { query: { ...query(), limit: Math.min(100, pages * PAGE - hits.length), cursor }, signal });
    hits.push(...next.hits);
    cursor = next.next_cursor;
  }
  return { ...first, hits, next_cursor: cursor };
}

/**
 * Runs the search. `append` adds the next page instead of replacing;
 * `history` says what happens to the address: "push" (a new step), "replace"
 * or "keep" (it already says this search: Back, Forward, a reload), and
 * `typing` marks a step made by typing, which further typing rewrites.
 * `restore` ({pages, scroll}) loads as many pages and scrolls back.
 */
async function search({ append = false, history: how = "replace", typing = false, restore = null } = {}) {
  const mine = ++asked;
  inFlight?.abort();
  inFlight = new AbortController();
  if (!append && how !== "keep") writeAddress(how, { typing });
  results.setAttribute("aria-busy", "true");
  try {
    await ready;
    const pages = append ? 1 : Math.max(1, Math.min(Number(restore?.pages) || 1, 25));
    const answer = append
      ? await api("/search", { query: { ...query(), limit: PAGE, cursor: state.cursor }, signal: inFlight.signal })
      : await fetchPages(pages, inFlight.signal);
    if (mine !== asked) return;
    status.classList.remove("trouble");
    const items = answer.hits.map(hit);
    if (append) results.append(...items);
    else results.replaceChildren(...items);
    state.cursor = answer.next_cursor;
    state.pages = append ? state.pages + 1 : pages;
    remember({ pages: state.pages });
    more.hidden = !answer.next_cursor;
    const shown = results.children.length;
    status.textContent = answer.total === 0
      ? t("store.nothing", { q: q.value.trim() })
      : shown < answer.total
        ? t("store.countShowing", { count: answer.total, shown })
        : t("store.count", { count: answer.total });
    // Prices per tonne, per kg and per bag are compared per kg (and so on):
    // say so, since the order is not that of the prices shown.
    if (answer.total > 0 && sort.value.endsWith("price")) status.textContent += ` ${t("store.sortedPerUnit")}`;
    if (!append) explain(answer);
    if (!append) renderFacets(answer.facets);
    if (restore?.scroll) scrollTo(0, Number(restore.scroll));
  } catch (error) {
    if (error.name === "AbortError" || mine !== asked) return;
    // Results of an earlier search would look like the answer to this one.
    results.replaceChildren();
    more.hidden = true;
    state.cursor = null;
    relaxedNote.replaceChildren();
    relaxedNote.hidden = true;
    status.classList.add("trouble");
    status.textContent = trouble(error);
  } finally {
    if (mine === asked) results.removeAttribute("aria-busy");
  }
}

// Typing makes one step of the history, rewritten as the words change.
const typed = debounce(() => search({ history: history.state?.typing ? "replace" : "push", typing: true }), 120);
q.addEventListener("input", typed);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  search({ history: "push" });
});
sort.addEventListener("change", () => search({ history: "push" }));
inStock.addEventListener("change", () => search({ history: "push" }));
more.addEventListener("click", () => search({ append: true }));
addEventListener("popstate", (event) => {
  readAddress();
  search({ history: "keep", restore: event.state });
});
// The page scrolls itself back once the results are in.
history.scrollRestoration = "manual";
const scrolled = debounce(() => remember({ scroll: Math.round(scrollY) }), 150);
addEventListener("scroll", scrolled, { passive: true });
addEventListener("pagehide", () => remember({ scroll: Math.round(scrollY) }));

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
ready.then(() => {
  // A reload, or coming back to the shop: the step remembers what it showed.
  search({ history: "keep", restore: history.state });
}, async (error) => {
  await localize(null);
  status.classList.add("trouble");
  status.textContent = trouble(error);
});
