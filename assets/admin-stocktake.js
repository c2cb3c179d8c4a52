// Stock-take: count what one location holds and book the differences.
// A printable count sheet (each product's name, SKU, unit and packs, an empty
// column to write the count in, the expected level only when asked for); a
// count screen made for a phone, one product a card, kept in this browser
// until it is booked; and a review of what differs from the levels, booked as
// one counted adjustment (`counted` lines) under one reference.
import { api, idempotencyKey } from "/assets/api.js";
import { busy, clearErrors, h, say, showError } from "/assets/ui.js";
import { card, productCell } from "/assets/admin-kit.js";
import { currentLocale, date, dateTime, decimal, readNumber, t } from "/assets/i18n.js";

/** What one movement may hold (the API's MAX_LINES). */
const MAX_LINES = 1000;
/** Sub-requests in one POST /batch, and batches sent at once. */
const BATCH = 100;
const AT_ONCE = 3;
/** The digits a quantity may have after its point. */
const PLACES = 6;
const VIEWS = ["sheet", "count", "review"];

// ---------------------------------------------------------------------------
// Exact decimals, as the API writes them ("12.5", "-3").

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** A decimal without leading or trailing zeros: "007.50" → "7.5", "-0" → "0". */
function normal(value) {
  const parts = DECIMAL.exec(String(value).trim());
  if (!parts) return null;
  const whole = parts[2].replace(/^0+(?=\d)/, "");
  const fraction = (parts[3] ?? "").replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return parts[1] && /[1-9]/.test(text) ? `-${text}` : text;
}

/** `a − b`, exactly; null when either is not a decimal. */
function difference(a, b) {
  const x = DECIMAL.exec(String(a).trim());
  const y = DECIMAL.exec(String(b).trim());
  if (!x || !y) return null;
  const places = Math.max((x[3] ?? "").length, (y[3] ?? "").length);
  const scaled = (p) => (p[1] ? -1n : 1n) * BigInt(p[2] + (p[3] ?? "").padEnd(places, "0"));
  const diff = scaled(x) - scaled(y);
  const digits = (diff < 0n ? -diff : diff).toString().padStart(places + 1, "0");
  const text = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return normal(`${diff < 0n ? "-" : ""}${text}`);
}

/** A change for people, with its sign and unit: "+2,5 t", "−3 pc". */
function signed(change, unit) {
  const minus = change.startsWith("-");
  const size = decimal(minus ? change.slice(1) : change);
  return `${minus ? "\u2212" : "+"}${size}${unit ? ` ${unit}` : ""}`;
}

/** Puts `children` in `el` in place of what it held, leaving out the nulls. */
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** Today in this browser's calendar: "2026-12-07". */
function today() {
  const now = new Date();
  return [now.getFullYear(), String(now.getMonth() + 1).padStart(2, "0"), String(now.getDate()).padStart(2, "0")].join("-");
}

// ---------------------------------------------------------------------------
// Counts kept in this browser, per location, until they are booked.

const stored = (code) => `quarry.stocktake.${code}`;

function loadCounts(code) {
  try {
    const kept = JSON.parse(localStorage.getItem(stored(code)) ?? "null");
    if (kept && typeof kept.counts === "object" && kept.counts) return kept;
  } catch {
    // Nothing kept, or no storage: start empty.
  }
  return { counts: {}, saved: null };
}

function saveCounts(code, counts) {
  try {
    const typed = Object.fromEntries(Object.entries(counts).filter(([, text]) => text.trim()));
    if (Object.keys(typed).length === 0) localStorage.removeItem(stored(code));
    else localStorage.setItem(stored(code), JSON.stringify({ counts: typed, saved: new Date().toISOString() }));
  } catch {
    // No storage (private mode): the counts last as long as the page.
  }
}

// ---------------------------------------------------------------------------
// What the location holds.

