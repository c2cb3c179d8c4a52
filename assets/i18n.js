// The UI's language and the shop's way of writing numbers and dates.
//
// Words come from message catalogues, one per language (i18n-en.json,
// i18n-de.json): `t("store.count", { count: 3 })`. A message is a string
// with `{name}` placeholders, or an object of plural forms by the language's
// plural rules ({ "one": …, "other": … }, chosen by `count`). Static HTML
// names its messages in attributes: `data-i18n="store.more"` for the text (child
// elements marked `data-slot="name"` stand for `{name}` in it), and
// `data-i18n-placeholder`, `data-i18n-title`, `data-i18n-aria-label` for
// those attributes.
//
// Numbers and dates are written as the shop's locale writes them (`[shop]
// locale`, from /api/v1/shop), everywhere; what people type in a number box is
// read the same way, by `readNumber`, into the API's form (a decimal dot).
// The storefront speaks the shop's language; the back office the language its
// user chose (`chooseLanguage`, kept in this browser), by default the shop's.

/** The languages there is a complete catalogue for, each named in itself. */
export const LANGUAGES = { en: "English", de: "Deutsch" };

const CHOICE = "quarry.language";

let messages = {};
let language = "en";
let locale = "en-GB";
let separator = ".";
let plurals = new Intl.PluralRules("en");
const formats = new Map();

/** The language of the words on the page: "en" or "de". */
export function currentLanguage() {
  return language;
}

/** The shop's locale ("de-DE"): how numbers and dates are written. */
export function currentLocale() {
  return locale;
}

/** The language this browser's back-office user chose, or null. */
export function chosenLanguage() {
  try {
    const chosen = localStorage.getItem(CHOICE);
    return chosen && chosen in LANGUAGES ? chosen : null;
  } catch {
    return null;
  }
}

/** Keeps the back office's language for this browser (null: the shop's). */
export function chooseLanguage(choice) {
  try {
    if (choice && choice in LANGUAGES) localStorage.setItem(CHOICE, choice);
    else localStorage.removeItem(CHOICE);
  } catch {
    // No storage (private mode): the choice lasts until the page is left.
  }
}

async function catalogue(lang) {
  const response = await fetch(`/assets/i18n-${lang}.json`, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`the ${lang} catalogue answered ${response.status}`);
  return response.json();
}

/**
 * Loads the words and the number format for this page and translates its
 * static text. `shop` is /api/v1/shop's answer (or null when it could not be
 * had: English, en-GB); `scope` "store" follows the shop's language, "admin"
 * the user's choice. Marks `<html>` with `lang` and `data-language` when done.
 */
export async function localize(shop, { scope = "store" } = {}) {
  const shopLanguage = shop?.language in LANGUAGES ? shop.language : "en";
  language = (scope === "admin" ? chosenLanguage() : null) ?? shopLanguage;
  try {
    locale = Intl.getCanonicalLocales(shop?.locale ?? "en-GB")[0];
  } catch {
    locale = "en-GB";
  }
  separator = shop?.decimal_separator === "," || shop?.decimal_separator === "."
    ? shop.decimal_separator
    : (new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".");
  formats.clear();
  plurals = new Intl.PluralRules(language);
  try {
    messages = await catalogue(language);
  } catch (error) {
    console.warn("quarry: the message catalogue could not be loaded", error);
    language = "en";
    plurals = new Intl.PluralRules("en");
    messages = await catalogue("en").catch(() => ({}));
  }
  const root = document.documentElement;
  // The words' language; with the region when the locale speaks it too.
  root.lang = locale.split("-")[0] === language ? locale : language;
  translate(document);
  root.dataset.language = language;
  return language;
}

/** Whether the catalogue has `key` (for words with a fallback from the server). */
export function has(key) {
  return Object.hasOwn(messages, key);
}

function show(value) {
  return typeof value === "number" ? number(value) : String(value ?? "");
}

function template(key, params) {
  let text = messages[key];
  if (text === undefined) {
    console.warn(`quarry: no message ${key} in the ${language} catalogue`);
    return key;
  }
  if (typeof text === "object" && text !== null) {
    const count = Number(params.count);
    text = text[Number.isFinite(count) ? plurals.select(count) : "other"] ?? text.other ?? "";
  }
  return String(text);
}

