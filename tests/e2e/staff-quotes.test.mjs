// Staff and quotes in the back office: a staff member takes an order on the
// phone (a new quote for a caller, at phone width: a product found by name and
// picked with the keyboard, delivery to a postcode, stock held at the yard),
// re-prices an open quote at today's prices after a price changed, seeing
// what changes before saving it, and changes an open quote on the same form
// (lines, hold); a cancelled quote, or a viewer, is offered no change.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OWNER, PHONE, STAFF, apiAs, openPage, screenshot, signIn, waitForText } from "./support.mjs";

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

/** Money as the English pages write it. */
const moneyIn = (currency) => (amount) =>
  new Intl.NumberFormat("en-GB", { style: "currency", currency, minimumFractionDigits: 2 }).format(amount);

/** What `sku` has reserved at `location` now (0 when nothing). */
async function reservedAt(staff, sku, location) {
  const stock = await staff("GET", `/api/v1/products/${encodeURIComponent(sku)}/stock`);
  return Number(stock.locations.find((l) => l.location === location)?.reserved ?? 0);
}

test("a staff member changes an open quote at phone width: a quantity raised, a product picked by name added, the hold moved to the warehouse; same number, new total and holds", async (t) => {
  const SKU = "SAND-04";
  const staff = await apiAs(t, STAFF);
  const product = await staff("GET", `/api/v1/products/${SKU}`);
  const yardBefore = await reservedAt(staff, SKU, "YARD");
  const quote = await staff("POST", "/api/v1/quotes", {
    lines: [{ sku: SKU, quantity: "2", unit: product.unit }],
    contact: { name: `Changing Caller ${Date.now()}`, phone: "+44 1632 960456" },
    hold_stock: true, hold_location: "YARD",
    delivery: { collection: true },
    note: "First call",
  });
  assert.deepEqual([...new Set(quote.holds.map((x) => x.location))], ["YARD"], "the quote holds at the yard to begin with");
  const money = moneyIn(quote.currency);

  const page = await openPage(t, { viewport: PHONE });
  await signIn(page, STAFF, `/admin/quote?number=${encodeURIComponent(quote.number)}`);
  await page.locator("#change-quote").click();
  await page.waitForURL((url) => url.searchParams.get("edit") === quote.number);
  const form = page.locator("#change-quote-form");
  await form.waitFor();
  assert.equal((await page.locator("main h1").textContent()).trim(), `Change quote ${quote.number}`);
  assert.equal((await page.locator("#save-quote").textContent()).trim(), "Save changes");

  // Filled in from the quote.
  assert.equal(await form.locator("[name='contact.name']").inputValue(), quote.contact.name);
  assert.equal(await form.locator("[name='contact.phone']").inputValue(), quote.contact.phone);
  assert.equal(await form.locator("[name=note]").inputValue(), "First call");
  assert.ok(await form.locator("input[name=delivery][value=collection]").isChecked(), "collection, as the quote has it");
  assert.ok(await form.locator("#hold-stock").isChecked(), "it holds stock");
  assert.equal(await form.locator("#hold-location").inputValue(), "YARD");
  const sand = form.locator(`#quote-lines tr[data-sku="${SKU}"]`);
  assert.equal(await sand.locator("[data-field=quantity]").inputValue(), quote.lines[0].requested.quantity);
  assert.equal(await sand.locator("[data-field=unit]").inputValue(), quote.lines[0].requested.unit);
  await waitForText(page.locator("#quote-totals"), money(quote.totals.gross));

  // More sand, and a product found by its name, picked with the keyboard.
  await sand.locator("[data-field=quantity]").fill("5");
  const search = page.locator("#product-search");
  await search.click();
  await search.pressSequentially("engineering brick", { delay: 20 });
  await page.locator("#product-options [role=option]").first().waitFor();
  await search.press("ArrowDown");
  const highlighted = page.locator("#product-options [role=option][aria-selected=true]");
  await highlighted.waitFor();
  const added = await highlighted.getAttribute("data-sku");
  await search.press("Enter");
  const brick = form.locator(`#quote-lines tr[data-sku="${added}"]`);
  await brick.waitFor();
  await brick.locator("[data-field=quantity]").fill("40");
  const brickUnit = await brick.locator("[data-field=unit]").inputValue();
  // The warehouse has what the hold takes, whatever the tests before took of it.
  await staff("POST", "/api/v1/movements", {
    kind: "receive", location: "WH1", reference: `E2E-CHANGE-${Date.now()}`,
    lines: [{ sku: added, quantity: "40", unit: brickUnit }],
  });
  const warehouse = (await staff("GET", `/api/v1/products/${encodeURIComponent(added)}/stock`)).locations.find((l) => l.location === "WH1");
  assert.ok(Number(warehouse?.available ?? 0) >= 40, `${added} has 40 available at WH1 to hold`);

  // Held at the warehouse instead.
  await form.locator("#hold-location").selectOption("WH1");
  const lines = [{ sku: SKU, quantity: "5", unit: product.unit }, { sku: added, quantity: "40", unit: brickUnit }];
  const estimate = await staff("POST", "/api/v1/quote/estimate", { lines, delivery: { collection: true } });
  await waitForText(page.locator("#quote-totals"), money(estimate.totals.gross));
  const noOverflow = await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
  assert.ok(noOverflow, "the form fits a phone without sideways scrolling");
  await screenshot(page, "admin-quote-change");

  // A refusal is said on the form, at its box, and what was typed stays.
  const phone = form.locator("[name='contact.phone']");
  await phone.fill("");
  await page.locator("#save-quote").click();
  await form.locator("[aria-invalid=true]").first().waitFor();
  assert.notEqual((await page.locator("#new-quote-message").textContent()).trim(), "", "the refusal is said");
  assert.equal(await sand.locator("[data-field=quantity]").inputValue(), "5", "the quantity typed stays");
  assert.equal(await brick.locator("[data-field=quantity]").inputValue(), "40", "the line added stays");
  assert.equal(await form.locator("#hold-location").inputValue(), "WH1");
  assert.equal((await staff("GET", `/api/v1/quotes/${encodeURIComponent(quote.number)}`)).version, quote.version, "nothing was changed");
  await phone.fill(quote.contact.phone);

  await page.locator("#save-quote").click();
  await page.waitForURL((url) => url.pathname === "/admin/quote");
  assert.equal(new URL(page.url()).searchParams.get("number"), quote.number, "back on the same quote");
  await waitForText(page.locator("main .message"), `Quote ${quote.number} changed`);

  const saved = await staff("GET", `/api/v1/quotes/${encodeURIComponent(quote.number)}`);
  assert.equal(saved.status, "open");
  assert.equal(saved.version, quote.version + 1, "saved once");
  assert.deepEqual(saved.lines.map((l) => [l.sku, l.requested.quantity, l.requested.unit]), lines.map((l) => [l.sku, l.quantity, l.unit]));
  assert.equal(cents(saved.totals.gross), cents(estimate.totals.gross), "the total is the one the form showed");
  assert.ok(cents(saved.totals.gross) > cents(quote.totals.gross), `the total went up: ${quote.totals.gross} → ${saved.totals.gross}`);
  assert.equal(saved.contact.name, quote.contact.name);
  assert.equal(saved.note, "First call");
  assert.equal(saved.hold_stock, true);
  assert.deepEqual([...new Set(saved.holds.map((x) => x.location))], ["WH1"], "held at the warehouse only");
  assert.deepEqual(saved.holds.map((x) => x.sku).sort(), [SKU, added].sort(), "both lines are held");
  assert.equal(await reservedAt(staff, SKU, "YARD"), yardBefore, "what the yard held for it is released");

  // The page shows the new total and what is held where.
  await waitForText(page.locator("main table"), money(saved.totals.gross));
  const held = page.locator("section.card", { has: page.locator("h2", { hasText: "Held stock" }) }).locator("tbody tr");
  const rows = (await held.allTextContents()).map((text) => text.replace(/\s+/g, " "));
  assert.equal(rows.length, saved.holds.length, `one row a hold: ${JSON.stringify(rows)}`);
  for (const hold of saved.holds) {
    assert.ok(rows.some((row) => row.includes(hold.sku) && row.includes("WH1")), `${hold.sku} is shown held at WH1: ${JSON.stringify(rows)}`);
  }
  assert.ok(!rows.some((row) => row.includes("YARD")), "nothing is shown held at the yard");
  await staff("POST", `/api/v1/quotes/${encodeURIComponent(quote.number)}/cancel`);
});