/** Every stock row of `code`, all pages of them. */
async function levelsAt(code) {
  const rows = [];
  let cursor = "";
  do {
    const answer = await api("/stock", { query: { location: code, limit: 1000, cursor } });
    rows.push(...answer.items);
    cursor = answer.next_cursor ?? "";
  } while (cursor);
  return rows;
}

/** The products of `skus` by SKU, read a hundred to a request (POST /batch). */
async function productsOf(skus) {
  const found = new Map();
  const chunks = [];
  for (let at = 0; at < skus.length; at += BATCH) chunks.push(skus.slice(at, at + BATCH));
  let next = 0;
  async function worker() {
    while (next < chunks.length) {
      const chunk = chunks[next];
      next += 1;
      const answer = await api("/batch", {
        method: "POST",
        body: { requests: chunk.map((sku) => ({ method: "GET", path: `/api/v1/products/${encodeURIComponent(sku)}` })) },
      });
      answer.responses.forEach((response, i) => {
        if (response.status === 200) found.set(chunk[i], response.body);
      });
    }
  }
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, chunks.length) }, worker));
  return found;
}

/**
 * The products to count at `code`, in the order to walk them (by category,
 * then name): each with its level, unit and packs. Archived products are
 * left out unless some of them is still there.
 */
async function productsAt(code) {
  const rows = await levelsAt(code);
  const products = await productsOf(rows.map((r) => r.sku));
  const collator = new Intl.Collator(currentLocale(), { numeric: true, sensitivity: "base" });
  return rows
    .map((row) => {
      const product = products.get(row.sku);
      return {
        sku: row.sku,
        name: product?.name ?? row.name ?? row.sku,
        unit: product?.unit ?? row.unit ?? "",
        category: product?.category ?? "",
        packs: product?.packs ?? [],
        active: product?.active ?? true,
        // Stocked in whole pieces: a fraction is refused before it is sent.
        whole: product ? product.unit === "pc" && !product.fractional_count : false,
        onHand: row.on_hand,
      };
    })
    .filter((p) => p.active || normal(p.onHand) !== "0")
    .sort((a, b) => collator.compare(a.category, b.category) || collator.compare(a.name, b.name) || collator.compare(a.sku, b.sku));
}

/** A product's packs for people: "bag = 25 kg, pallet = 40 bag". */
function packsText(packs) {
  return packs.map((p) => t("stocktake.pack", { pack: p.name, quantity: decimal(p.quantity), unit: p.unit })).join(", ");
}

/**
 * Reads one count as typed, the shop's way: `{ value }` in the API's form,
 * `{ value: null }` for a box left empty, or `{ error }` in words.
 */
function readCount(typed, product) {
  if (!String(typed ?? "").trim()) return { value: null };
  const read = readNumber(typed);
  if (read.error) return read;
  const value = normal(read.value);
  if (value.startsWith("-")) return { error: t("stocktake.negative") };
  const [whole, fraction = ""] = value.split(".");
  if (fraction.length > PLACES) return { error: t("stocktake.tooPrecise", { places: PLACES }) };
  if (whole.length > 12) return { error: t("stocktake.tooBig") };
  if (product.whole && fraction) return { error: t("stocktake.wholePieces", { unit: product.unit }) };
  return { value };
}

// ---------------------------------------------------------------------------

