// Quarry's message catalogues (assets/i18n-*.json), checked without a browser
// or a shop: English and German hold the same messages, each with the same
// placeholders and plural forms; every message the pages ask for
// (`t("key")`, `data-i18n="key"`) is in them; every message in them is asked
// for; and the static pages hold no words outside a translated element.
// Runs with the browser tests (scripts/e2e), or alone:
//   node --test tests/e2e/i18n.test.mjs
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ASSETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../assets");
const LANGUAGES = ["en", "de"];
/** Keys looked up by a name made at run time: unit names ("unit.t", with the
 *  server's name as a fallback), and whatever a page asks for as
 *  t(`prefix.${…}`) (such keys count as used; that they exist cannot be checked here). */
const DYNAMIC = ["unit."];

const catalogues = Object.fromEntries(LANGUAGES.map((lang) =>
  [lang, JSON.parse(readFileSync(path.join(ASSETS, `i18n-${lang}.json`), "utf8"))]));
const sources = Object.fromEntries(readdirSync(ASSETS)
  .filter((name) => /\.(js|html)$/.test(name))
  .map((name) => [name, readFileSync(path.join(ASSETS, name), "utf8")]));

/** The placeholders of a message, across its plural forms: ["count", "name"]. */
function placeholders(message) {
  const texts = typeof message === "string" ? [message] : Object.values(message);
  return [...new Set(texts.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();
}

/** The keys asked for in `source`: calls with a literal key and data-i18n attributes. */
function asked(source) {
  const keys = [];
  for (const m of source.matchAll(/(?<![\w.])(?:t|tx|has|said)\(\s*(["'])([\w-]+\.[\w.-]+)\1/g)) keys.push(m[2]);
  for (const m of source.matchAll(/\bdata-i18n(?:-[a-z-]+)?=["']([^"']+)["']/g)) keys.push(m[1]);
  for (const m of source.matchAll(/["']data-i18n(?:-[a-z-]+)?["']\s*:\s*["']([^"']+)["']/g)) keys.push(m[1]);
  return keys;
}

test("English and German hold the same messages, with the same placeholders and plural forms", () => {
  const [en, de] = LANGUAGES.map((lang) => catalogues[lang]);
  const missing = (from, to) => Object.keys(from).filter((key) => !(key in to));
  assert.deepEqual(missing(en, de), [], "in the English catalogue but not the German one");
  assert.deepEqual(missing(de, en), [], "in the German catalogue but not the English one");
  const problems = [];
  for (const [key, english] of Object.entries(en)) {
    const german = de[key];
    for (const [lang, message] of [["en", english], ["de", german]]) {
      if (typeof message === "string") {
        if (!message.trim()) problems.push(`${lang} ${key}: empty`);
      } else if (message && typeof message === "object") {
        if (typeof message.other !== "string") problems.push(`${lang} ${key}: a plural without its "other" form`);
        for (const [form, text] of Object.entries(message)) {
          if (!["zero", "one", "two", "few", "many", "other"].includes(form)) problems.push(`${lang} ${key}: no plural form ${form}`);
          if (typeof text !== "string" || !text.trim()) problems.push(`${lang} ${key}.${form}: empty`);
        }
      } else {
        problems.push(`${lang} ${key}: neither a message nor plural forms`);
      }
    }
    if (typeof english !== typeof german) problems.push(`${key}: a plural in one language, one message in the other`);
    if (placeholders(english).join() !== placeholders(german).join()) {
      problems.push(`${key}: placeholders en {${placeholders(english)}}, de {${placeholders(german)}}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("every message the pages ask for is in the catalogues", () => {
  const unknown = [];
  for (const [name, source] of Object.entries(sources)) {
    for (const key of asked(source)) {
      for (const lang of LANGUAGES) if (!(key in catalogues[lang])) unknown.push(`${name}: ${key} (not in ${lang})`);
    }
  }
  assert.deepEqual([...new Set(unknown)], []);
});

test("every message in the catalogues is asked for somewhere", () => {
  const everything = Object.values(sources).join("\n");
  const prefixes = [...DYNAMIC, ...[...everything.matchAll(/(?<![\w.])(?:t|tx|has|said)\(\s*`([\w-]+\.[\w.-]*)\$\{/g)].map((m) => m[1])];
  const unused = Object.keys(catalogues.en).filter((key) =>
    !prefixes.some((prefix) => key.startsWith(prefix)) && !everything.includes(`"${key}"`) && !everything.includes(`'${key}'`));
  assert.deepEqual(unused, [], "messages no page uses");
});

test("the static pages hold no words outside a translated element", () => {
  const untranslated = [];
  for (const [name, source] of Object.entries(sources)) {
    if (!name.endsWith(".html")) continue;
    const body = source.replace(/<script[\s\S]*?<\/script>/g, "").replace(/<!--[\s\S]*?-->/g, "").replace(/<!doctype[^>]*>/i, "");
    // Each open element: whether it (or one around it) is translated, or is filled in by script.
    const stack = [];
    const inside = () => stack.some((el) => el.covered);
    for (const m of body.matchAll(/<(\/?)([a-zA-Z0-9]+)([^>]*?)(\/?)>|([^<]+)/g)) {
      const [, closing, tag, attributes = "", selfClosing, text] = m;
      if (text !== undefined) {
        if (/\p{L}/u.test(text) && !inside()) untranslated.push(`${name}: “${text.trim().replace(/\s+/g, " ")}”`);
        continue;
      }
      if (closing) {
        const at = stack.map((el) => el.tag).lastIndexOf(tag.toLowerCase());
        if (at >= 0) stack.length = at;
        continue;
      }
      for (const [, attribute, value] of attributes.matchAll(/\s(placeholder|title|aria-label)="([^"]*)"/g)) {
        if (/\p{L}/u.test(value) && !attributes.includes(`data-i18n-${attribute}=`)) {
          untranslated.push(`${name}: ${attribute}="${value}" on <${tag}>`);
        }
      }
      const element = {
        tag: tag.toLowerCase(),
        // The shop's name is filled in from its settings.
        covered: /\sdata-i18n=/.test(attributes) || /\sclass="[^"]*\bshop-name\b/.test(attributes),
      };
      const empty = ["meta", "link", "input", "br", "img", "hr"].includes(element.tag);
      if (!selfClosing && !empty) stack.push(element);
    }
  }
  assert.deepEqual(untranslated, []);
});
