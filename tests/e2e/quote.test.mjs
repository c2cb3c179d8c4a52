// The product page's calculator and asking for a quote, as a customer does.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PHONE, STAFF, openPage, screenshot, signIn, waitForText } from "./support.mjs";

/** Opens SAND-04 (38.00 EUR/t, 1600 kg/m3) and asks the calculator for 3 m3. */
async function calculateSand(page) {
  await page.goto("/p/SAND-04");
  await waitForText(page.locator("h1#name"), "Washed sand 0-4 mm");
  await page.locator("#calc-unit").selectOption("m3");
  await page.locator("#calc-quantity").fill("3");
}

test("the calculator converts 3 m3 of sand to 4.8 t and prices it with tax", async (t) => {
  const page = await openPage(t);
  await calculateSand(page);
  await waitForText(page.locator("#calc-converted"), "4.8 t");
  // 38.00/t × 4.8 t = 182.40 net, plus 20% tax.
  await waitForText(page.locator("#calc-net"), "182.40");
  await waitForText(page.locator("#calc-total"), "218.88");
  await waitForText(page.locator("#calc-explanation"), "3 m3 × 1600 kg/m3 = 4800 kg = 4.8 t");
  // Sand has a density, so the trade's units of mass and volume are offered,
  // its bags too; not grams, ounces, millilitres or gallons of sand.
  const offered = await page.locator("#calc-unit option").evaluateAll((options) => options.map((o) => o.value));
  for (const unit of ["t", "kg", "m3", "yd3", "ft3"]) {
    assert.ok(offered.includes(unit), `the calculator does not offer ${unit}: ${offered}`);
  }
  for (const unit of ["g", "oz", "ml", "l", "gal", "lb"]) {
    assert.ok(!offered.includes(unit), `the calculator offers ${unit} of sand: ${offered}`);
  }
  assert.ok(!offered.includes("m"), `sand is not sold by the metre: ${offered}`);
  await screenshot(page, "product");
  // A unit left out of the list is still read when typed: 800 l = 1.28 t.
  await page.locator("#calc-quantity").fill("800 l");
  await waitForText(page.locator("#calc-net"), "48.64");
  assert.equal(await page.locator("#calc-unit").inputValue(), "l");
});

test("a quote asked for from the product page is saved and shown printable", async (t) => {
  const page = await openPage(t);
  await calculateSand(page);
  await waitForText(page.locator("#calc-total"), "218.88");
  await page.locator("#add-to-quote").click();
  await waitForText(page.locator("#basket-count"), "1");

  await page.goto("/quote");
  await waitForText(page.locator("#lines tr.line"), "Washed sand");
  assert.equal(await page.locator("#lines tr.line").count(), 1);
  const form = page.locator("#request");
  await form.locator("[name=name]").fill("Erin Builder");
  await form.locator("[name=email]").fill("erin@example.com");
  await form.locator("[name=note]").fill("Delivery to site, please.");
  await screenshot(page, "quote-list");
  await form.locator("[type=submit]").click();

  await page.waitForURL(/\/q\/[^/]+$/);
  // The page is put in the shop's words and formats once the shop's settings are in.
  await waitForText(page.locator(".quote .meta"), "Open — valid until");
  assert.match(await page.locator("h2").first().textContent(), /^\s*Quote Q-\d{4}-\d{4}/);
  const text = await page.locator("body").innerText();
  // The customer reads the status in words, and amounts as the shop writes them.
  assert.match(text, /Open — valid until \S*\d/);
  assert.doesNotMatch(text, /Status: open/);
  assert.match(text, /€218\.88/);
  assert.doesNotMatch(text, /\d EUR\b/);
  await screenshot(page, "quote-page");
});

test("on a phone the product page shows the calculator", async (t) => {
  const page = await openPage(t, { viewport: PHONE });
  await calculateSand(page);
  await waitForText(page.locator("#calc-total"), "218.88");
  await screenshot(page, "product");
});