test("a cancelled quote offers no Change quote button and its form is refused; an open one offers none to a viewer", async (t) => {
  const staff = await apiAs(t, STAFF);
  const owner = await apiAs(t, OWNER);
  const quote = await staff("POST", "/api/v1/quotes", {
    lines: [{ sku: "GRAV-PEA", quantity: "1" }],
    contact: { name: "No Change Check", email: "nochange@example.com" },
  });
  const path = `/admin/quote?number=${encodeURIComponent(quote.number)}`;
  const page = await openPage(t);
  await signIn(page, STAFF, path);
  await page.locator("main h1 .badge[data-status=open]").waitFor();
  assert.equal(await page.locator("#change-quote").count(), 1, "an open quote offers it to staff");
  await page.locator("#change-quote").click();
  await page.locator("#change-quote-form #quote-lines tr[data-sku=GRAV-PEA]").waitFor();

  // A viewer reads the open quote, but is offered no change.
  const username = `viewer-${Date.now()}`;
  await owner("POST", "/api/v1/users", { username, password: "quarry-viewer-check-1", role: "viewer" });
  const viewer = await openPage(t);
  await signIn(viewer, { username, password: "quarry-viewer-check-1" }, path);
  await viewer.locator("main h1 .badge[data-status=open]").waitFor();
  await viewer.locator("main table").first().waitFor();
  assert.equal(await viewer.locator("#change-quote").count(), 0, "no Change quote button for a viewer");
  await owner("PATCH", `/api/v1/users/${username}`, { disabled: true });

  await staff("POST", `/api/v1/quotes/${encodeURIComponent(quote.number)}/cancel`);
  // The form opened before it was cancelled is refused, and says so.
  await page.locator("#save-quote").click();
  await waitForText(page.locator("#new-quote-message"), "Only an open quote can be changed");
  assert.equal((await staff("GET", `/api/v1/quotes/${encodeURIComponent(quote.number)}`)).status, "cancelled");
  await page.goto(path);
  await page.locator("main h1 .badge[data-status=cancelled]").waitFor();
  await page.locator("main table").first().waitFor();
  assert.equal(await page.locator("#change-quote").count(), 0, "no Change quote button once cancelled");
  // Its change form, opened by its address, is refused too.
  await page.goto(`/admin/quotes?edit=${encodeURIComponent(quote.number)}`);
  await waitForText(page.locator("#change-refused"), "Only an open quote can be changed");
  assert.equal(await page.locator("#change-quote-form").count(), 0, "no form to change it");
});

