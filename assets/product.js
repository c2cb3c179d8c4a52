// A product's page: its facts, prices and availability, and the quote
// calculator, which asks the server for an exact estimate as the customer types,
// with collection or delivery to a postcode as the quote list has it. A signed-in
// trade contact's estimate is at their price list: the rule and the saving show.
import { api, live, money, shop } from "/assets/api.js";
import { availabilityBadge, brand, debounce, h, say, setAvailability } from "/assets/ui.js";
import * as basket from "/assets/quote-basket.js";
import { deliveryChoice, deliveryRefusal, estimateDelivered, explainDelivery } from "/assets/delivery.js";
import { decimal, localNumbers, localize, percent, quantity as measure, readNumber, splitQuantity, t, unitName } from "/assets/i18n.js";
import { ruleNote } from "/assets/list-price.js";
import { accountLink } from "/assets/account-link.js";

const sku = decodeURIComponent(location.pathname.split("/").pop());
const form = document.getElementById("calc");
const quantity = document.getElementById("calc-quantity");
const unit = document.getElementById("calc-unit");
const calcMessage = document.getElementById("calc-message");
const out = Object.fromEntries(
  ["converted", "explanation", "tier", "net", "tax", "total"].map((k) => [k, document.getElementById(`calc-${k}`)]),
);

/** Unit code → what it measures, → its name for people, and → the server's
 *  name for it: from the shop's units (`/api/v1/shop`), the one list Quarry keeps. */
const DIMENSION = {};
const UNIT_NAMES = {};
const UNIT_LABELS = {};

let currency = "EUR";
let product = null;

/** Every unit the product can be sold in: its own, its packs, and the units
 *  its density or mass per length or area reach. The server has the last word. */
function sellableUnits(p, every = false) {
  const dims = new Set([DIMENSION[p.unit] ?? "count"]);
  const bridges = [
    [p.density_kg_m3, "volume"],
    [p.mass_per_m_kg, "length"],
    [p.mass_per_m2_kg, "area"],
  ].filter(([factor]) => factor);
  for (let grew = true; grew;) {
    grew = false;
    for (const [, dim] of bridges) {
      if ((dims.has("mass") || dims.has(dim)) && !(dims.has("mass") && dims.has(dim))) {
        dims.add("mass");
        dims.add(dim);
        grew = true;
      }
    }
  }
  const own = [p.unit, ...(p.packs ?? []).map((pack) => pack.name), ...(p.packs ?? []).map((pack) => pack.unit)];
  const units = [p.unit, ...(p.packs ?? []).map((pack) => pack.name)];
  const fits = (code) => every || own.includes(code) || !(FINE.has(code) || (BULK.has(p.unit) && NOT_FOR_BULK.has(code)));
  for (const [code, dim] of Object.entries(DIMENSION)) if (dims.has(dim) && fits(code)) units.push(code);
  return [...new Set(units)];
}

/** Units too small to buy most goods in (grams, ounces, millilitres,
 *  millimetres, inches), offered only for a product stocked or packed in
 *  them; and those no one buys a bulk product (stocked in t, m³ or yd³) in.
 *  A unit typed with the quantity ("500 l") is still read. */
const FINE = new Set(["g", "oz", "ml", "mm", "in"]);
const BULK = new Set(["t", "m3", "yd3"]);
const NOT_FOR_BULK = new Set(["l", "gal", "lb", "cm"]);

function fact(list, term, value) {
  if (value === null || value === undefined || value === "") return;
  list.append(h("dt", {}, term), h("dd", {}, value));
}

/** The product's photos: the main one large, and all of them as buttons that
 *  show one there (when there are several). Hidden when it has none. */
function showPhotos(images) {
  const gallery = document.getElementById("gallery");
  const main = document.getElementById("photo");
  const choices = document.getElementById("photo-choices");
  gallery.hidden = images.length === 0;
  const buttons = images.map((image, i) => h("button", {
    type: "button", class: "gallery-choice", "aria-pressed": "false",
    "aria-label": t("product.showPhoto", { n: i + 1, count: images.length, alt: image.alt }),
    onclick: () => show(i),
  }, h("img", { loading: "lazy", alt: image.alt, src: image.thumb_url })));
  function show(i) {
    const image = images[i];
    main.src = image.url;
    main.alt = image.alt;
    main.width = image.width;
    main.height = image.height;
    buttons.forEach((button, j) => button.setAttribute("aria-pressed", String(i === j)));
  }
  choices.replaceChildren(...(images.length > 1 ? buttons : []));
  choices.hidden = images.length < 2;
  if (images.length) show(0);
}

