// Small DOM helpers shared by every page: building elements, showing API
// errors next to the fields they name, busy buttons, and labels for statuses.
import { date, dateTime, decimal, readNumber, t } from "/assets/i18n.js";

/** Makes an element: `h("a", { href: "/" }, "Home")`. Text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : value);
    }
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** Calls `fn` once the calls have paused for `ms`. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Puts `text` in a message element with a kind: "error", "ok" or "info". */
export function say(el, text, kind = "info") {
  el.textContent = text ?? "";
  el.className = `message ${kind}`;
}

/** The availability badge of a product. */
export function availabilityBadge(sku, availability) {
  const status = availability?.status ?? availability ?? "unknown";
  const badge = h("span", { class: "badge", dataset: { sku, status } });
  setAvailability(badge, availability);
  return badge;
}

/** Updates a badge from an availability (`{status, available}` or a status). */
export function setAvailability(badge, availability) {
  const status = availability?.status ?? availability ?? "unknown";
  const changed = badge.dataset.status !== status;
  badge.dataset.status = status;
  let text = { in_stock: t("availability.inStock"), low: t("availability.low"), out: t("availability.out") }[status] ?? t("availability.ask");
  if (availability?.available !== undefined && availability?.available !== null && status !== "out") {
    text = t("availability.withCount", { status: text, count: decimal(availability.available) });
  }
  badge.textContent = text;
  return changed;
}

const SVG = "http://www.w3.org/2000/svg";

/** A neutral picture for a product without a photo: a framed hill and sun,
 *  drawn in the text's colour, hidden from screen readers. */
function noPhoto() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({ viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false", class: "no-photo" })) {
    svg.setAttribute(name, value);
  }
  for (const [tag, attrs] of [
    ["rect", { x: "3", y: "5", width: "18", height: "14", rx: "2" }],
    ["circle", { cx: "9", cy: "10", r: "1.6" }],
    ["path", { d: "M4 17l5-5 3 3 3-4 5 6" }],
  ]) {
    const part = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) part.setAttribute(name, value);
    svg.append(part);
  }
  return svg;
}

/**
 * A product's thumbnail in a box of a fixed shape (quarry.css), so nothing
 * moves while it loads: `image` is `{ thumb_url, alt }`, or null for a neutral
 * placeholder, which also stands in for a photo that no longer loads.
 * Loaded when it comes near the screen.
 */
export function thumbnail(image, className) {
  const box = h("span", { class: `photo-box ${className ?? ""}`.trim() });
  const empty = () => {
    box.classList.add("empty");
    box.replaceChildren(noPhoto());
  };
  if (!image?.thumb_url) {
    empty();
    return box;
  }
  // `loading` before `src`: the browser must know it may wait before it starts.
  const img = h("img", { loading: "lazy", decoding: "async", alt: image.alt ?? "", src: image.thumb_url });
  img.addEventListener("error", empty, { once: true });
  box.append(img);
  return box;
}

/** Clears the inline errors of a form. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.removeAttribute("aria-describedby");
  }
}

/**
 * Shows an API error on a form: next to the field it names when the form has
 * one (`price`, `lines[2].quantity`), and in `message`. Typed input stays.
 */
export function showError(form, message, error) {
  clearErrors(form);
  let input = null;
  if (error?.field) {
    const names = [error.field, error.field.replace(/\[\d+\]/g, ""), error.field.split(".").at(-1), error.field.split(".")[0]];
    for (const name of names) {
      input = form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input) break;
    }
    // `packs[0]` names a row: its first input.
    input ??= form.querySelector(`[name^="${CSS.escape(error.field)}."]`);
  }
  if (input) {
    const id = `${input.name.replace(/[^a-z0-9]/gi, "-")}-error`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    const note = h("span", { class: "field-error", id }, error.message);
    const holder = input.closest("label, td, .field");
    if (holder) holder.append(note);
    else input.after(note);
    input.focus();
  }
  say(message, error?.message ?? String(error), "error");
}

/**
 * Marks every required field of `form` left empty (not the read-only ones),
 * each with its own note, and says which in `message`. Answers whether any
 * was: the form is sent only when none is.
 */
export function markMissing(form, message) {
  clearErrors(form);
  const missing = [...form.querySelectorAll("[required]")].filter((el) => !el.readOnly && !el.disabled && !el.value.trim());
  for (const input of missing) {
    const id = `${input.name.replace(/[^a-z0-9]/gi, "-")}-error`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    const holder = input.closest("label, td, .field");
    const note = h("span", { class: "field-error", id }, t("form.fillIn"));
    if (holder) holder.append(note);
    else input.after(note);
  }
  if (missing.length === 0) return false;
  const names = missing.map((el) => (el.closest("label")?.firstChild?.textContent ?? el.name).trim());
  const list = names.length === 1 ? names[0] : t("form.list", { items: names.slice(0, -1).join(", "), last: names.at(-1) });
  say(message, t("form.required", { count: names.length, fields: list }), "error");
  missing[0].focus();
  return true;
}