test("a quote changed by someone else while its form is open is not overwritten: saving says so and changes nothing", async (t) => {
  const staff = await apiAs(t, STAFF);
  const quote = await staff("POST", "/api/v1/quotes", {
    lines: [{ sku: "GRAV-PEA", quantity: "1" }],
    contact: { name: "Two Hands", phone: "01234 567890" },
  });
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/quotes?edit=${encodeURIComponent(quote.number)}`);
  const line = page.locator("#change-quote-form #quote-lines tr[data-sku=GRAV-PEA]");
  await line.waitFor();
  // Meanwhile, a colleague changes the quote to 3.
  const theirs = await staff("PUT", `/api/v1/quotes/${encodeURIComponent(quote.number)}`, {
    lines: [{ sku: "GRAV-PEA", quantity: "3" }],
    contact: { name: "Two Hands", phone: "01234 567890" },
  });
  assert.equal(theirs.version, quote.version + 1);
  // This form, read before, would set it back to 1 and a new note.
  await page.locator("#change-quote-form [name=note]").fill("Mine");
  await page.locator("#save-quote").click();
  await waitForText(page.locator("#new-quote-message"), `Someone changed quote ${quote.number} after this form was opened`);
  const now = await staff("GET", `/api/v1/quotes/${encodeURIComponent(quote.number)}`);
  assert.equal(now.version, theirs.version, "nothing was saved");
  assert.equal(now.lines[0].requested.quantity, "3");
  assert.equal(now.note, null);
  assert.equal(await page.locator("#change-quote-form [name=note]").inputValue(), "Mine", "what was typed stays");
});
