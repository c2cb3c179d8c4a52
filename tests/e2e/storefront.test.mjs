// The public storefront: as-you-type search and a phone-sized layout.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PHONE, openPage, screenshot, waitForText } from "./support.mjs";

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

test("a search that fails clears the results it replaces and says what happened in plain words", async (t) => {
  const page = await openPage(t);
  await page.goto("/");
  await page.locator("#q").pressSequentially("sand", { delay: 30 });
  const hits = page.locator("#results li.hit");
  await hits.first().waitFor();
  const status = page.locator("#status");
  const failed = async (expected) => {
    await waitForText(status, expected);
    assert.equal(await hits.count(), 0, "the results of the search before are still shown");
    assert.ok(await page.locator("#more").isHidden(), "More results is offered for a search that failed");
    assert.match(await status.getAttribute("class"), /\btrouble\b/, "the failure is shown as small grey text");
  };

  // Longer than the server takes (the box stops at 200 characters; a link need not).
  await page.locator("#q").evaluate((input) => {
    input.value = "washed sand ".repeat(20);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await failed("That search is too long: shorten it to 200 characters or fewer and try again.");

  await page.locator("#q").fill("gravel");
  await hits.first().waitFor();
  await page.route("**/api/v1/search?*", (route) =>
    route.fulfill({ status: 503, json: { error: { code: "unavailable", message: "the store is unavailable", field: null } } }));
  await page.locator("#q").pressSequentially(" 20 mm", { delay: 30 });
  await failed("Searching is not working at the moment.");
  assert.doesNotMatch(await status.textContent(), /unavailable|store/, "the server's own words reach the customer");

  await page.unroute("**/api/v1/search?*");
  await page.route("**/api/v1/search?*", (route) => route.abort("internetdisconnected"));
  await page.locator("#q").fill("sand");
  await failed("We could not reach the shop. Check your internet connection, then try again.");

  await page.unroute("**/api/v1/search?*");
  await page.locator("#q").fill("gravel");
  await hits.first().waitFor();
  assert.doesNotMatch(await status.getAttribute("class"), /\btrouble\b/);
});

test("Back and Forward step through the filters, and coming back to the shop shows the results loaded, scrolled where they were", async (t) => {
  const page = await openPage(t);
  await page.goto("/");
  const status = page.locator("#status");
  const hits = page.locator("#results li.hit");
  await hits.first().waitFor();
  const settled = async () => {
    await page.waitForFunction(() => !document.querySelector("#results[aria-busy]"));
    return (await status.textContent()).trim();
  };
  const all = await settled();

  await page.locator('[data-facet="category:aggregates"]').check();
  await page.waitForURL((url) => url.searchParams.get("category") === "Aggregates");
  await waitForText(status, /products?/);
  const aggregates = await settled();
  assert.notEqual(aggregates, all);
  await page.locator('[data-facet="category:aggregates/sand"]').check();
  await page.waitForURL((url) => url.searchParams.get("category") === "Aggregates/Sand");
  const sand = await settled();
  assert.notEqual(sand, aggregates);

  await page.goBack();
  assert.equal(new URL(page.url()).searchParams.get("category"), "Aggregates");
  await waitForText(status, aggregates);
  await page.goBack();
  assert.equal(new URL(page.url()).pathname, "/", "Back left the shop");
  assert.equal(new URL(page.url()).search, "");
  await waitForText(status, all);
  await page.goForward();
  assert.equal(new URL(page.url()).searchParams.get("category"), "Aggregates");
  await waitForText(status, aggregates);
  await page.goBack();
  await waitForText(status, all);

  // Two pages of results, scrolled down to the 30th, then a product and back.
  await page.locator("#more").click();
  await waitForText(status, "showing 40");
  const chosen = hits.nth(29).locator("a.hit-name");
  await chosen.scrollIntoViewIfNeeded();
  await page.mouse.wheel(0, 200);
  await page.waitForFunction(() => scrollY > 0);
  await page.waitForTimeout(300);
  const scrolled = await page.evaluate(() => scrollY);
  const sku = await hits.nth(29).getAttribute("data-sku");
  await chosen.click();
  await page.waitForURL((url) => url.pathname === `/p/${sku}`);
  await page.locator("h1#name").filter({ hasText: /\S/ }).waitFor();

  const cameBack = async (how) => {
    await waitForText(status, "showing 40");
    assert.equal(await hits.count(), 40, `${how}: the second page of results did not come back`);
    await page.waitForFunction((y) => Math.abs(scrollY - y) <= 2, scrolled).catch(async () =>
      assert.fail(`${how}: scrolled to ${await page.evaluate(() => scrollY)}, not ${scrolled}`));
    assert.equal(await hits.nth(29).getAttribute("data-sku"), sku);
  };
  await page.goBack();
  assert.equal(new URL(page.url()).pathname, "/");
  await cameBack("back from the product");
  await page.reload();
  await cameBack("a reload");
});