/** The message `key` in the page's language, its `{placeholders}` filled from `params`. */
export function t(key, params = {}) {
  return template(key, params).replace(/\{(\w+)\}/g, (whole, name) => (name in params ? show(params[name]) : whole));
}

/**
 * Like `t`, for a message with elements in it: answers a list of strings and
 * the nodes given for its placeholders, for `h(…)` or `append(…)`.
 */
export function tx(key, params = {}) {
  const parts = [];
  for (const [i, piece] of template(key, params).split(/\{(\w+)\}/).entries()) {
    if (i % 2 === 0) {
      if (piece) parts.push(piece);
    } else if (piece in params) {
      const value = params[piece];
      parts.push(value instanceof Node ? value : show(value));
    } else {
      parts.push(`{${piece}}`);
    }
  }
  return parts;
}

const ATTRIBUTES = ["placeholder", "title", "aria-label"];

/** Translates the static text under `root`: `data-i18n` and `data-i18n-{attribute}`. */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    const slots = Object.fromEntries([...el.querySelectorAll(":scope > [data-slot]")].map((slot) => [slot.dataset.slot, slot]));
    const params = {};
    for (const [name, slot] of Object.entries(slots)) params[name] = slot;
    el.replaceChildren(...tx(el.dataset.i18n, params));
  }
  for (const name of ATTRIBUTES) {
    for (const el of root.querySelectorAll(`[data-i18n-${name}]`)) el.setAttribute(name, t(el.getAttribute(`data-i18n-${name}`)));
  }
}

// ---------------------------------------------------------------------------
// Numbers, money and dates, written the shop's way.

function formatter(kind, options) {
  const key = `${kind}:${JSON.stringify(options)}`;
  if (!formats.has(key)) {
    formats.set(key, kind === "date" ? new Intl.DateTimeFormat(locale, options) : new Intl.NumberFormat(locale, options));
  }
  return formats.get(key);
}

const DECIMAL = /^([-+]?)(\d+)(?:\.(\d+))?$/;

/** A number for people: `number(12345.5)` is "12.345,5" in de-DE. Thousands
 *  are grouped from five digits on ("1600 kg", "3000 rows", "12,500 kg"). */
export function number(value, options = {}) {
  return formatter("number", { maximumFractionDigits: 20, useGrouping: "min2", ...options }).format(value);
}

/**
 * An API decimal ("4.8", "38.00") as the locale writes it ("4,8", "38,00"),
 * keeping its digits exactly; thousands grouped from five digits on, unless
 * `group` is false.
 * Anything else is answered as it is ("—" for nothing).
 */
export function decimal(value, { group = true } = {}) {
  if (value === null || value === undefined || value === "") return "—";
  const text = String(value).trim();
  const parts = DECIMAL.exec(text);
  if (!parts) return text;
  const places = Math.min((parts[3] ?? "").length, 100);
  // A string is formatted exactly, however many digits it has.
  return formatter("number", { minimumFractionDigits: places, maximumFractionDigits: places, useGrouping: group ? "min2" : false }).format(text);
}

/** `decimal` with its unit: "4,8 t". */
export function quantity(value, unit) {
  return unit ? `${decimal(value)} ${unit}` : decimal(value);
}

/** An API decimal as a number box shows it to be edited: "2,5", never grouped. */
export function toInput(value) {
  if (value === null || value === undefined) return "";
  const text = String(value).trim();
  return DECIMAL.test(text) ? text.replace(".", separator) : text;
}

/** The decimals in a text from the server ("3 m3 × 1.6 t/m3 = 4.8 t") with the locale's separator. */
export function localNumbers(text) {
  if (!text || separator === ".") return text ?? "";
  return String(text).replace(/(\d)\.(\d)/g, `$1${separator}$2`);
}

/** A rate in per cent: "20 %". */
export function percent(rate) {
  return t("format.percent", { rate: decimal(rate) });
}