test("in a browser signed in to the back office, the quote list still prices and requests a quote", async (t) => {
  // The session cookie goes with the storefront's changes too, so they must
  // carry its CSRF token although the storefront never signed in itself.
  const page = await openPage(t);
  await signIn(page, STAFF);
  await calculateSand(page);
  await waitForText(page.locator("#calc-total"), "218.88");
  await page.locator("#add-to-quote").click();
  await waitForText(page.locator("#basket-count"), "1");

  await page.goto("/quote");
  await waitForText(page.locator("#sum-gross"), "218.88");
  const form = page.locator("#request");
  await form.locator("[name=name]").fill("Walk-in Customer");
  await form.locator("[name=phone]").fill("+44 20 7946 0001");
  await form.locator("[type=submit]").click();
  await page.waitForURL(/\/q\/[^/]+$/);
  assert.match(await page.locator("h2").first().textContent(), /^\s*Quote Q-\d{4}-\d{4}/);
});

test("adding a product already in the quote list adds to its quantity, and another unit changes it, saying so", async (t) => {
  const page = await openPage(t);
  await page.goto("/p/SAND-04");
  await waitForText(page.locator("h1#name"), "Washed sand 0-4 mm");
  const message = page.locator("#calc-message");
  const add = async (quantity, unit) => {
    await page.locator("#calc-unit").selectOption(unit);
    await page.locator("#calc-quantity").fill(quantity);
    await page.locator("#add-to-quote").click();
  };
  const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem("quarry.quote-list") ?? "[]")
    .map((l) => `${l.sku} ${l.quantity} ${l.unit}`));

  await add("2", "t");
  await waitForText(message, "Added 2 t to your quote list.");
  await add("0.1", "t");
  await waitForText(message, "Added 0.1 t: your quote list now has 2.1 t of this.");
  assert.deepEqual(await stored(), ["SAND-04 2.1 t"]);
  await waitForText(page.locator("#basket-count"), "1");
  await add("3", "m3");
  await waitForText(message, "Your quote list had 2.1 t of this; changed to 3 m3.");
  assert.deepEqual(await stored(), ["SAND-04 3 m3"]);

  // Sums are exact, however many decimals.
  const sums = await page.evaluate(async () => {
    const { addDecimals } = await import("/assets/quote-basket.js");
    return [addDecimals("0.1", "0.2"), addDecimals("2", "0.750"), addDecimals("999.99", "0.01"), addDecimals("1e3", "1")];
  });
  assert.deepEqual(sums, ["0.3", "2.75", "1000", null]);

  await page.goto("/quote");
  await waitForText(page.locator("#lines tr.line"), "Washed sand");
  assert.equal(await page.locator("#lines tr.line").count(), 1);
  assert.equal(await page.locator("#lines tr.line input[name=quantity]").inputValue(), "3");
});

test("the product page speaks in unit names, not codes, and the calculator's How shows only what was worked out", async (t) => {
  const page = await openPage(t);
  await page.goto("/p/SAND-04");
  await waitForText(page.locator("h1#name"), "Washed sand 0-4 mm");
  const facts = await page.locator("#facts").evaluate((dl) =>
    Object.fromEntries([...dl.querySelectorAll("dt")].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  assert.equal(facts["Sold by"], "tonnes (t)");
  assert.ok(!("Tax" in facts), `the tax class code is shown: ${facts.Tax}`);

  await page.locator("#calc-unit").selectOption("t");
  await page.locator("#calc-quantity").fill("1");
  await waitForText(page.locator("#calc-total"), "45.60");
  assert.ok(await page.locator("#calc-explanation").isHidden(), "How repeats the quantity: 1 t");
  assert.ok(await page.locator("dt", { hasText: "How" }).isHidden());
  const tax = await page.locator("#calc-tax").textContent();
  assert.match(tax, /\(20 %\)$/);
  assert.doesNotMatch(tax, /standard/);

  await page.locator("#calc-unit").selectOption("m3");
  await page.locator("#calc-quantity").fill("3");
  await waitForText(page.locator("#calc-explanation"), "3 m3 × 1600 kg/m3");
  assert.ok(await page.locator("dt", { hasText: "How" }).isVisible());
});
