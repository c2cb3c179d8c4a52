// The customer's quote list, kept in this browser until the quote is
// requested: lines of SKU, quantity and unit.

const KEY = "quarry.quote-list";
const MAX_LINES = 100;

/** The lines in the list: `[{ sku, name, quantity, unit }]`. */
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

/** Adds a line; the same product in the same unit is replaced. */
export function add(line) {
  const list = lines().filter((l) => !(l.sku === line.sku && l.unit === line.unit));
  list.push(line);
  save(list);
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