/** An amount of money (an API decimal) in `currency`, keeping its digits: "38,00 €". */
export function money(amount, currency) {
  if (amount === null || amount === undefined || amount === "") return "—";
  const text = String(amount).trim();
  try {
    const digits = Math.min((text.split(".")[1] ?? "").length, 100);
    return formatter("number", {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(DECIMAL.test(text) ? text : Number(text));
  } catch {
    return `${decimal(text)} ${currency}`;
  }
}

/** A date alone ("2026-12-19" or a timestamp) for people: "19 Dec 2026", "19.12.2026". */
export function date(value) {
  if (!value) return "—";
  // A calendar date names a day, not a moment: it is not moved to a time zone.
  const plain = /^\d{4}-\d{2}-\d{2}$/.test(String(value));
  const moment = new Date(plain ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(moment.getTime())) return String(value);
  return formatter("date", plain ? { dateStyle: "medium", timeZone: "UTC" } : { dateStyle: "medium" }).format(moment);
}

/** A moment for people, in their own time zone: "19 Dec 2026, 14:05". */
export function dateTime(value) {
  if (!value) return "—";
  const moment = new Date(value);
  if (Number.isNaN(moment.getTime())) return String(value);
  return formatter("date", { dateStyle: "medium", timeStyle: "short" }).format(moment);
}

/** The time of day for people: "14:05:09". */
export function time(value = new Date()) {
  return formatter("date", { timeStyle: "medium" }).format(new Date(value));
}

// ---------------------------------------------------------------------------
// Reading numbers as people type them.

/**
 * Reads a number typed the shop's way into the API's form: "2,5" → "2.5" in
 * de-DE, "2.5" → "2.5" in en-GB. The same rule as the server's: thousands may
 * be grouped with spaces or apostrophes, or with the other mark when the
 * number also has its decimal mark ("1.234,50", "1,234.50"); a lone dot in a
 * comma locale ("1.000") is refused as ambiguous rather than guessed. Answers
 * `{ value }`, or `{ error }`, a message in the page's language.
 */
export function readNumber(text) {
  const typed = String(text ?? "").trim();
  const compact = typed.replace(/[ \u00a0\u202f']/g, "");
  const example = `2${separator}5`;
  const refuse = (key = "number.invalid") => ({ error: t(key, { text: typed, example }) });
  // Said when the other mark may have been meant as the decimal one.
  const otherMark = separator === "," ? "number.useComma" : "number.useDot";
  if (!compact) return refuse("number.empty");
  const other = separator === "," ? "." : ",";
  let normal = compact;
  if (compact.includes(other)) {
    // A comma locale's lone dot ("1.000", "1.5") is not guessed at.
    if (separator === "," && !compact.includes(",")) return refuse(otherMark);
    const [whole] = compact.split(separator);
    const groups = whole.replace(/^[-+]/, "").split(other);
    const grouped = groups.length >= 2 && groups[0].length >= 1 && groups[0].length <= 3 && groups.slice(1).every((g) => g.length === 3);
    if (!grouped) return refuse(separator === "." ? otherMark : "number.invalid");
    normal = compact.split(other).join("");
  }
  normal = normal.replace(separator, ".");
  const parts = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(normal);
  if (!parts || (!parts[2] && !parts[3])) return refuse();
  return { value: `${parts[1] === "-" ? "-" : ""}${parts[2] || "0"}${parts[3] ? `.${parts[3]}` : ""}` };
}

/**
 * Splits what was typed in a quantity box into its number and the unit
 * written after it: "2,5 t" → { number: "2,5", unit: "t" }, "3" → { number: "3", unit: "" }.
 */
export function splitQuantity(text) {
  const match = /^\s*([-+]?[\d.,][\d.,'\u00a0\u202f ]*?)\s*([^\d\s.,'].*?)?\s*$/u.exec(String(text ?? ""));
  if (!match) return { number: String(text ?? "").trim(), unit: "" };
  return { number: match[1], unit: match[2] ?? "" };
}

/** A unit's name for people, in the page's language: "tonnes (t)"; `label`
 *  (the server's name) or the code itself for a unit the catalogue lacks. */
export function unitName(code, label) {
  const key = `unit.${code}`;
  return has(key) ? t(key) : label ?? code;
}
