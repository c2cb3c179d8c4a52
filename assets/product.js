// A product's page: its facts, prices and availability, and the quote
// calculator, which asks the server for an exact estimate as the customer types.
import { api, live, money, shop } from "/assets/api.js";
import { availabilityBadge, brand, debounce, h, say, setAvailability } from "/assets/ui.js";
import * as basket from "/assets/quote-basket.js";

const sku = decodeURIComponent(location.pathname.split("/").pop());
const form = document.getElementById("calc");
const quantity = document.getElementById("calc-quantity");
const unit = document.getElementById("calc-unit");
const calcMessage = document.getElementById("calc-message");
const out = Object.fromEntries(
  ["converted", "explanation", "tier", "net", "tax", "total"].map((k) => [k, document.getElementById(`calc-${k}`)]),
);

/** Unit code → what it measures, and → its name for people: from the shop's
 *  units (`/api/v1/shop`), the one list Quarry keeps. */
const DIMENSION = {};
const UNIT_NAMES = {};

let currency = "EUR";
let product = null;

/** Every unit the product can be sold in: its own, its packs, and the units
 *  its density or mass per length or area reach. The server has the last word. */
function sellableUnits(p) {
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
  const units = [p.unit, ...(p.packs ?? []).map((pack) => pack.name)];
  for (const [code, dim] of Object.entries(DIMENSION)) if (dims.has(dim)) units.push(code);
  return [...new Set(units)];
}

function fact(list, term, value) {
  if (value === null || value === undefined || value === "") return;
  list.append(h("dt", {}, term), h("dd", {}, value));
}

function render(p, stock) {
  document.title = `${p.name} · ${document.title.split(" · ").pop()}`;
  document.getElementById("category").textContent = p.category.split("/").join(" › ");
  document.getElementById("name").textContent = p.name;
  document.getElementById("sku").textContent = p.sku;
  document.getElementById("description").textContent = p.description ?? "";
  const per = p.pricing_unit ?? p.unit;
  document.getElementById("price").textContent = `${money(p.price, currency)} / ${per}`;
  const badge = document.getElementById("availability");
  // Anonymous callers get the shop's availability; staff get levels and totals.
  const status = stock?.availability ?? (stock?.totals && (Number(stock.totals.available) <= 0 ? "out" : stock.totals.low ? "low" : "in_stock"));
  if (status) badge.replaceChildren(availabilityBadge(p.sku, { status, available: stock.available ?? stock.totals?.available }));
  const facts = document.getElementById("facts");
  facts.replaceChildren();
  fact(facts, "Brand", p.brand);
  for (const [key, value] of Object.entries(p.attributes ?? {})) fact(facts, key.replaceAll("_", " "), String(value));
  fact(facts, "Sold by", UNIT_NAMES[p.unit] ?? p.unit);
  fact(facts, "Density", p.density_kg_m3 && `${p.density_kg_m3} kg/m³`);
  fact(facts, "Mass per metre", p.mass_per_m_kg && `${p.mass_per_m_kg} kg/m`);
  fact(facts, "Mass per m²", p.mass_per_m2_kg && `${p.mass_per_m2_kg} kg/m²`);
  for (const pack of p.packs ?? []) fact(facts, `Pack: ${pack.name}`, `${pack.quantity} ${pack.unit}`);
  fact(facts, "Minimum order", p.min_order && `${p.min_order.quantity} ${p.min_order.unit}`);
  const tiers = p.price_breaks ?? [];
  document.getElementById("tiers-box").hidden = tiers.length === 0;
  document.querySelector("#tiers tbody").replaceChildren(
    h("tr", {}, h("td", {}, tiers.length ? `below ${tiers[0].min_quantity} ${per}` : "any quantity"), h("td", { class: "num" }, `${money(p.price, currency)} / ${per}`)),
    ...tiers.map((t) => h("tr", {}, h("td", {}, `${t.min_quantity} ${per}`), h("td", { class: "num" }, `${money(t.price, currency)} / ${per}`))),
  );
  unit.replaceChildren(...sellableUnits(p).map((u) => h("option", { value: u }, UNIT_NAMES[u] ?? u)));
  unit.value = per;
  document.getElementById("product").hidden = false;
}

function clearOutputs() {
  for (const el of Object.values(out)) el.textContent = "—";
  showHow(true);
}

/** Shows or hides the "How" line of the calculator (its term and its value). */
function showHow(shown) {
  out.explanation.hidden = !shown;
  out.explanation.previousElementSibling.hidden = !shown;
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
  const amount = quantity.value.trim().replace(",", ".");
  if (!amount) {
    clearOutputs();
    say(calcMessage, "");
    return null;
  }
  inFlight = new AbortController();
  try {
    const answer = await api("/quote/estimate", {
      query: { sku, quantity: amount, unit: unit.value },
      signal: inFlight.signal,
    });
    if (mine !== asked) return latest;
    const line = answer.lines[0];
    const sold = `${line.stock.quantity} ${line.stock.unit}`;
    out.converted.textContent = line.pricing.unit === line.stock.unit ? sold : `${sold} (${line.pricing.quantity} ${line.pricing.unit})`;
    out.explanation.textContent = line.explanation + (line.pack_rounding ? ` — ${line.pack_rounding}` : "");
    // "How: 1 t" for 1 t says nothing: shown only when something was worked out.
    const wanted = line.requested ?? line.sold;
    showHow(line.pack_rounding || line.explanation.trim() !== `${wanted.quantity} ${wanted.unit}`);
    out.tier.textContent = `${money(line.unit_price, answer.currency)} / ${line.pricing.unit}` +
      (line.tier ? ` (from ${line.tier.min_quantity} ${line.pricing.unit})` : "");
    out.net.textContent = money(line.net, answer.currency);
    out.tax.textContent = `${money(line.tax, answer.currency)} (${line.tax_rate} %)`;
    out.total.textContent = money(answer.totals.gross, answer.currency);
    quantity.removeAttribute("aria-invalid");
    const short = {
      partial: "We do not have all of this in stock at the moment; ask us about delivery.",
      backorder: "Part of this is on back order; we will tell you when it arrives.",
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

const changed = debounce(estimate, 150);
quantity.addEventListener("input", changed);
unit.addEventListener("change", estimate);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const line = await estimate();
  if (!line) return;
  addedFor = shownFor();
  const added = basket.add({ sku, name: product.name, quantity: quantity.value.trim().replace(",", "."), unit: unit.value });
  const now = `${added.line.quantity} ${added.line.unit}`;
  say(calcMessage, {
    added: `Added ${now} to your quote list.`,
    increased: `Added ${quantity.value.trim()} ${unit.value}: your quote list now has ${now} of this.`,
    changed: `Your quote list had ${added.before?.quantity} ${added.before?.unit} of this; changed to ${now}.`,
  }[added.outcome], "ok");
});

async function start() {
  basket.showCount(document.getElementById("basket-count"));
  const info = await shop();
  currency = info.currency;
  for (const u of info.units) {
    DIMENSION[u.code] = u.dimension;
    UNIT_NAMES[u.code] = u.label;
  }
  brand(info);
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
      error.status === 404 ? `There is no product ${sku}. Search the catalogue instead.` : error.message, "error");
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
