// Deliveries of accepted quotes: staff deliver a trade customer's order
// (washed sand 6 t, gravel 4 t, to AB1 4QS) in two loads from the quote's
// back-office page — the first with a weighbridge's 2.96 t of sand, the second
// the rest — and the quote is fulfilled; both delivery notes print (A4, and an
// 80 mm receipt that is narrow), and the ledger booked what actually left. A
// load larger than what is still to deliver is refused at its box and books
// nothing; staff close a quote the customer wants no more of; the customer's
// contact, signed out, is asked to sign in by a note's link and then sees it,
// and sees the loads on the trade account with their notes (and no other
// customer's); a viewer sees deliveries but no way to make one; a German shop's
// note speaks German and its form reads "1,5". Each test makes its own quote
// (the demo's accepted quote is left to the other tests).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { request } from "playwright-core";
import { BASE, OWNER, STAFF, openPage, screenshot, signIn, startDemo, waitForText } from "./support.mjs";

/** The contact `quarry demo` seeds for HARBOUR (Harbour Groundworks Ltd). */
const DAVE = { username: "dave@harbour.example", password: "quarry-demo-trade" };
/** The order: washed sand and gravel, in tonnes (their stock unit), delivered to the town zone. */
const ORDER = [{ sku: "SAND-04", quantity: "6", unit: "t" }, { sku: "GRAV-0816", quantity: "4", unit: "t" }];
/** 80 mm in CSS pixels (96 a inch). */
const MM80 = (80 / 25.4) * 96;

/** A German shop of its own, for the last test. */
let german;
before(async () => {
  german = await startDemo("demo-de-deliveries", { QUARRY_SHOP_LOCALE: "de-DE" });
});
after(() => german?.stop());

/** A code no other test run has used. */
const fresh = (prefix) => `${prefix}${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1000)}`;

/** What each test does when it ends, last registered first (node:test runs `t.after` first in, first out). */
const endings = new WeakMap();
function atEnd(t, fn) {
  if (!endings.has(t)) {
    endings.set(t, []);
    t.after(async () => {
      for (const end of endings.get(t).reverse()) await end();
    });
  }
  endings.get(t).push(fn);
}

/**
 * An API client signed in as `who` (on the demo, or the shop at `base`):
 * `call(method, path, body, headers)` answers `{ status, body }` without
 * failing on an error status.
 */
async function rawAs(t, { username, password }, { base = BASE } = {}) {
  const api = await request.newContext({ baseURL: base, extraHTTPHeaders: { origin: base } });
  atEnd(t, () => api.dispose());
  const login = await api.post("/api/v1/auth/login", { data: { username, password } });
  assert.equal(login.status(), 200, `signing in as ${username}: ${await login.text()}`);
  const { csrf_token: csrf } = await login.json();
  return async (method, url, body, headers = {}) => {
    const response = await api.fetch(url, { method, data: body, headers: { "x-csrf-token": csrf, ...headers } });
    const text = await response.text();
    return { status: response.status(), body: text ? JSON.parse(text) : null };
  };
}

