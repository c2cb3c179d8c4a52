// The customer's quote list, kept in this browser until the quote is
// requested: lines of SKU, quantity and unit, with the product's name and the
// thumbnail of its main photo as they were when it was added; and how the
// goods are to reach the customer (collection, or delivery to a postcode).

const KEY = "quarry.quote-list";
const DELIVERY_KEY = "quarry.quote-delivery";
const MAX_LINES = 100;

/** The lines in the list: `[{ sku, name, quantity, unit, image }]`; `image` is
 *  `{ thumb_url, alt }`, null for a product without photos, and missing in
 *  lines added before photos were kept. */
export function lines() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(stored) ? stored.filter((l) => l && typeof l.sku === "string") : [];
  } catch {
    return [];
  }
}

function save(list) {
  localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX_LINES)));
  dispatchEvent(new CustomEvent("quarry:basket"));
}

/** The sum of two decimal numbers written with a dot ("2.5" + "0.75" = "3.25"),
 *  exact however many digits; null when either is not such a number. */
export function addDecimals(a, b) {
  const parts = [String(a).trim(), String(b).trim()].map((x) => /^(\d+)(?:\.(\d+))?$/.exec(x));
  if (parts.some((p) => !p)) return null;
  const places = Math.max(...parts.map((p) => (p[2] ?? "").length));
  const sum = parts.reduce((total, p) => total + BigInt(p[1] + (p[2] ?? "").padEnd(places, "0")), 0n);
  const digits = sum.toString().padStart(places + 1, "0");
  const whole = digits.slice(0, digits.length - places);
  const fraction = digits.slice(digits.length - places).replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}

/**
 * Adds a line. A product already in the list in the same unit gets the
 * quantity added to it; in another unit, its line is replaced. Answers what
 * happened: `{ outcome: "added" | "increased" | "changed", line, before }`,
 * `line` as the list now holds it and `before` the line it replaced.
 */
export function add(line) {
  const list = lines();
  const index = list.findIndex((l) => l.sku === line.sku);
  if (index < 0) {
    list.push(line);
    save(list);
    return { outcome: "added", line, before: null };
  }
  const before = list[index];
  const sum = before.unit === line.unit ? addDecimals(before.quantity, line.quantity) : null;
  const now = sum === null ? line : { ...line, quantity: sum };
  // One line per product: any other line of it (kept by older versions) goes.
  const rest = list.filter((l, i) => i === index || l.sku !== line.sku);
  rest[rest.indexOf(before)] = now;
  save(rest);
  return { outcome: sum === null ? "changed" : "increased", line: now, before };
}

/** Replaces the line at `index`. */
export function update(index, line) {
  const list = lines();
  list[index] = { ...list[index], ...line };
  save(list);
}

export function remove(index) {
  const list = lines();
  list.splice(index, 1);
  save(list);
}

export function clear() {
  save([]);
}

/** How the goods are to reach the customer, as last chosen in this browser:
 *  `{ method: "collection" }`, `{ method: "delivery", postcode }`, or null
 *  when not chosen yet. Kept when a quote is requested: the next list goes to
 *  the same place. */
export function delivery() {
  try {
    const stored = JSON.parse(localStorage.getItem(DELIVERY_KEY) ?? "null");
    if (stored?.method === "collection") return { method: "collection" };
    if (stored?.method === "delivery") return { method: "delivery", postcode: typeof stored.postcode === "string" ? stored.postcode : "" };
    return null;
  } catch {
    return null;
  }
}

/** Keeps the choice of `delivery()` (null forgets it). */
export function chooseDelivery(choice) {
  try {
    if (choice) localStorage.setItem(DELIVERY_KEY, JSON.stringify(choice));
    else localStorage.removeItem(DELIVERY_KEY);
  } catch {
    // No storage (private mode): the choice lasts until the page is left.
  }
}

/** Keeps the top bar's count up to date, here and in other tabs. */
export function showCount(el) {
  const show = () => {
    el.textContent = String(lines().length);
  };
  show();
  addEventListener("quarry:basket", show);
  addEventListener("storage", (event) => {
    if (event.key === KEY) show();
  });
}