function render(p, stock) {
  document.title = `${p.name} · ${document.title.split(" · ").pop()}`;
  document.getElementById("category").textContent = p.category.split("/").join(" › ");
  document.getElementById("name").textContent = p.name;
  document.getElementById("sku").textContent = p.sku;
  document.getElementById("description").textContent = p.description ?? "";
  showPhotos(p.images ?? []);
  const per = p.pricing_unit ?? p.unit;
  document.getElementById("price").textContent = t("format.perUnit", { price: money(p.price, currency), unit: per });
  const badge = document.getElementById("availability");
  // Anonymous callers get the shop's availability; staff get levels and totals.
  const status = stock?.availability ?? (stock?.totals && (Number(stock.totals.available) <= 0 ? "out" : stock.totals.low ? "low" : "in_stock"));
  if (status) badge.replaceChildren(availabilityBadge(p.sku, { status, available: stock.available ?? stock.totals?.available }));
  const facts = document.getElementById("facts");
  facts.replaceChildren();
  fact(facts, t("product.brand"), p.brand);
  for (const [key, value] of Object.entries(p.attributes ?? {})) fact(facts, key.replaceAll("_", " "), localNumbers(String(value)));
  fact(facts, t("product.soldBy"), UNIT_NAMES[p.unit] ?? p.unit);
  fact(facts, t("product.density"), p.density_kg_m3 && measure(p.density_kg_m3, "kg/m³"));
  fact(facts, t("product.massPerMetre"), p.mass_per_m_kg && measure(p.mass_per_m_kg, "kg/m"));
  fact(facts, t("product.massPerArea"), p.mass_per_m2_kg && measure(p.mass_per_m2_kg, "kg/m²"));
  for (const pack of p.packs ?? []) fact(facts, t("product.pack", { name: pack.name }), measure(pack.quantity, pack.unit));
  // The minimum order is a quantity in the pricing unit.
  fact(facts, t("product.minOrder"), p.min_order && measure(p.min_order, per));
  const tiers = p.price_breaks ?? [];
  document.getElementById("tiers-box").hidden = tiers.length === 0;
  document.querySelector("#tiers tbody").replaceChildren(
    h("tr", {}, h("td", {}, tiers.length ? t("product.below", { quantity: measure(tiers[0].min_quantity, per) }) : t("product.anyQuantity")),
      h("td", { class: "num" }, t("format.perUnit", { price: money(p.price, currency), unit: per }))),
    ...tiers.map((tier) => h("tr", {}, h("td", {}, measure(tier.min_quantity, per)),
      h("td", { class: "num" }, t("format.perUnit", { price: money(tier.price, currency), unit: per })))),
  );
  unit.replaceChildren(...sellableUnits(p).map((u) => h("option", { value: u }, UNIT_NAMES[u] ?? u)));
  unit.value = per;
  document.getElementById("product").hidden = false;
}

function clearOutputs() {
  for (const el of Object.values(out)) el.textContent = "—";
  showHow(true);
  showDelivery(null);
  showRule(null);
}

/** The price-list rule that priced the line for a signed-in trade customer,
 *  and what it saves on the list price (none: hidden). */
function showRule(listPrice, currency) {
  const dd = document.getElementById("calc-rule");
  const note = ruleNote(listPrice, currency);
  dd.textContent = note ?? "";
  dd.hidden = !note;
  document.getElementById("calc-rule-term").hidden = !note;
}

/** The calculator's delivery line, from an estimate's `delivery` (none:
 *  hidden): where to, how its charge was worked out, and the charge. */
function showDelivery(delivery, currency) {
  const dd = document.getElementById("calc-delivery");
  const shown = Boolean(delivery);
  dd.hidden = !shown;
  document.getElementById("calc-delivery-term").hidden = !shown;
  if (!delivery) {
    dd.replaceChildren();
    return;
  }
  const collected = delivery.method === "collection";
  dd.classList.toggle("collection", collected);
  // Collection has no charge line (and no "null" in its place).
  dd.replaceChildren(...[
    h("strong", { class: "to" }, collected ? t("delivery.collected") : t("delivery.to", { postcode: delivery.postcode })),
    h("div", { class: "explain" }, explainDelivery(delivery, currency)),
    collected ? null : h("div", { class: "charge" }, t("calc.deliveryCharge", { net: money(delivery.net, currency), gross: money(delivery.gross, currency) })),
  ].filter(Boolean));
}