/** Puts `text` next to `input` as its error, marking it invalid. */
function noteOn(input, text) {
  const id = `${input.name.replace(/[^a-z0-9]/gi, "-")}-error`;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", id);
  const note = h("span", { class: "field-error", id }, text);
  const holder = input.closest("label, td, .field");
  if (holder) holder.append(note);
  else input.after(note);
}

/**
 * Reads the number boxes of `form` the shop's way, with `readNumber`:
 * `fields` maps each box's name to what was typed in it. Answers the numbers
 * in the API's form by name (an empty box: null); or, when any box cannot be
 * read, marks each such box with what is wrong, says it in `message`, and
 * answers null. Earlier marks of the form are cleared first.
 */
export function readNumbers(form, message, fields) {
  clearErrors(form);
  const values = {};
  const bad = [];
  for (const [name, typed] of Object.entries(fields)) {
    if (!String(typed ?? "").trim()) {
      values[name] = null;
      continue;
    }
    const read = readNumber(typed);
    if (read.error) bad.push([name, read.error]);
    else values[name] = read.value;
  }
  if (bad.length === 0) return values;
  let first = null;
  for (const [name, text] of bad) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) continue;
    noteOn(input, text);
    first ??= input;
  }
  say(message, bad[0][1], "error");
  first?.focus();
  return null;
}

/** Disables `button` while `work` runs, with a progress label. */
export async function busy(button, label, work) {
  const before = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = before;
  }
}

let meters = 0;

/**
 * A progress bar named by its label, hidden until shown: `show(label, done,
 * total)` (no total: a bar that only says work goes on), `hide()`. Screen
 * readers hear the label when it changes, not every step of the bar.
 */
export function meter() {
  meters += 1;
  const label = h("span", { id: `meter-${meters}`, "aria-live": "polite" });
  const bar = h("progress", { max: "1", "aria-labelledby": label.id });
  const percent = h("span", { class: "muted", "aria-hidden": "true" });
  const el = h("div", { class: "meter", hidden: true }, label, bar, percent);
  return {
    el,
    show(text, done = 0, total = 0) {
      el.hidden = false;
      if (label.textContent !== text) label.textContent = text;
      if (total > 0) bar.value = Math.min(done / total, 1);
      else bar.removeAttribute("value");
      percent.textContent = total > 0 ? `${Math.floor(bar.value * 100)}%` : "";
    },
    hide() {
      el.hidden = true;
    },
  };
}

/** A date-time for people, in their own time zone, as the shop's locale writes it. */
export function when(timestamp) {
  return dateTime(timestamp);
}

/** A date for people, without the time. */
export function day(timestamp) {
  return date(timestamp);
}

/** Fills the top bar's shop name and the contact line from the shop's settings. */
export function brand(shop) {
  for (const el of document.querySelectorAll(".shop-name")) el.textContent = shop.name;
  for (const el of document.querySelectorAll(".contact")) el.textContent = shop.contact;
  document.title = document.title.replace("Quarry", shop.name);
}

/** A table's column names, from the last row of its head; "" for a column
 *  whose header is only for screen readers or spans several columns. */
function columnNames(table) {
  const row = table.tHead?.rows[table.tHead.rows.length - 1];
  if (!row) return [];
  const names = [];
  for (const th of row.cells) {
    const shown = th.cloneNode(true);
    for (const hidden of shown.querySelectorAll(".visually-hidden")) hidden.remove();
    const name = th.colSpan === 1 ? shown.textContent.trim() : "";
    for (let i = 0; i < th.colSpan; i += 1) names.push(name);
  }
  return names;
}

/** Gives each cell of `table` its column's name (`data-label`) and marks the
 *  table `cards`, when it has a head of three columns or more. */
function labelTable(table) {
  const names = columnNames(table);
  if (names.length < 3) return;
  table.classList.add("cards");
  for (const section of [...table.tBodies, table.tFoot]) {
    for (const tr of section?.rows ?? []) {
      let column = 0;
      for (const cell of tr.cells) {
        const name = cell.colSpan === 1 ? names[column] ?? "" : "";
        if (name && cell.dataset.label !== name) cell.dataset.label = name;
        else if (!name && cell.hasAttribute("data-label")) cell.removeAttribute("data-label");
        column += cell.colSpan;
      }
    }
  }
}

/**
 * On a phone, tables fold into stacked cards (quarry.css, quote.css): one card
 * a row, each cell labelled with its column's name. This labels the tables
 * under `root`, now and whenever rows are drawn later.
 */
export function stackTables(root = document.body) {
  const label = () => {
    for (const table of root.matches("table") ? [root] : root.querySelectorAll("table")) labelTable(table);
  };
  label();
  // Labels are attributes: setting them does not wake the observer again.
  new MutationObserver(label).observe(root, { childList: true, subtree: true });
}
