// Staff and quotes in the back office: a staff member takes an order on the
// phone (a new quote for a caller, at phone width: a product found by name and
// picked with the keyboard, delivery to a postcode, stock held at the yard),
// and re-prices an open quote at today's prices after a price changed, seeing
// what changes before saving it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PHONE, STAFF, apiAs, openPage, screenshot, signIn, waitForText } from "./support.mjs";

/** Whole cents of an API amount: "90.00" → 9000. */
const cents = (amount) => Math.round(Number(amount) * 100);

test("a staff member takes a phone order: a product picked by name, delivery to a postcode, stock held at the yard", async (t) => {
  const caller = `Phone Caller ${Date.now()}`;
  const page = await openPage(t, { viewport: PHONE });
  await signIn(page, STAFF, "/admin/quotes");
  await page.locator("#new-quote-link").click();
  await page.waitForURL((url) => url.searchParams.has("new"));
  const form = page.locator("#new-quote");
  await form.locator("[name='contact.name']").fill(caller);
  await form.locator("[name='contact.phone']").fill("+44 1632 960123");

  // A product found by its name, picked with the keyboard.
  const search = page.locator("#product-search");
  await search.click();
  await search.pressSequentially("washed sand", { delay: 20 });
  await page.locator("#product-options [role=option]").first().waitFor();
  await search.press("ArrowDown");
  const highlighted = page.locator("#product-options [role=option][aria-selected=true]");
  await highlighted.waitFor();
  const sku = await highlighted.getAttribute("data-sku");
  await search.press("Enter");
  const row = page.locator(`#quote-lines tr[data-sku="${sku}"]`);
  await row.waitFor();
  assert.equal(await search.inputValue(), "", "the box is empty again for the next product");
  const unit = await row.locator("[data-field=unit]").inputValue();
  await row.locator("[data-field=quantity]").fill("2");

  // Delivery to a postcode, priced live.
  await form.locator("input[name=delivery][value=delivery]").check();
  await form.locator("[name='delivery.postcode']").fill("AB1 2CD");
  const lines = [{ sku, quantity: "2", unit }];
  const staff = await apiAs(t, STAFF);
  const estimate = await staff("POST", "/api/v1/quote/estimate", { lines, delivery: { postcode: "AB1 2CD" } });
  await page.waitForFunction(() => document.querySelector("#delivery-price strong"));
  await page.waitForFunction((gross) => document.querySelector("#quote-totals")?.textContent.includes(gross),
    new Intl.NumberFormat("en-GB", { style: "currency", currency: estimate.currency, minimumFractionDigits: 2 }).format(estimate.totals.gross));

  // Stock held at the yard alone.
  await form.locator("#hold-stock").check();
  await form.locator("#hold-location").selectOption("YARD");
  await form.locator("[name=note]").fill("Taken on the phone");
  const noOverflow = await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
  assert.ok(noOverflow, "the form fits a phone without sideways scrolling");
  await screenshot(page, "admin-quote-new");
  // A double press makes one quote: the same idempotency key.
  await page.locator("#save-quote").dblclick();
  await page.waitForURL((url) => url.pathname === "/admin/quote");
  const number = new URL(page.url()).searchParams.get("number");
  assert.match(number, /^Q-/);

  // The page shows the customer's link, with a button to copy it.
  const link = await page.locator("#customer-link").inputValue();
  assert.match(link, /^https?:\/\//);
  assert.ok(await page.locator("#copy-link").isVisible());

  const quote = await staff("GET", `/api/v1/quotes/${encodeURIComponent(number)}`);
  assert.equal(quote.contact.name, caller);
  assert.equal(quote.delivery.method, "delivery");
  assert.equal(quote.delivery.postcode, "AB1 2CD");
  assert.equal(cents(quote.delivery.gross), cents(estimate.delivery.gross), "the charge is the estimate's");
  assert.equal(cents(quote.delivery.net), cents(estimate.delivery.net));
  assert.equal(quote.hold_stock, true);
  assert.ok(quote.holds.length > 0, "stock is held");
  assert.deepEqual([...new Set(quote.holds.map((x) => x.location))], ["YARD"], "held at the yard only");
  assert.equal(quote.note, "Taken on the phone");
  const list = await staff("GET", "/api/v1/quotes?limit=50");
  assert.equal(list.items.filter((q) => q.contact.name === caller).length, 1, "one quote for one double press");
  await staff("POST", `/api/v1/quotes/${encodeURIComponent(number)}/cancel`);
});

test("staff re-price an open quote after a price changed: the change before and after, then the new total", async (t) => {
  const SKU = "GRAV-PEA";
  const staff = await apiAs(t, STAFF);
  const product = await staff("GET", `/api/v1/products/${SKU}`);
  const quote = await staff("POST", "/api/v1/quotes", {
    lines: [{ sku: SKU, quantity: "3", unit: product.unit }],
    contact: { name: "Re-price Check", email: "reprice@example.com" },
  });
  const raised = (Number(product.price) + 10).toFixed(2);
  await staff("PATCH", `/api/v1/products/${SKU}`, { price: raised });
  try {
    await repriceOnPage(t, quote, SKU, staff);
  } finally {
    // The demo's price again, for the other tests.
    await staff("PATCH", `/api/v1/products/${SKU}`, { price: product.price });
  }
});

/** Opens `quote`'s page, re-prices it after `sku`'s price went up, and checks the saved total. */
async function repriceOnPage(t, quote, SKU, staff) {
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/quote?number=${encodeURIComponent(quote.number)}`);
  await page.locator("#reprice").click();
  const changes = page.locator("#reprice-changes");
  await changes.locator("table").waitFor();
  const money = (amount) => new Intl.NumberFormat("en-GB", { style: "currency", currency: quote.currency, minimumFractionDigits: 2 }).format(amount);
  const line = changes.locator("tr", { hasText: SKU });
  await waitForText(line, money(quote.lines[0].gross));
  const dry = await staff("GET", `/api/v1/quotes/${encodeURIComponent(quote.number)}`);
  assert.equal(dry.totals.gross, quote.totals.gross, "the dry run changed nothing");
  const after = (await line.locator("td").nth(2).textContent()).trim();
  assert.notEqual(after, money(quote.lines[0].gross), "the price after differs");
  await waitForText(changes.locator("tr"), "Total");
  await screenshot(page, "admin-quote-reprice");

  await page.locator("#reprice-confirm").click();
  await waitForText(page.locator("main .message"), "re-priced");
  const saved = await staff("GET", `/api/v1/quotes/${encodeURIComponent(quote.number)}`);
  assert.ok(cents(saved.totals.gross) > cents(quote.totals.gross), `the total went up: ${quote.totals.gross} → ${saved.totals.gross}`);
  assert.equal(after, money(saved.lines[0].gross), "the price shown after is the one saved");
  await waitForText(page.locator("main"), money(saved.totals.gross));
  await staff("POST", `/api/v1/quotes/${encodeURIComponent(quote.number)}/cancel`);
}