/** `call`, failing the test on an error status; answers the body. */
const ok = (call) => async (...args) => {
  const answer = await call(...args);
  assert.ok(answer.status < 300, `${args[0]} ${args[1]} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
};

/**
 * A quote of ORDER for HARBOUR (its contact Dave), holding its stock, accepted:
 * its number. Cancelled when the test ends if it is still accepted.
 */
async function acceptedQuote(t, staff, customer = "HARBOUR") {
  const quote = await ok(staff)("POST", "/api/v1/quotes", {
    customer,
    contact: { name: "Dave Marsh", email: DAVE.username },
    lines: ORDER,
    delivery: { postcode: "AB1 4QS" },
    hold_stock: true,
  });
  atEnd(t, async () => {
    const now = await staff("GET", `/api/v1/quotes/${quote.number}`);
    if (now.body?.status === "accepted") await staff("POST", `/api/v1/quotes/${quote.number}/cancel`);
  });
  const accepted = await ok(staff)("POST", `/api/v1/quotes/${quote.number}/accept`);
  assert.equal(accepted.status, "accepted");
  return quote.number;
}

/** How much of `sku` the shop has on hand, everywhere, in thousandths of its unit. */
async function onHand(staff, sku) {
  const { items } = await ok(staff)("GET", `/api/v1/stock?sku=${encodeURIComponent(sku)}&limit=200`);
  return items.filter((row) => row.sku === sku).reduce((sum, row) => sum + Math.round(Number(row.on_hand) * 1000), 0);
}

/** The row of the deliveries table for the quote's line `n` (from 1). */
const line = (page, n) => page.locator(`#delivery-progress tbody tr[data-line="${n}"]`);

/** A cell's text, its spaces (no-break ones too) as plain ones. */
const plain = async (locator) => (await locator.textContent()).replace(/\s+/g, " ").trim();

/**
 * Opens `link` (a new tab) and answers the page it opened, failing the test
 * if that page throws or breaks the CSP.
 */
async function follow(t, page, link) {
  assert.equal(await link.getAttribute("target"), "_blank", "a delivery note opens in a new tab");
  const [opened] = await Promise.all([page.context().waitForEvent("page"), link.click()]);
  const problems = [];
  opened.on("pageerror", (error) => problems.push(`uncaught error on ${opened.url()}: ${error.message}`));
  opened.on("console", (message) => {
    if (message.type() === "error" && /Content[- ]Security[- ]Policy/i.test(message.text())) problems.push(message.text());
  });
  t.after(() => assert.deepEqual(problems, [], "the note reported problems"));
  await opened.waitForLoadState();
  // delivery-note.js has put the note in the shop's words.
  await opened.locator("main.note[data-drawn]").waitFor();
  return opened;
}

test("staff deliver a quote in two loads — a weighbridge's 2.96 t first, then the rest — and print both notes, A4 and 80 mm", async (t) => {
  const staff = await rawAs(t, STAFF);
  const number = await acceptedQuote(t, staff);
  const sandBefore = await onHand(staff, "SAND-04");
  const gravelBefore = await onHand(staff, "GRAV-0816");
  const reference = fresh("WB-");

  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/quote?number=${number}`);
  await waitForText(page.locator("#deliveries-card h2"), "Deliveries");
  // Nothing delivered yet: all of each line is still to deliver.
  assert.equal(await plain(line(page, 1).locator(".ordered")), "6 t");
  assert.equal(await plain(line(page, 1).locator(".delivered")), "0 t");
  assert.equal(await plain(line(page, 1).locator(".outstanding")), "6 t");
  assert.equal(await plain(line(page, 2).locator(".outstanding")), "4 t");
  await page.locator("#no-deliveries").waitFor();
  // "Where it is held, then where available", or one of the shop's locations.
  await page.locator('#delivery-location option[value="YARD"]').waitFor({ state: "attached" });
  assert.equal(await page.locator('#delivery-location option[value=""]').textContent(), "Where it is held, then where available");
  assert.equal(await page.locator("#delivery-location").inputValue(), "");

  // The first load: 3 t of sand (the weighbridge says 2.96 t left) and 2 t of gravel.
  const form = page.locator("#deliver-form");
  await form.locator('[name="line1.quantity"]').fill("3");
  await form.locator('[name="line1.actual_quantity"]').fill("2.96");
  await form.locator('[name="line1.actual_unit"]').selectOption("t");
  await form.locator('[name="line2.quantity"]').fill("2");
  await form.locator("[name=vehicle]").fill("Tipper KX19 ABC");
  await form.locator("[name=driver]").fill("Sam Carter");
  await form.locator("[name=reference]").fill(reference);
  await screenshot(page, "deliveries-first-load");
  // A double press delivers once (one idempotency key for the load).
  await page.locator("#deliver").dblclick();
  await waitForText(page.locator("main .message.ok"), `Delivery ${number}/1 booked`);
  assert.equal(await plain(line(page, 1).locator(".delivered")), "3 t");
  assert.equal(await plain(line(page, 1).locator(".outstanding")), "3 t");
  assert.equal(await plain(line(page, 2).locator(".delivered")), "2 t");
  assert.equal(await plain(line(page, 2).locator(".outstanding")), "2 t");
  await waitForText(page.locator("main h1 .badge"), "accepted");
  const first = page.locator('#delivery-list tbody tr[data-delivery="1"]');
  await waitForText(first, `${number}/1`);
  await waitForText(first, "Tipper KX19 ABC");
  await waitForText(first, reference);
  await waitForText(first, "SAND-04 3 t, actually 2.96 t");
  await waitForText(first, "GRAV-0816 2 t");
  const once = await ok(staff)("GET", `/api/v1/quotes/${number}/deliveries`);
  assert.equal(once.items.length, 1, "a double press delivered twice");
  assert.deepEqual(once.items[0].lines.map((l) => [l.line, l.quantity.quantity, l.actual?.quantity ?? null]), [[1, "3", "2.96"], [2, "2", null]]);
  assert.equal(once.items[0].driver, "Sam Carter");

  // The second load: the rest of each line, by its shortcut.
  await line(page, 1).locator("button.rest").click();
  await line(page, 2).locator("button.rest").click();
  assert.equal(await form.locator('[name="line1.quantity"]').inputValue(), "3");
  assert.equal(await form.locator('[name="line2.quantity"]').inputValue(), "2");
  await form.locator("[name=vehicle]").fill("Tipper KX19 ABC");
  await form.locator("[name=reference]").fill(`${reference}-2`);
  await page.locator("#deliver").click();
  await waitForText(page.locator("main .message.ok"), `Delivery ${number}/2 booked: nothing is left to deliver, so the quote is fulfilled.`);
  await waitForText(page.locator("main h1 .badge"), "fulfilled");
  await waitForText(page.locator("#delivery-summary"), "Everything ordered has been delivered.");
  // Fulfilled: the progress and the loads, and nothing more to deliver or close.
  assert.equal(await page.locator("#deliver-form, #close-quote, #deliver").count(), 0, "a fulfilled quote offers another load");
  assert.equal(await plain(line(page, 1).locator(".delivered")), "6 t");
  assert.equal(await plain(line(page, 2).locator(".delivered")), "4 t");
  await waitForText(line(page, 1).locator(".outstanding"), "all delivered");
  await page.locator('#delivery-list tbody tr[data-delivery="2"]').waitFor();
  assert.equal(await page.locator("#delivery-list tbody tr").count(), 2);
  await screenshot(page, "deliveries-fulfilled");
  const quote = await ok(staff)("GET", `/api/v1/quotes/${number}`);
  assert.equal(quote.status, "fulfilled");
  assert.equal(quote.deliveries, 2);
  assert.deepEqual(quote.holds, [], "the fulfilled quote still holds stock");

  // The ledger booked what actually left: 2.96 t and 3 t of sand, 4 t of gravel.
  assert.equal(sandBefore - (await onHand(staff, "SAND-04")), 5960);
  assert.equal(gravelBefore - (await onHand(staff, "GRAV-0816")), 4000);

  // The first load's A4 note.
  const a4Link = page.locator('#delivery-list tbody tr[data-delivery="1"] a.note-a4');
  assert.equal(await a4Link.getAttribute("href"), `/delivery-notes/${number}/1`);
  const a4 = await follow(t, page, a4Link);
  assert.equal(new URL(a4.url()).pathname, `/delivery-notes/${number}/1`);
  assert.ok(await a4.locator("body.paper-a4").count(), "the A4 note's body is not marked paper-a4");
  await waitForText(a4.locator(".meta h2"), `Delivery note ${number}/1`);
  assert.equal(await a4.title(), `Delivery note ${number}/1 — Quarry Demo Building Supplies`);
  // The server writes the time in UTC; the note in the reader's time zone, the shop's way.
  const made = new Date(once.items[0].created_at);
  made.setUTCSeconds(0, 0);
  const written = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short" }).format(made);
  assert.equal((await a4.locator(".meta p").innerText()).replace(/\s+/g, " ").trim(), `Date: ${written} Quote: ${number}`);
  await waitForText(a4.locator(".to"), "Harbour Groundworks Ltd");
  await waitForText(a4.locator(".to"), "Deliver to AB1 4QS");
  await waitForText(a4.locator(".details"), "Vehicle: Tipper KX19 ABC");
  await waitForText(a4.locator(".details"), "Driver: Sam Carter");
  await waitForText(a4.locator(".details"), `Reference: ${reference}`);
  assert.deepEqual(await a4.locator("table thead th").allTextContents(), ["Product", "Delivered", "Still to deliver"]);
  const [sand, gravel] = [a4.locator("table tbody tr").nth(0), a4.locator("table tbody tr").nth(1)];
  await waitForText(sand.locator(".actual"), "Actually delivered: 2.96 t");
  assert.deepEqual(await Promise.all([1, 2].map((i) => plain(sand.locator("td").nth(i)))), ["3 t", "3 t"]);
  assert.deepEqual(await Promise.all([1, 2].map((i) => plain(gravel.locator("td").nth(i)))), ["2 t", "2 t"]);
  assert.equal(await gravel.locator(".actual").count(), 0, "the gravel says it left otherwise than booked");
  await waitForText(a4.locator(".sign"), "Received in good order by (name, signature):");
  // The print link prints (no inline handler), and printing hides the links.
  await a4.evaluate(() => { window.print = () => { document.body.dataset.printed = "yes"; }; });
  await a4.locator("[data-print]").click();
  await a4.locator("body[data-printed=yes]").waitFor({ state: "attached" });
  await a4.emulateMedia({ media: "print" });
  assert.ok(await a4.locator(".print").isHidden(), "the print links show on paper");
  const a4Width = await a4.locator("main").evaluate((main) => main.getBoundingClientRect().width);
  assert.ok(a4Width > 2 * MM80, `the A4 note is ${a4Width}px wide`);
  await a4.emulateMedia({ media: "screen" });
  await screenshot(a4, "delivery-note-a4");

  // The second load's 80 mm receipt: nothing is left to deliver, and it is narrow.
  const receiptLink = page.locator('#delivery-list tbody tr[data-delivery="2"] a.note-receipt');
  assert.equal(await receiptLink.getAttribute("href"), `/delivery-notes/${number}/2?paper=80mm`);
  const receipt = await follow(t, page, receiptLink);
  assert.ok(await receipt.locator("body.paper-receipt").count(), "the 80 mm note's body is not marked paper-receipt");
  await waitForText(receipt.locator(".meta h2"), `Delivery note ${number}/2`);
  await waitForText(receipt.locator(".details"), "Vehicle: Tipper KX19 ABC");
  await waitForText(receipt.locator(".details"), `Reference: ${reference}-2`);
  assert.equal(await receipt.locator(".actual").count(), 0);
  const rows = await receipt.locator("table tbody tr").evaluateAll((all) =>
    all.map((tr) => [...tr.cells].slice(1).map((td) => td.textContent.replace(/\s+/g, " ").trim())));
  assert.deepEqual(rows, [["3 t", "0 t"], ["2 t", "0 t"]]);
  const onScreen = await receipt.locator("main").evaluate((main) => main.getBoundingClientRect().width);
  assert.ok(onScreen <= MM80, `the 80 mm note is ${onScreen}px wide on screen`);
  await receipt.emulateMedia({ media: "print" });
  const onPaper = await receipt.locator("main").evaluate((main) => main.getBoundingClientRect().width);
  assert.ok(onPaper <= MM80, `the 80 mm note is ${onPaper}px wide on paper`);
  assert.ok(await receipt.locator(".print").isHidden());
  await receipt.emulateMedia({ media: "screen" });
  await screenshot(receipt, "delivery-note-80mm");
});

test("a load larger than what is still to deliver is refused at its line's box, and nothing is booked", async (t) => {
  const staff = await rawAs(t, STAFF);
  const number = await acceptedQuote(t, staff);
  const sandBefore = await onHand(staff, "SAND-04");
  const gravelBefore = await onHand(staff, "GRAV-0816");
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/quote?number=${number}`);
  const form = page.locator("#deliver-form");
  await form.waitFor();

  // Nothing given: said here, nothing sent.
  await page.locator("#deliver").click();
  await waitForText(page.locator("#deliver-message.error"), "Give how much of at least one line goes on this load.");

  // 5 t of gravel, of 4 t ordered: the only line sent, the quote's second.
  await form.locator('[name="line2.quantity"]').fill("5");
  await form.locator("[name=vehicle]").fill("Too much");
  await page.locator("#deliver").click();
  const refused = "line 2: 5 t is more than the 4 t still to deliver";
  await waitForText(line(page, 2).locator(".field-error"), refused);
  await waitForText(page.locator("#deliver-message.error"), refused);
  assert.equal(await form.locator('[name="line2.quantity"]').getAttribute("aria-invalid"), "true");
  assert.equal(await line(page, 1).locator(".field-error").count(), 0, "the error is shown at the wrong line");
  assert.equal(await form.locator('[name="line2.quantity"]').inputValue(), "5", "what was typed is kept");
  await screenshot(page, "deliveries-too-much");

  // An actual quantity without the load's quantity is asked for here too.
  await form.locator('[name="line2.quantity"]').fill("");
  await form.locator('[name="line1.actual_quantity"]').fill("1.2");
  await page.locator("#deliver").click();
  await waitForText(line(page, 1).locator(".field-error"), "Give this load's quantity too");

  // Nothing was delivered, booked or changed.
  assert.deepEqual((await ok(staff)("GET", `/api/v1/quotes/${number}/deliveries`)).items, []);
  const quote = await ok(staff)("GET", `/api/v1/quotes/${number}`);
  assert.equal(quote.status, "accepted");
  assert.equal(quote.deliveries, undefined);
  assert.equal(quote.progress, undefined);
  assert.equal(await onHand(staff, "SAND-04"), sandBefore);
  assert.equal(await onHand(staff, "GRAV-0816"), gravelBefore);
  await waitForText(page.locator("main h1 .badge"), "accepted");
});

test("staff close a part-delivered quote the customer wants no more of, after confirming", async (t) => {
  const staff = await rawAs(t, STAFF);
  const number = await acceptedQuote(t, staff);
  await ok(staff)("POST", `/api/v1/quotes/${number}/deliveries`, { lines: [{ line: 1, quantity: "2" }] }, { "idempotency-key": fresh("e2e-") });
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/quote?number=${number}`);
  await waitForText(line(page, 1).locator(".outstanding"), "4 t");
  const close = page.locator("#close-quote");

  // Not confirmed: nothing happens.
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    dialog.dismiss();
  });
  await close.click();
  assert.match(asked, new RegExp(`Close ${number} without delivering the rest\\?`));
  assert.equal((await ok(staff)("GET", `/api/v1/quotes/${number}`)).status, "accepted");

  page.once("dialog", (dialog) => dialog.accept());
  await close.click();
  await waitForText(page.locator("main .message.ok"), `${number} closed: nothing more will be delivered`);
  await waitForText(page.locator("main h1 .badge"), "fulfilled");
  await waitForText(page.locator("#delivery-summary"), "Closed before everything was delivered");
  assert.equal(await plain(line(page, 1).locator(".outstanding")), "4 t");
  assert.equal(await page.locator("#deliver-form, #close-quote").count(), 0);
  await page.locator('#delivery-list tbody tr[data-delivery="1"]').waitFor();
  const quote = await ok(staff)("GET", `/api/v1/quotes/${number}`);
  assert.equal(quote.status, "fulfilled");
  assert.deepEqual(quote.holds, [], "the closed quote still holds stock");
});

test("the trade contact sees a part-delivered order's loads on the trade account and opens their notes, and no other customer's", async (t) => {
  const staff = await rawAs(t, STAFF);
  const number = await acceptedQuote(t, staff);
  const vehicle = fresh("Van ");
  await ok(staff)("POST", `/api/v1/quotes/${number}/deliveries`, {
    lines: [{ line: 1, quantity: "2", actual_quantity: "2.04", actual_unit: "t" }], vehicle,
  }, { "idempotency-key": fresh("e2e-") });
  // Another customer's delivered quote: not Dave's to see.
  const other = await acceptedQuote(t, staff, "GREENLANE");
  await ok(staff)("POST", `/api/v1/quotes/${other}/deliveries`, { lines: [{ line: 2, quantity: "1" }] }, { "idempotency-key": fresh("e2e-") });

  const page = await openPage(t);
  // Signed out, a note's link asks to sign in first, then opens the note.
  await page.goto(`/delivery-notes/${number}/1`);
  await page.waitForURL((url) => url.pathname === "/admin/login");
  await page.locator("#login [name=username]").fill(DAVE.username);
  await page.locator("#login [name=password]").fill(DAVE.password);
  await page.locator("#login [type=submit]").click();
  await page.waitForURL((url) => url.pathname === `/delivery-notes/${number}/1`);
  await page.locator("main.note[data-drawn]").waitFor();
  await waitForText(page.locator(".meta h2"), `Delivery note ${number}/1`);

  await page.goto("/account");
  const row = page.locator(`#account-quotes tbody tr[data-number="${number}"]`);
  await waitForText(row.locator(".badge"), "part delivered");
  await waitForText(row.locator("a.deliveries-link"), "1 delivery");
  await row.locator("a.deliveries-link").click();
  const block = page.locator(`#deliveries-card .quote-deliveries[data-number="${number}"]`);
  await waitForText(block.locator("h3"), `Quote ${number}`);
  const sand = block.locator('tbody tr[data-line="1"]');
  assert.deepEqual([await plain(sand.locator(".ordered")), await plain(sand.locator(".delivered")), await plain(sand.locator(".outstanding"))],
    ["6 t", "2 t", "4 t"]);
  assert.equal(await plain(block.locator('tbody tr[data-line="2"] .outstanding')), "4 t");
  const load = block.locator('li[data-delivery="1"]');
  await waitForText(load, `Delivery ${number}/1`);
  await waitForText(load, `Vehicle: ${vehicle}`);
  await waitForText(load, "Washed sand 0-4 mm: 2 t, actually 2.04 t");
  assert.equal(await load.locator("a.note-receipt").getAttribute("href"), `/delivery-notes/${number}/1?paper=80mm`);
  await screenshot(page, "deliveries-trade-account");

  const note = await follow(t, page, load.locator("a.note-a4"));
  assert.equal(new URL(note.url()).pathname, `/delivery-notes/${number}/1`);
  await waitForText(note.locator(".meta h2"), `Delivery note ${number}/1`);
  await waitForText(note.locator(".details"), `Vehicle: ${vehicle}`);
  await waitForText(note.locator(".actual"), "Actually delivered: 2.04 t");
  // Back leads to the trade account, not the back office.
  assert.equal(await note.locator(".print a").last().getAttribute("href"), "/account");

  // GREENLANE's note and deliveries are not found for Dave.
  assert.equal((await page.request.get(`/delivery-notes/${other}/1`)).status(), 404);
  assert.equal((await page.request.get(`/api/v1/account/quotes/${other}/deliveries`)).status(), 404);
  assert.equal(await page.locator(`#deliveries-card .quote-deliveries[data-number="${other}"]`).count(), 0);
});

test("a viewer sees a quote's deliveries and their notes but no way to deliver or close", async (t) => {
  const staff = await rawAs(t, STAFF);
  const owner = await rawAs(t, OWNER);
  const number = await acceptedQuote(t, staff);
  await ok(staff)("POST", `/api/v1/quotes/${number}/deliveries`, { lines: [{ line: 2, quantity: "1.5" }] }, { "idempotency-key": fresh("e2e-") });
  const viewer = { username: fresh("viewer-deliveries-").toLowerCase(), password: "quarry-viewer-deliveries-1" };
  await ok(owner)("POST", "/api/v1/users", { ...viewer, role: "viewer" });

  const page = await openPage(t);
  await signIn(page, viewer, `/admin/quote?number=${number}`);
  await waitForText(line(page, 2).locator(".outstanding"), "2.5 t");
  assert.equal(await plain(line(page, 2).locator(".delivered")), "1.5 t");
  const load = page.locator('#delivery-list tbody tr[data-delivery="1"]');
  await waitForText(load, "GRAV-0816 1.5 t");
  assert.equal(await load.locator("a.note-a4").getAttribute("href"), `/delivery-notes/${number}/1`);
  assert.equal(await page.locator("#deliver-form, #deliver, #close-quote, [name='line1.quantity'], button.rest").count(), 0,
    "a viewer is offered a way to deliver");
  // Staff who read may print the note.
  const note = await follow(t, page, load.locator("a.note-receipt"));
  await waitForText(note.locator(".meta h2"), `Delivery note ${number}/1`);
  // …but not make a delivery through the API.
  const refused = await (await rawAs(t, viewer))("POST", `/api/v1/quotes/${number}/deliveries`, { lines: [{ line: 2, quantity: "1" }] });
  assert.equal(refused.status, 403);
});

test("on a German shop the form reads \"1,5\" and the delivery note speaks German: Lieferschein, 1,48 t", async (t) => {
  const staff = await rawAs(t, STAFF, { base: german.url });
  const number = await acceptedQuote(t, staff);
  const page = await openPage(t, { base: german.url });
  await signIn(page, STAFF, `/admin/quote?number=${number}`);
  await page.locator("html[data-language=de]").waitFor({ state: "attached" });
  await waitForText(page.locator("#deliveries-card h2"), "Lieferungen");
  const form = page.locator("#deliver-form");
  await form.locator('[name="line1.quantity"]').fill("1,5");
  await form.locator('[name="line1.actual_quantity"]').fill("1,48");
  await form.locator("[name=vehicle]").fill("Kipper HH-KX 190");
  await page.locator("#deliver").click();
  await waitForText(page.locator("main .message.ok"), `Lieferung ${number}/1 gebucht`);
  assert.equal(await plain(line(page, 1).locator(".outstanding")), "4,5 t");
  await waitForText(page.locator('#delivery-list tbody tr[data-delivery="1"]'), "1,5 t, tatsächlich 1,48 t");
  const { items } = await ok(staff)("GET", `/api/v1/quotes/${number}/deliveries`);
  assert.deepEqual([items[0].lines[0].quantity.quantity, items[0].lines[0].actual.quantity], ["1.5", "1.48"]);

  const note = await follow(t, page, page.locator('#delivery-list tbody tr[data-delivery="1"] a.note-a4'));
  assert.equal(await note.locator("html").getAttribute("lang"), "de-DE");
  await waitForText(note.locator(".meta h2"), `Lieferschein ${number}/1`);
  await waitForText(note.locator(".meta p"), `Angebot: ${number}`);
  await waitForText(note.locator(".to"), "Lieferung an AB1 4QS");
  await waitForText(note.locator(".details"), "Fahrzeug: Kipper HH-KX 190");
  assert.deepEqual(await note.locator("table thead th").allTextContents(), ["Produkt", "Geliefert", "Noch zu liefern"]);
  const sand = note.locator("table tbody tr").first();
  await waitForText(sand.locator(".actual"), "Tatsächlich geliefert: 1,48 t");
  await waitForText(sand.locator(".sku"), "SAND-04 · Position 1");
  assert.deepEqual(await Promise.all([1, 2].map((i) => plain(sand.locator("td").nth(i)))), ["1,5 t", "4,5 t"]);
  await waitForText(note.locator("[data-print]"), "Lieferschein drucken");
  await waitForText(note.locator(".print"), "80-mm-Bon");
  await screenshot(note, "delivery-note-de");
});