/** Shows or hides the "How" line of the calculator (its term and its value). */
function showHow(shown) {
  out.explanation.hidden = !shown;
  out.explanation.previousElementSibling.hidden = !shown;
}

/** What is typed as a unit ("Tonnes", "m³", "bulk bags") as it is compared. */
function unitWords(text) {
  const word = String(text ?? "").normalize("NFKC").toLowerCase().replace(/\.$/, "").replace(/\s+/g, " ").trim();
  const words = new Set([word]);
  // Plurals: "tonnes", "bulk bags", "Tonnen", "Säcke" also name "tonne", "bulk bag"…
  if (word.length >= 4) for (const end of ["es", "s", "en", "n", "e"]) if (word.endsWith(end)) words.add(word.slice(0, -end.length));
  return words;
}

/** Every name a unit the calculator offers goes by: its code, its names (and
 *  their parts: "tonnes" and "t" of "tonnes (t)"), and a pack's name. */
function namesOf(code) {
  const names = new Set([code]);
  for (const label of [UNIT_LABELS[code], UNIT_NAMES[code]]) {
    if (!label) continue;
    names.add(label);
    const parts = /^(.*?)\s*\((.+)\)$/.exec(label);
    if (parts) {
      names.add(parts[1]);
      names.add(parts[2]);
    }
  }
  const words = new Set();
  for (const name of names) for (const word of unitWords(name)) words.add(word);
  return words;
}

/** The unit offered whose name was typed (`"tonnes"` → "t"), or null. */
function findUnit(typed) {
  const wanted = unitWords(typed);
  const offered = [...unit.options].map((o) => o.value);
  // The code or name exactly first ("m" is metres, even if "m3" starts with it).
  const among = (codes) => codes.find((code) => namesOf(code).has([...wanted][0]))
    ?? codes.find((code) => [...wanted].some((w) => namesOf(code).has(w)));
  const found = among(offered) ?? (product ? among(sellableUnits(product, true)) : null) ?? null;
  // A unit the list leaves out (litres of sand) is still sold: offer it now.
  if (found && !offered.includes(found)) unit.append(h("option", { value: found }, UNIT_NAMES[found] ?? found));
  return found;
}

/**
 * Reads the quantity box: its number the shop's way, and a unit typed with it
 * ("2,5 t", "3 m3", "2 tonnes"), which is then picked in the unit list.
 * Answers `{ amount, unit }` (the amount in the API's form) or `{ error }`.
 */
function typedQuantity() {
  const { number, unit: written } = splitQuantity(quantity.value);
  if (written) {
    const found = findUnit(written);
    if (!found) return { error: t("calc.unknownUnit", { unit: written }) };
    if (unit.value !== found) unit.value = found;
  }
  const read = readNumber(number);
  return read.error ? { error: read.error } : { amount: read.value, unit: unit.value };
}

let asked = 0;
let inFlight = null;
/** The quantity and unit on show, and those last added to the quote list. */
const shownFor = () => `${quantity.value.trim()} ${unit.value}`;
let addedFor = null;

/** The newest estimate asked for: what an estimate overtaken by it answers. */
let latest = null;

/** Asks for an estimate of what is typed; answers its line, or null. An
 *  estimate overtaken by a newer one (the customer typed on) answers the newer one's. */
function estimate() {
  latest = estimateNow();
  return latest;
}