export async function render(main, { staff }) {
  const params = new URLSearchParams(location.search);
  const locations = (await api("/locations", { query: { limit: 200 } })).items.filter((l) => l.active);
  // Printing shows the count sheet alone (quarry.css, @media print).
  document.documentElement.classList.add("printing-stocktake");

  const place = h("select", { name: "location", id: "stocktake-location" },
    h("option", { value: "" }, t("stocktake.chooseLocation")),
    locations.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`)));
  const wanted = (params.get("location") ?? "").trim().toUpperCase();
  if (locations.some((l) => l.code === wanted)) place.value = wanted;
  const loadMessage = h("p", { id: "stocktake-message", class: "message", role: "alert" });
  const choice = h("form", { id: "stocktake-choice", class: "form-grid", novalidate: true },
    h("label", {}, t("stocktake.location"), place),
    h("p", { class: "muted hint wide" }, t("stocktake.intro")));
  choice.addEventListener("submit", (event) => event.preventDefault());

  const steps = Object.fromEntries(VIEWS.map((view) => [view, h("button", { type: "button", class: "secondary", id: `step-${view}`, dataset: { view } },
    { sheet: t("stocktake.stepSheet"), count: t("stocktake.stepCount"), review: t("stocktake.stepReview") }[view])]));
  const expected = h("input", { type: "checkbox", name: "expected", id: "show-expected", checked: params.get("expected") === "true" });
  const sheet = h("section", { id: "count-sheet", class: "card count-sheet", "aria-labelledby": "sheet-title" });
  const counting = h("section", { id: "count-screen", class: "card", "aria-labelledby": "count-title" });
  const review = h("section", { id: "count-review", class: "card", "aria-labelledby": "review-title" });
  const work = h("div", { id: "stocktake-work", hidden: true },
    h("nav", { class: "steps", "aria-label": t("stocktake.steps") }, Object.values(steps)),
    h("label", { class: "inline no-print" }, expected, t("stocktake.showExpected")),
    sheet, counting, review);
  main.append(h("h1", {}, t("stocktake.title")), card(t("stocktake.where"), choice, loadMessage), work);

  /** The location being counted, its products and what was typed for each. */
  let code = "";
  let products = [];
  let counts = {};
  let view = VIEWS.includes(params.get("view")) ? params.get("view") : "count";
  /** The last booking's key, kept for retries of the same lines. */
  let booking = { key: idempotencyKey(), body: "" };
  /** Which load is the latest: an answer to an earlier one is dropped. */
  let asked = 0;
  /** The products by SKU. */
  let bySku = new Map();

  function address() {
    const query = new URLSearchParams();
    if (code) query.set("location", code);
    query.set("view", view);
    if (expected.checked) query.set("expected", "true");
    history.replaceState(null, "", `?${query}`);
  }

  /** Shows step `next`; the review is drawn afresh unless `draw` is false. */
  function show(next, { focus = false, draw = true } = {}) {
    view = next;
    for (const [name, button] of Object.entries(steps)) {
      if (name === view) button.setAttribute("aria-current", "step");
      else button.removeAttribute("aria-current");
    }
    sheet.hidden = view !== "sheet";
    counting.hidden = view !== "count";
    review.hidden = view !== "review";
    address();
    if (view === "review" && draw) drawReview();
    if (focus) document.getElementById(`${view}-title`)?.focus();
  }
  for (const [name, button] of Object.entries(steps)) {
    button.addEventListener("click", () => {
      if (name === "review") toReview();
      else show(name, { focus: true });
    });
  }
  expected.addEventListener("change", () => {
    drawSheet();
    for (const el of counting.querySelectorAll(".count-expected")) el.hidden = !expected.checked;
    address();
  });

  // -- The count sheet ------------------------------------------------------

  function drawSheet() {
    const here = locations.find((l) => l.code === code);
    const print = h("button", { type: "button", id: "print-sheet" }, t("stocktake.print"));
    print.addEventListener("click", () => window.print());
    const columns = [
      [t("stocktake.product"), (p) => h("strong", {}, p.name)],
      [t("stocktake.sku"), (p) => h("span", { class: "mono sku" }, p.sku)],
      [t("stocktake.unit"), (p) => p.unit],
      // Each pack kept on one line: "bulk bag = 0.85 t".
      [t("stocktake.packs"), (p) => p.packs.flatMap((pack, i) => [i ? ", " : null, h("span", { class: "pack" }, packsText([pack]))]).filter(Boolean)],
      expected.checked ? [t("stocktake.expected"), (p) => decimal(p.onHand), "num expected"] : null,
      [t("stocktake.counted"), () => h("span", { class: "write-line", "aria-hidden": "true" }), "write-in"],
    ].filter(Boolean);
    fill(sheet,
      h("div", { class: "sheet-head" },
        h("h2", { id: "sheet-title", tabindex: "-1" }, t("stocktake.sheetTitle", { location: here ? `${here.code} — ${here.name}` : code })),
        h("p", {}, t("stocktake.date", { date: date(today()) })),
        h("p", { class: "signature" }, t("stocktake.countedBy"), " ", h("span", { class: "write-line signature-line", "aria-hidden": "true" }))),
      h("p", { class: "muted hint" }, t("stocktake.sheetHint")),
      h("div", { class: "actions no-print" }, print),
      products.length === 0
        ? h("p", { class: "muted", id: "sheet-empty" }, t("stocktake.nothingHere", { location: code }))
        : h("div", { class: "table-wrap" }, h("table", { id: "sheet-table" },
          h("caption", { class: "visually-hidden" }, t("stocktake.sheetCaption", { location: code })),
          h("thead", {}, h("tr", {}, columns.map(([title, , cls]) => h("th", { scope: "col", class: cls ?? null }, title)))),
          h("tbody", {}, products.map((p) => h("tr", { dataset: { sku: p.sku } },
            columns.map(([, cell, cls]) => h("td", { class: cls ?? null }, cell(p) ?? ""))))))),
      h("p", { class: "muted" }, t("stocktake.sheetCount", { count: products.length })));
  }

  // -- The count screen -----------------------------------------------------

  const inputs = new Map();
  const progress = h("p", { id: "count-progress", role: "status" });
  const countMessage = h("p", { id: "count-message", class: "message", role: "alert" });

  /** Marks `input` with `text` as what is wrong with it, or clears it (no text). */
  function mark(input, text) {
    const holder = input.closest(".count-item");
    holder.querySelector(".field-error")?.remove();
    if (!text) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      return;
    }
    const id = `count-error-${[...inputs.keys()].indexOf(input.dataset.sku)}`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    holder.append(h("span", { class: "field-error", id }, text));
  }

  function showProgress() {
    const done = products.filter((p) => (counts[p.sku] ?? "").trim()).length;
    progress.textContent = t("stocktake.progress", { count: done, total: products.length });
  }

  /** The count box after `input` that is shown, or null at the end. */
  function after(input) {
    const all = [...inputs.values()];
    return all.slice(all.indexOf(input) + 1).find((el) => !el.closest(".count-item").hidden) ?? null;
  }

  function drawCount(restored) {
    inputs.clear();
    const none = h("p", { class: "muted", hidden: true }, t("stocktake.noneFound"));
    const filter = h("input", { type: "search", id: "count-filter", name: "filter", autocomplete: "off", placeholder: t("stocktake.findExample") });
    const list = h("ol", { id: "count-list", class: "count-list" }, products.map((p, i) => {
      const input = h("input", {
        name: `count-${i}`, id: `count-${i}`, class: "count-input", inputmode: "decimal", autocomplete: "off",
        enterkeyhint: "next", maxlength: "24", value: counts[p.sku] ?? "", dataset: { sku: p.sku },
      });
      inputs.set(p.sku, input);
      const item = h("li", { class: "count-item", dataset: { sku: p.sku } },
        h("div", { class: "count-name" },
          h("label", { for: input.id }, h("strong", {}, p.name)),
          h("div", { class: "muted" }, [p.sku, packsText(p.packs)].filter(Boolean).join(" · ")),
          h("div", { class: "muted count-expected", hidden: !expected.checked }, t("stocktake.expectedLevel", { quantity: decimal(p.onHand), unit: p.unit }))),
        h("div", { class: "count-field" }, input, h("span", { class: "count-unit", "aria-hidden": "true" }, p.unit)));
      item.classList.toggle("done", Boolean((counts[p.sku] ?? "").trim()));
      // The unit is read with the box: "Counted, t".
      input.setAttribute("aria-label", t("stocktake.countOf", { name: p.name, unit: p.unit }));
      return item;
    }));
    list.addEventListener("input", (event) => {
      const input = event.target.closest(".count-input");
      if (!input) return;
      counts[input.dataset.sku] = input.value;
      input.closest(".count-item").classList.toggle("done", Boolean(input.value.trim()));
      if (input.getAttribute("aria-invalid")) mark(input, "");
      saveCounts(code, counts);
      showProgress();
    });
    // Leaving a box says at once what is wrong with what was typed in it.
    list.addEventListener("change", (event) => {
      const input = event.target.closest(".count-input");
      if (!input) return;
      const read = readCount(input.value, bySku.get(input.dataset.sku));
      mark(input, read.error ?? "");
    });
    // Enter (a phone's Next key) moves on to the next product.
    list.addEventListener("keydown", (event) => {
      const input = event.target.closest(".count-input");
      if (!input || event.key !== "Enter") return;
      event.preventDefault();
      const read = readCount(input.value, bySku.get(input.dataset.sku));
      mark(input, read.error ?? "");
      if (read.error) return;
      const next = after(input);
      if (next) {
        next.focus();
        next.scrollIntoView({ block: "center" });
      } else {
        toReviewButton.focus();
      }
    });
    filter.addEventListener("input", () => {
      const words = filter.value.trim().toLocaleLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const item of list.children) {
        const p = bySku.get(item.dataset.sku);
        const text = `${p.name} ${p.sku}`.toLocaleLowerCase();
        item.hidden = !words.every((word) => text.includes(word));
        if (!item.hidden) shown += 1;
      }
      none.hidden = shown > 0;
    });
    const clear = h("button", { type: "button", class: "secondary", id: "clear-counts" }, t("stocktake.startAgain"));
    clear.addEventListener("click", () => {
      if (!confirm(t("stocktake.startAgainConfirm", { location: code }))) return;
      counts = {};
      saveCounts(code, counts);
      drawCount(null);
      say(countMessage, t("stocktake.cleared"), "ok");
    });
    const toReviewButton = h("button", { type: "button", id: "to-review" }, t("stocktake.toReview"));
    toReviewButton.addEventListener("click", () => toReview());
    fill(counting,
      h("h2", { id: "count-title", tabindex: "-1" }, t("stocktake.countTitle", { location: code })),
      h("p", { class: "muted hint" }, t("stocktake.countHint")),
      restored ? h("p", { class: "message info", id: "count-restored" }, t("stocktake.restored", { count: restored.count, when: dateTime(restored.saved) })) : null,
      progress,
      products.length > 8 ? h("label", { class: "count-find" }, t("stocktake.find"), filter) : null,
      products.length === 0 ? h("p", { class: "muted" }, t("stocktake.nothingHere", { location: code })) : list,
      none,
      countMessage,
      h("div", { class: "actions" }, toReviewButton, clear));
    showProgress();
  }

  /**
   * Reads every count typed; marks the boxes that cannot be read and answers
   * null, or answers the counted products with their counts.
   */
  function readAll() {
    const counted = [];
    let first = null;
    for (const p of products) {
      const input = inputs.get(p.sku);
      const read = readCount(input?.value ?? counts[p.sku], p);
      if (input) mark(input, read.error ?? "");
      if (read.error) first ??= { input, error: read.error, product: p };
      else if (read.value !== null) counted.push({ product: p, counted: read.value, change: difference(read.value, p.onHand) });
    }
    if (!first) return counted;
    show("count");
    say(countMessage, t("stocktake.fixFirst", { name: first.product.name, error: first.error }), "error");
    first.input?.focus();
    return null;
  }

  // -- The review and the booking -------------------------------------------

  const reference = h("input", { name: "reference", id: "count-reference", maxlength: "100", autocomplete: "off", required: true, class: "mono" });
  const reason = h("input", { name: "reason", id: "count-reason", maxlength: "2000", required: true, value: t("stocktake.reasonDefault") });
  const bookMessage = h("p", { id: "book-message", class: "message", role: "alert" });
  const book = h("button", { type: "submit", id: "book-count" }, t("stocktake.book"));
  const bookForm = h("form", { id: "book-form", class: "stack", novalidate: true },
    h("div", { class: "form-grid" },
      h("label", {}, t("stocktake.reference"), reference),
      h("label", {}, t("stocktake.reason"), reason)),
    bookMessage,
    h("div", { class: "actions" }, book));
  const result = h("div", { id: "book-result", "aria-live": "polite" });
  let reviewed = [];

  /** Freshens the levels (others may have booked since), then shows the review. */
  async function toReview() {
    if (!readAll()) return;
    const button = steps.review;
    try {
      await busy(button, t("stocktake.checking"), async () => {
        const levels = new Map((await levelsAt(code)).map((row) => [row.sku, row.on_hand]));
        for (const p of products) if (levels.has(p.sku)) p.onHand = levels.get(p.sku);
      });
    } catch (error) {
      // The levels as loaded still make a review; the booking counts either way.
      say(countMessage, t("stocktake.levelsStale", { error: error.message }), "info");
    }
    result.replaceChildren();
    show("review", { focus: true });
  }

  function drawReview() {
    const counted = readAll();
    if (!counted) return;
    reviewed = counted;
    const changed = counted.filter((c) => c.change !== "0");
    const same = counted.length - changed.length;
    const blank = products.length - counted.length;
    if (!reference.value.trim()) reference.value = `COUNT-${code}-${today()}`;
    clearErrors(bookForm);
    say(bookMessage, "");
    const differences = changed.length === 0
      ? h("p", { id: "review-none", class: counted.length ? "message ok" : "muted" }, counted.length ? t("stocktake.allMatch") : t("stocktake.nothingCounted"))
      : h("div", { class: "table-wrap" }, h("table", { id: "review-table" },
        h("caption", { class: "visually-hidden" }, t("stocktake.differences")),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, t("stocktake.product")),
          h("th", { scope: "col", class: "num" }, t("stocktake.expected")),
          h("th", { scope: "col", class: "num" }, t("stocktake.counted")),
          h("th", { scope: "col", class: "num" }, t("stocktake.difference")))),
        h("tbody", {}, changed.map((c) => h("tr", { dataset: { sku: c.product.sku } },
          h("td", {}, productCell(c.product.sku, c.product.name)),
          h("td", { class: "num" }, `${decimal(c.product.onHand)} ${c.product.unit}`),
          h("td", { class: "num" }, `${decimal(c.counted)} ${c.product.unit}`),
          h("td", { class: `num change ${c.change.startsWith("-") ? "less" : "more"}` }, signed(c.change, c.product.unit)))))));
    fill(review,
      h("h2", { id: "review-title", tabindex: "-1" }, t("stocktake.reviewTitle", { location: code })),
      h("p", { id: "review-summary" }, t("stocktake.summary", { count: changed.length, counted: counted.length })),
      differences,
      h("ul", { class: "review-notes" },
        h("li", { id: "review-same" }, t("stocktake.unchanged", { count: same })),
        h("li", { id: "review-blank" }, t("stocktake.blank", { count: blank }))),
      staff
        ? (counted.length ? bookForm : null)
        : h("p", { class: "muted" }, t("stocktake.viewersOnly")),
      result);
    book.disabled = counted.length === 0;
  }

  /** Shows an error the API named a line of (`lines[3].counted`) at that product's box. */
  function showLineError(error, lines) {
    const at = /^lines\[(\d+)\]/.exec(error.field ?? "");
    const line = at ? lines[Number(at[1])] : null;
    const p = line ? bySku.get(line.sku) : null;
    if (!p || /\.reason$/.test(error.field)) {
      showError(bookForm, bookMessage, { ...error, field: /\.reason$/.test(error.field ?? "") ? "reason" : error.field, message: error.message });
      return;
    }
    const input = inputs.get(p.sku);
    if (input) mark(input, error.message);
    const row = review.querySelector(`#review-table tr[data-sku="${CSS.escape(p.sku)}"] td:last-child`);
    row?.append(h("span", { class: "field-error" }, error.message));
    say(bookMessage, t("stocktake.lineFailed", { name: p.name, sku: p.sku, error: error.message }), "error");
  }

  bookForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(bookForm);
    for (const el of review.querySelectorAll("#review-table .field-error")) el.remove();
    const ref = reference.value.trim();
    const why = reason.value.trim();
    if (!ref || !why) {
      showError(bookForm, bookMessage, { field: ref ? "reason" : "reference", message: t("form.fillIn") });
      return;
    }
    // Every product counted, the ones that match too: the count is on record.
    // Only when that is more than a movement holds are the matching ones left out.
    let lines = reviewed;
    if (lines.length > MAX_LINES) lines = lines.filter((c) => c.change !== "0");
    if (lines.length > MAX_LINES) {
      say(bookMessage, t("stocktake.tooManyLines", { count: lines.length, max: MAX_LINES }), "error");
      return;
    }
    const body = {
      kind: "adjust",
      location: code,
      reference: ref,
      lines: lines.map((c) => ({ sku: c.product.sku, counted: c.counted, reason: why })),
    };
    // A retry of the same lines is the same booking; other lines are another.
    const text = JSON.stringify(body);
    if (booking.body !== text) booking = { key: idempotencyKey(), body: text };
    try {
      const movement = await busy(book, t("stocktake.booking"), () =>
        api("/movements", { method: "POST", body, headers: { "idempotency-key": booking.key } }));
      booking = { key: idempotencyKey(), body: "" };
      const changes = movement.lines.filter((l) => normal(l.quantity) !== "0").length;
      counts = {};
      saveCounts(code, counts);
      const history = h("a", { href: `/admin/history?${new URLSearchParams({ reference: ref })}`, id: "booked-history" }, t("stocktake.inHistory"));
      await load({ keepView: true });
      result.replaceChildren(h("p", { class: "message ok", id: "booked", tabindex: "-1" },
        t("stocktake.booked", { id: String(movement.id), count: changes, confirmed: movement.lines.length - changes, reference: ref })),
        h("p", {}, history));
      reference.value = "";
      result.querySelector("#booked").focus();
    } catch (error) {
      if (error.field?.startsWith("lines[")) showLineError(error, body.lines);
      else showError(bookForm, bookMessage, error);
    }
  });

  // -- Loading a location ---------------------------------------------------

  async function load({ keepView = false } = {}) {
    const mine = ++asked;
    code = place.value;
    say(loadMessage, "");
    if (!code) {
      work.hidden = true;
      address();
      return;
    }
    if (!keepView) reference.value = "";
    choice.setAttribute("aria-busy", "true");
    say(loadMessage, t("stocktake.loading", { location: code }), "info");
    try {
      const found = await productsAt(code);
      if (mine !== asked) return;
      products = found;
      bySku = new Map(products.map((p) => [p.sku, p]));
    } catch (error) {
      if (mine !== asked) return;
      work.hidden = true;
      say(loadMessage, t("stocktake.loadFailed", { location: code, error: error.message }), "error");
      return;
    } finally {
      if (mine === asked) choice.removeAttribute("aria-busy");
    }
    say(loadMessage, "");
    const kept = loadCounts(code);
    const known = new Set(products.map((p) => p.sku));
    counts = Object.fromEntries(Object.entries(kept.counts).filter(([sku, text]) => known.has(sku) && typeof text === "string"));
    const restoredCount = Object.values(counts).filter((text) => text.trim()).length;
    work.hidden = false;
    drawSheet();
    drawCount(restoredCount && !keepView ? { count: restoredCount, saved: kept.saved } : null);
    if (keepView) {
      // After booking: the review stays, with what was booked.
      fill(review,
        h("h2", { id: "review-title", tabindex: "-1" }, t("stocktake.reviewTitle", { location: code })),
        result);
      show("review", { draw: false });
    } else {
      show(view === "review" && !restoredCount ? "count" : view);
    }
  }

  place.addEventListener("change", () => {
    view = "count";
    load();
  });
  await load();
}
