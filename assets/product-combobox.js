// The back office's product combobox (the ARIA combobox pattern), shared by
// the stock form's scan box and the new-quote form: typing looks up products
// by name or SKU (debounced); the focus stays in the box while the arrow keys
// move the highlight through the list, Enter or a click picks the highlighted
// product and Escape closes the list. An answer that comes late (after more
// typing, a pick, Escape or leaving the box) never opens the list.
import { api } from "/assets/api.js";
import { h } from "/assets/ui.js";

/** How long typing pauses before the products named like it are looked up. */
const SEARCH_DELAY_MS = 150;
/** The fewest characters looked up by name. */
export const SEARCH_FROM = 2;

/** Up to 8 products, archived ones left out, whose names (or SKUs) match `text`. */
export async function named(text, signal) {
  const found = await api("/search", { query: { q: text, limit: 8 }, signal });
  return (found.hits ?? []).filter((hit) => hit.active !== false);
}

/**
 * Makes `input` (role combobox) look up products into `listbox`, its options
 * given the ids `${optionId}-0`, `${optionId}-1`…; `status` (role status) says
 * how many match, as `matches(count)` words it, or `noMatch()` when nothing
 * does (left empty without it). A product picked from the list empties the box
 * and goes to `onPick(sku)`; Enter with nothing highlighted calls `onEnter()`.
 *
 * Answers `take(code)`, which closes the list, empties the box and hands `code`
 * to `onPick`; `show(hits)`, which opens the list with `hits`; and
 * `generation()`, which changes with every lookup started, pick and close, so
 * an answer awaited since can tell it is no longer wanted.
 */
export function productCombobox({ input, listbox, status, optionId, matches, noMatch, onPick, onEnter }) {
  let shown = [];
  let highlighted = -1;
  let timer = 0;
  // Counts the lookups started: an answer to any but the last one is stale.
  let generation = 0;
  let inFlight = null;
  const open = () => !listbox.hidden;

  /** Forgets any lookup waiting or under way; answers the new generation. */
  function stopSearching() {
    clearTimeout(timer);
    inFlight?.abort();
    inFlight = null;
    return ++generation;
  }
  function close() {
    listbox.hidden = true;
    listbox.replaceChildren();
    shown = [];
    highlighted = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    status.textContent = "";
  }
  function highlight(index) {
    highlighted = index;
    [...listbox.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const li = listbox.children[index];
    if (li) {
      input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  /** Opens the list with `hits`, keeping the highlight on the same product. */
  function show(hits, { first = false } = {}) {
    if (hits.length === 0) {
      close();
      if (noMatch) status.textContent = noMatch();
      return;
    }
    const before = shown[highlighted]?.sku;
    shown = hits;
    listbox.replaceChildren(...hits.map((hit, i) =>
      h("li", { id: `${optionId}-${i}`, role: "option", "aria-selected": "false", dataset: { sku: hit.sku } },
        h("span", { class: "option-name" }, hit.name),
        h("span", { class: "muted" }, `${hit.sku} · ${hit.unit}`))));
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
    const kept = hits.findIndex((hit) => hit.sku === before);
    highlight(kept >= 0 ? kept : first ? 0 : -1);
    status.textContent = matches(hits.length);
  }
  /** Looks up what is typed now; `first` highlights the first product found. */
  async function search({ first = false } = {}) {
    const text = input.value.trim();
    const asked = stopSearching();
    if (text.length < SEARCH_FROM) {
      close();
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    let hits;
    try {
      hits = await named(text, controller.signal);
    } catch {
      // Aborted, or the search failed: an exact SKU still works.
      if (asked === generation) close();
      return;
    }
    // A pick, Escape or more typing came since: this answer is not wanted.
    if (asked !== generation || input.value.trim() !== text) return;
    inFlight = null;
    show(hits, { first });
  }
  /** Closes the list (a lookup on its way cannot open it again), empties the box and hands on `code`. */
  function take(code) {
    stopSearching();
    close();
    input.value = "";
    onPick(code);
  }

  input.addEventListener("input", () => {
    stopSearching();
    if (input.value.trim().length < SEARCH_FROM) {
      close();
      return;
    }
    timer = setTimeout(search, SEARCH_DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open()) {
        search({ first: true });
        return;
      }
      const last = shown.length - 1;
      if (event.key === "ArrowDown") highlight(highlighted >= last ? 0 : highlighted + 1);
      else highlight(highlighted <= 0 ? last : highlighted - 1);
    } else if (event.key === "Escape") {
      // Closes the list, and a lookup on its way cannot open it again.
      if (open()) event.preventDefault();
      stopSearching();
      close();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (open() && highlighted >= 0) take(shown[highlighted].sku);
      else onEnter();
    }
  });
  input.addEventListener("blur", () => {
    stopSearching();
    close();
  });
  // A press on the list keeps the focus (and so the list) in the box.
  listbox.addEventListener("mousedown", (event) => event.preventDefault());
  listbox.addEventListener("click", (event) => {
    const li = event.target.closest("[role=option]");
    if (li) take(li.dataset.sku);
  });
  return { take, show, generation: () => generation };
}