async function estimateNow() {
  const mine = ++asked;
  inFlight?.abort();
  if (!quantity.value.trim()) {
    clearOutputs();
    say(calcMessage, "");
    return null;
  }
  const typed = typedQuantity();
  if (typed.error) {
    clearOutputs();
    quantity.setAttribute("aria-invalid", "true");
    say(calcMessage, typed.error, "error");
    return null;
  }
  inFlight = new AbortController();
  try {
    // A postcode not delivered to leaves the goods priced, without delivery.
    const { estimate: answer, refused } = await estimateDelivered(
      [{ sku, quantity: typed.amount, unit: typed.unit }], delivery.request(), { signal: inFlight.signal });
    if (mine !== asked) return latest;
    delivery.note(refused ? deliveryRefusal(refused) : "");
    showDelivery(answer.delivery, answer.currency);
    const line = answer.lines[0];
    const sold = measure(line.stock.quantity, line.stock.unit);
    out.converted.textContent = line.pricing.unit === line.stock.unit ? sold : `${sold} (${measure(line.pricing.quantity, line.pricing.unit)})`;
    out.explanation.textContent = localNumbers(line.explanation + (line.pack_rounding ? ` — ${line.pack_rounding}` : ""));
    // "How: 1 t" for 1 t says nothing: shown only when something was worked out.
    const wanted = line.requested ?? line.sold;
    showHow(line.pack_rounding || line.explanation.trim() !== `${wanted.quantity} ${wanted.unit}`);
    const price = t("format.perUnit", { price: money(line.unit_price, answer.currency), unit: line.pricing.unit });
    out.tier.textContent = line.tier ? t("calc.tierFrom", { price, quantity: measure(line.tier.min_quantity, line.pricing.unit) }) : price;
    showRule(line.list_price, answer.currency);
    out.net.textContent = money(line.net, answer.currency);
    out.tax.textContent = `${money(line.tax, answer.currency)} (${percent(line.tax_rate)})`;
    out.total.textContent = money(answer.totals.gross, answer.currency);
    quantity.removeAttribute("aria-invalid");
    const short = {
      partial: t("calc.partial"),
      backorder: t("calc.backorder"),
    }[line.availability?.status];
    // A late answer for what was just added leaves the "Added" message alone.
    if (short || shownFor() !== addedFor) say(calcMessage, short ?? "", "info");
    return line;
  } catch (error) {
    if (mine !== asked) return latest;
    if (error.name === "AbortError") return null;
    clearOutputs();
    quantity.setAttribute("aria-invalid", String(error.field === "quantity" || error.field?.endsWith("quantity")));
    say(calcMessage, error.message, "error");
    return null;
  }
}

// Collection (no charge, until the customer chooses otherwise) or delivery to
// a postcode: kept in this browser with the quote list, which goes on with it.
const delivery = deliveryChoice(document.getElementById("delivery"), {
  field: document.getElementById("postcode-field"),
  note: document.getElementById("postcode-note"),
  preset: "collection",
  onChoose: () => estimate(),
});

const changed = debounce(estimate, 150);
quantity.addEventListener("input", changed);
unit.addEventListener("change", () => {
  // A unit typed in the box gives way to the one chosen from the list.
  const { number, unit: written } = splitQuantity(quantity.value);
  if (written) quantity.value = number;
  estimate();
});
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  // A postcode typed a moment ago is kept with the line, though not priced yet.
  delivery.choose();
  const line = await estimate();
  if (!line) return;
  addedFor = shownFor();
  const typed = typedQuantity();
  if (typed.error) return;
  // The main photo's thumbnail goes with the line, for the quote list to show (null: none).
  const [photo] = product.images ?? [];
  const image = photo ? { thumb_url: photo.thumb_url, alt: photo.alt } : null;
  const added = basket.add({ sku, name: product.name, quantity: typed.amount, unit: typed.unit, image });
  const now = measure(added.line.quantity, added.line.unit);
  say(calcMessage, {
    added: () => t("calc.added", { now }),
    increased: () => t("calc.increased", { added: measure(typed.amount, typed.unit), now }),
    changed: () => t("calc.changed", { before: measure(added.before?.quantity, added.before?.unit), now }),
  }[added.outcome](), "ok");
});

async function start() {
  basket.showCount(document.getElementById("basket-count"));
  const info = await shop();
  await localize(info);
  currency = info.currency;
  for (const u of info.units) {
    DIMENSION[u.code] = u.dimension;
    UNIT_NAMES[u.code] = unitName(u.code, u.label);
    UNIT_LABELS[u.code] = u.label;
  }
  brand(info);
  // A trade contact signed in: named in the top bar, and the estimates below
  // are priced at their list by the server.
  accountLink();
  try {
    const [p, stock] = await Promise.all([
      api(`/products/${encodeURIComponent(sku)}`),
      api(`/products/${encodeURIComponent(sku)}/stock`).catch(() => null),
    ]);
    product = p;
    render(p, stock);
    estimate();
  } catch (error) {
    say(document.getElementById("load-message"),
      error.status === 404 ? t("product.missing", { sku }) : error.message, "error");
    return;
  }
  live({
    "availability.changed": (data) => {
      const badge = document.querySelector("#availability .badge");
      if (data.sku === sku && badge) setAvailability(badge, { status: data.availability, available: data.available });
    },
    "level.changed": (data) => {
      const badge = document.querySelector("#availability .badge");
      if (data.sku === sku && badge) setAvailability(badge, { status: data.product_availability, available: data.product_available });
    },
  });
}

start();
