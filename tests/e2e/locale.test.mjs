// The shop's language and number format: a second demo shop with
// QUARRY_SHOP_LOCALE=de-DE (started here, on a port of its own) speaks German
// on its storefront, writes prices as "38,00 €" and reads "2,5 t" typed in the
// calculator; its back office reads typed numbers the German way. On the
// English demo the calculator reads a unit typed with the number ("3 m3"), and
// the back office's language picker switches it to German.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { OWNER, STAFF, apiAs, openPage, screenshot, signIn, startDemo, waitForText } from "./support.mjs";

const ASSETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../assets");
const catalogue = (lang) => JSON.parse(readFileSync(path.join(ASSETS, `i18n-${lang}.json`), "utf8"));
const en = catalogue("en");
const de = catalogue("de");

let german;
before(async () => {
  german = await startDemo("demo-de-DE", { QUARRY_SHOP_LOCALE: "de-DE" });
});
after(() => german?.stop());

/**
 * The English words of the catalogue (messages of more than one word, under
 * `prefixes`, that German says otherwise) still on the page, leaving out what
 * is the shop's own data (product names and descriptions, facets, tables' rows).
 */
async function englishLeft(page, prefixes) {
  const shown = await page.evaluate(() => {
    const copy = document.body.cloneNode(true);
    const data = ".hit .desc, .hit-name, .hit .meta, #facets ul, #description, #name, #category, #facts dd, .shop-name, .contact, tbody, #feed, .explain";
    for (const el of copy.querySelectorAll(`${data}, script, [hidden]`)) el.remove();
    return copy.textContent.replace(/\s+/g, " ");
  });
  return Object.entries(en)
    .filter(([key, text]) => prefixes.some((p) => key.startsWith(p)) && typeof text === "string" && !/\{/.test(text) && text.includes(" ") && text !== de[key])
    .filter(([, text]) => shown.includes(text))
    .map(([key, text]) => `${key}: ${text}`);
}

test("the German storefront speaks German and writes prices as the shop's locale does", async (t) => {
  const page = await openPage(t, { base: german.url });
  await page.goto("/");
  await page.locator("html[lang=de-DE][data-language=de]").waitFor({ state: "attached" });
  assert.equal(await page.locator("#q").getAttribute("placeholder"), de["store.searchPlaceholder"]);
  await waitForText(page.locator("#basket-link"), "Angebotsliste (0)");
  await page.locator("#q").pressSequentially("washed sand", { delay: 30 });
  const hit = page.locator('#results li.hit[data-sku="SAND-04"]');
  await waitForText(hit.locator(".price"), "38,00 € / t");
  assert.match(await hit.locator(".price").innerText(), /38,00\s€ \/ t/);
  await waitForText(hit.locator(".badge"), "Auf Lager");
  await waitForText(page.locator("#status"), /\d+ Produkte?\b/);
  assert.deepEqual(await englishLeft(page, ["store.", "nav.", "sort.", "availability."]), [], "English words on the German storefront");
  await screenshot(page, "storefront-de");
});

test("the German calculator reads \"2,5 t\" and prices it, and the quote made from it is German too", async (t) => {
  const page = await openPage(t, { base: german.url });
  await page.goto("/p/SAND-04");
  await waitForText(page.locator("h1#name"), "Washed sand 0-4 mm");
  const facts = await page.locator("#facts").evaluate((dl) =>
    Object.fromEntries([...dl.querySelectorAll("dt")].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  assert.equal(facts["Verkauft in"], "Tonnen (t)");
  assert.equal(facts.Dichte, "1600 kg/m³");

  const quantity = page.locator("#calc-quantity");
  const unit = page.locator("#calc-unit");
  const message = page.locator("#calc-message");
  // 2.5 t × 38.00 = 95.00 net, 114.00 with 20 % tax.
  await quantity.fill("2,5 t");
  await waitForText(page.locator("#calc-net"), "95,00 €");
  await waitForText(page.locator("#calc-total"), "114,00 €");
  assert.match(await page.locator("#calc-total").innerText(), /^114,00\s€$/);
  assert.equal(await page.locator("#calc-converted").textContent(), "2,5 t");
  assert.equal(await unit.inputValue(), "t");
  assert.match(await page.locator("#calc-tax").textContent(), /^19,00\s€ \(20 %\)$/);

  // A dot is not this shop's decimal mark: said in German, nothing priced.
  await quantity.fill("2.5");
  await waitForText(message, "Komma");
  assert.equal(await quantity.getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#calc-total").textContent(), "—");

  // A unit typed with the number is picked in the list: a code, or a name.
  await quantity.fill("3 m3");
  await waitForText(page.locator("#calc-converted"), "4,8 t");
  assert.equal(await unit.inputValue(), "m3");
  await waitForText(page.locator("#calc-total"), "218,88 €");
  await waitForText(page.locator("#calc-explanation"), "3 m3 × 1600 kg/m3 = 4800 kg = 4,8 t");
  await quantity.fill("2,5 Tonnen");
  await waitForText(page.locator("#calc-total"), "114,00 €");
  assert.equal(await unit.inputValue(), "t");
  await page.locator("#add-to-quote").click();
  await waitForText(message, "2,5 t zur Angebotsliste hinzugefügt.");
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("quarry.quote-list")).map((l) => `${l.sku} ${l.quantity} ${l.unit}`));
  assert.deepEqual(stored, ["SAND-04 2.5 t"], "the list keeps quantities as the API writes them");
  await screenshot(page, "product-de");

  // The quote list shows and reads the quantity the German way.
  await page.goto("/quote");
  const line = page.locator("#lines tr.line");
  await waitForText(page.locator("#sum-gross"), "114,00 €");
  assert.equal(await line.locator("input[name=quantity]").inputValue(), "2,5");
  assert.equal(await page.locator("#lines thead th").first().textContent(), "Produkt");
  await line.locator("input[name=quantity]").fill("3,5");
  // 3.5 t × 38.00 = 133.00 net, 159.60 gross.
  await waitForText(page.locator("#sum-gross"), "159,60 €");
  const form = page.locator("#request");
  await form.locator("[name=name]").fill("Erika Bauherrin");
  await form.locator("[name=email]").fill("erika@example.com");
  await form.locator("[type=submit]").click();

  await page.waitForURL(/\/q\/[^/]+$/);
  await waitForText(page.locator(".quote .meta"), "Offen — gültig bis");
  assert.match(await page.locator(".quote .meta h2").textContent(), /^Angebot Q-\d{4}-\d{4}$/);
  assert.equal(await page.evaluate(() => document.documentElement.lang), "de-DE");
  const text = await page.locator("body").innerText();
  assert.match(text, /gültig bis \d{2}\.\d{2}\.\d{4}/);
  assert.match(text, /159,60\s€/);
  assert.match(text, /3,5 t/);
  assert.doesNotMatch(text, /\d EUR\b|\d{4}-\d{2}-\d{2}|Valid until|Quantity|Print this quote/);
  await screenshot(page, "quote-page-de");
});

test("the calculator reads a unit typed with the number: \"3 m3\", \"2 tonnes\"", async (t) => {
  const page = await openPage(t);
  await page.goto("/p/SAND-04");
  await waitForText(page.locator("h1#name"), "Washed sand 0-4 mm");
  const quantity = page.locator("#calc-quantity");
  const unit = page.locator("#calc-unit");
  const message = page.locator("#calc-message");
  assert.equal(await unit.inputValue(), "t");

  await quantity.fill("3 m3");
  await waitForText(page.locator("#calc-converted"), "4.8 t");
  assert.equal(await unit.inputValue(), "m3", "the unit typed was not picked");
  await waitForText(page.locator("#calc-total"), "218.88");
  assert.equal(await message.textContent(), "");

  // 2 t × 38.00 = 76.00 net, 91.20 with tax.
  await quantity.fill("2 tonnes");
  await waitForText(page.locator("#calc-total"), "91.20");
  assert.equal(await unit.inputValue(), "t");
  await quantity.fill("1.5 bulk bags");
  await waitForText(page.locator("#calc-converted"), "1.275 t");
  assert.equal(await unit.inputValue(), "bulk bag");

  // en-GB writes decimals with a dot: a comma is refused, saying so.
  await quantity.fill("2,5 t");
  await waitForText(message, "decimals are written with a dot here");
  assert.equal(await quantity.getAttribute("aria-invalid"), "true");
  // A unit the product is not sold in.
  await quantity.fill("3 m");
  await waitForText(message, "This product is not sold in “m”");

  // Choosing from the list wins over a unit typed in the box.
  await quantity.fill("3 m3");
  await waitForText(page.locator("#calc-converted"), "4.8 t");
  await unit.selectOption("t");
  assert.equal(await quantity.inputValue(), "3");
  await waitForText(page.locator("#calc-converted"), /^3 t$/);
});

test("the back office's language picker switches it to German and back, kept in the browser", async (t) => {
  const page = await openPage(t);
  await signIn(page, OWNER);
  const picker = page.locator("#language");
  await waitForText(page.locator("main h1"), "Dashboard");
  assert.equal(await picker.inputValue(), "en");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en-GB");

  await Promise.all([page.waitForEvent("load"), picker.selectOption("de")]);
  await waitForText(page.locator("main h1"), "Übersicht");
  await page.locator("html[lang=de][data-language=de]").waitFor({ state: "attached" });
  await waitForText(page.locator("#nav a"), "Produkte");
  assert.equal(await page.locator("#logout").textContent(), "Abmelden");
  assert.equal(await page.evaluate(() => localStorage.getItem("quarry.language")), "de");
  assert.equal(await picker.inputValue(), "de");
  await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
  assert.deepEqual(await englishLeft(page, ["admin.", "nav.", "dashboard.", "pager.", "live."]), [], "English words on the German dashboard");
  await screenshot(page, "admin-dashboard-de");

  // The choice holds on the other pages and after signing in again.
  await page.goto("/admin/stock");
  await waitForText(page.locator("main h1"), "Bestand");
  await waitForText(page.locator("#levels thead"), "Vorhanden");
  assert.deepEqual(await englishLeft(page, ["admin.", "nav.", "stock.", "pager."]), [], "English words on the German stock page");
  await page.locator("#logout").click();
  await page.waitForURL((url) => url.pathname === "/admin/login");
  await waitForText(page.locator("#login [type=submit]"), "Anmelden");

  await signIn(page, OWNER);
  await waitForText(page.locator("main h1"), "Übersicht");
  await Promise.all([page.waitForEvent("load"), picker.selectOption("en")]);
  await waitForText(page.locator("main h1"), "Dashboard");
  await waitForText(page.locator("#nav a"), "Products");
});

test("the German shop's back office speaks German by default and reads typed numbers the German way", async (t) => {
  const page = await openPage(t, { base: german.url });
  await page.goto("/admin/login");
  await waitForText(page.locator("#login [type=submit]"), "Anmelden");
  await signIn(page, STAFF, "/admin/stock");
  await waitForText(page.locator("main h1"), "Bestand");
  assert.equal(await page.locator("#language").inputValue(), "de");

  // A line booked with "2,5" is booked as 2.5; "2.5" is refused at its box.
  await page.locator("#movement select[name=location] option[value=YARD]").waitFor({ state: "attached" });
  await page.locator("#movement select[name=kind]").selectOption("receive");
  await page.locator("#movement select[name=location]").selectOption("YARD");
  await page.locator("#scan").fill("SAND-04");
  await page.locator("#scan").press("Enter");
  const line = page.locator('#movement-lines tbody tr[data-sku="SAND-04"]');
  await line.waitFor();
  const quantity = line.locator('[data-field="quantity"]');
  const api = await apiAs(t, STAFF, { base: german.url });
  const before = (await api("GET", "/api/v1/movements?limit=1")).items[0]?.id;
  await quantity.fill("2.5");
  await page.locator("#book").click();
  await waitForText(line.locator(".field-error"), "Komma");
  assert.equal(await quantity.getAttribute("aria-invalid"), "true");
  assert.equal((await api("GET", "/api/v1/movements?limit=1")).items[0]?.id, before, "a quantity the shop cannot read was booked");
  await quantity.fill("2,5");
  await page.locator("#book").click();
  await waitForText(page.locator("#movement-message"), /^Bewegung #\d+ gebucht/);
  const [booked] = (await api("GET", "/api/v1/movements?limit=1")).items;
  assert.notEqual(booked.id, before);
  assert.deepEqual(booked.lines.map((l) => `${l.sku} ${l.quantity} ${l.unit}`), ["SAND-04 2.5 t"]);

  // The product form shows "38,00" and reads "38,50", refusing "38.50".
  await page.goto("/admin/product?sku=SAND-04");
  const form = page.locator("#product-form");
  const price = form.locator("[name=price]");
  assert.equal(await price.inputValue(), "38,00");
  await price.fill("38.50");
  await form.locator("[type=submit]").click();
  await waitForText(form.locator(".field-error"), "Komma");
  assert.equal((await api("GET", "/api/v1/products/SAND-04")).price, "38.00", "a price the shop cannot read was saved");
  await price.fill("38,50");
  await form.locator("[type=submit]").click();
  // Not "Wird gespeichert…" (the text matches without case): saved.
  await waitForText(page.locator("#product-message"), /^Gespeichert um /);
  assert.equal((await api("GET", "/api/v1/products/SAND-04")).price, "38.50");
  await screenshot(page, "admin-product-de");
  await page.reload();
  await price.waitFor();
  assert.equal(await price.inputValue(), "38,50");
});
