// The public storefront: as-you-type search and a phone-sized layout.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PHONE, openPage, screenshot } from "./support.mjs";

test("typing a misspelt name lists the product without pressing Enter", async (t) => {
  const page = await openPage(t);
  await page.goto("/");
  await page.locator("#q").pressSequentially("washd sand", { delay: 40 });
  const hit = page.locator('#results li.hit:has(a.hit-name[href$="/p/SAND-04"])');
  await hit.waitFor();
  assert.match(await hit.locator("a.hit-name").textContent(), /Washed sand 0-4 mm/);
  await page.locator('#results .badge[data-sku="SAND-04"]').waitFor();
  assert.ok(await page.locator("header .shop-name").textContent(), "the header names the shop");
  await screenshot(page, "storefront");
});

test("on a phone the storefront with results never scrolls sideways", async (t) => {
  const page = await openPage(t, { viewport: PHONE });
  await page.goto("/");
  await page.locator("#q").pressSequentially("sand", { delay: 40 });
  await page.locator("#results li.hit").first().waitFor();
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the page is ${width} px wide on a ${PHONE.width} px screen`);
  await screenshot(page, "storefront");
});

test("a query with a word no product has shows what matches the rest, and says so", async (t) => {
  const page = await openPage(t);
  await page.goto("/");
  await page.locator("#q").pressSequentially("washed sand organiser ", { delay: 30 });
  const note = page.locator("#relaxed:not([hidden])");
  await note.waitFor();
  assert.match(await note.textContent(), /No product matches every word; showing products that match washed sand \(left out: organiser\)/);
  await page.locator('#results li.hit:has(a.hit-name[href$="/p/SAND-04"])').waitFor();
  // A word nothing is close to but a catalogue word: the answer offers it.
  await page.locator("#q").fill("");
  await page.locator("#q").pressSequentially("snad ", { delay: 30 });
  const offer = page.locator("#relaxed:not([hidden]) a");
  await offer.waitFor();
  assert.equal(await offer.textContent(), "sand");
  await offer.click();
  await page.locator("#results li.hit").first().waitFor();
  assert.equal(await page.locator("#q").inputValue(), "sand");
});
