// The trade customer's story end to end, on the demo: the trade contact
// (dave@harbour.example, customer HARBOUR on price list TRADE-A) signs in at
// /account and sees his own price in the product page's calculator, the rule
// and the saving explained; orders the demo's accepted quote (washed sand 6 t,
// gravel 8-16 mm 4 t, to AB1 4QS) again from the trade account; staff accept
// the new quote in the back office and deliver it in two loads — the first
// part of each line with the weighbridge's 2.96 t for 3 t of sand, the second
// the rest — so it is fulfilled; both delivery notes (A4 and 80 mm) show their
// number, lines and what is still to deliver, and print without their links;
// and the contact sees both loads on the trade account. Everything is done in
// the browser; the API only looks things up and checks the results. The test
// carries on with the quote it makes, whatever other tests left in the shop.
import assert from "node:assert/strict";
import { test } from "node:test";
import { request } from "playwright-core";
import { BASE, STAFF, openPage, screenshot, signIn, waitForText } from "./support.mjs";

/** The contact `quarry demo` seeds, and their customer. */
const DAVE = { username: "dave@harbour.example", password: "quarry-demo-trade" };
const HARBOUR = "Harbour Groundworks Ltd";
/** The demo's accepted quote for HARBOUR: SKU and quantity in tonnes, line by line. */
const ORDER = [["SAND-04", "6"], ["GRAV-0816", "4"]];

/** An amount of euros as the demo shop writes it: "€35.34". */
function euros(amount) {
  const places = (String(amount).split(".")[1] ?? "").length;
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: "EUR", minimumFractionDigits: places, maximumFractionDigits: places }).format(amount);
}

/** A code no other test run has used. */
const fresh = (prefix) => `${prefix}${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1000)}`;

/** A cell's text, its spaces (no-break ones too) as plain ones. */
const plain = async (locator) => (await locator.textContent()).replace(/\s+/g, " ").trim();

/**
 * An API client signed in as `who`: `call(method, path, body)` answers
 * `{ status, body }` without failing on an error status.
 */
async function rawAs(t, { username, password }) {
  const api = await request.newContext({ baseURL: BASE, extraHTTPHeaders: { origin: BASE } });
  t.after(() => api.dispose());
  const login = await api.post("/api/v1/auth/login", { data: { username, password } });
  assert.equal(login.status(), 200, `signing in as ${username}: ${await login.text()}`);
  const { csrf_token: csrf } = await login.json();
  return async (method, url, body) => {
    const response = await api.fetch(url, { method, data: body, headers: { "x-csrf-token": csrf } });
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

/** Signs in on the trade account page with `who` and waits for the account to show. */
async function signInAtAccount(page, { username, password }) {
  await page.goto("/account");
  const form = page.locator("#account-login");
  await form.locator("[name=username]").fill(username);
  await form.locator("[name=password]").fill(password);
  await form.locator("[type=submit]").click();
  await page.locator("#account-box").waitFor();
}

/** The trade account's row of quote `number`, loading more of the list until it is there. */
async function accountRow(page, number) {
  const row = page.locator(`#account-quotes tbody tr[data-number="${number}"]`);
  await page.locator("#account-quotes tbody tr").first().waitFor();
  const more = page.locator("#more-quotes");
  while ((await row.count()) === 0 && (await more.isVisible())) {
    const shown = await page.locator("#account-quotes tbody tr").count();
    await more.click();
    await page.waitForFunction((n) => document.querySelectorAll("#account-quotes tbody tr").length > n, shown);
  }
  await row.waitFor();
  return row;
}

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

/** A note's lines: [product name, SKU and line, delivered, still to deliver, what actually left or null]. */
const noteRows = (note) => note.locator("table tbody tr").evaluateAll((all) => all.map((tr) => {
  const said = (el) => el?.textContent.replace(/\s+/g, " ").trim() ?? null;
  return [said(tr.cells[0].firstChild), said(tr.querySelector(".sku")), said(tr.cells[1]), said(tr.cells[2]), said(tr.querySelector(".actual"))];
}));

test("the trade story: Dave sees his price and its rule, orders the accepted quote again, staff accept it and deliver it in two loads with two printed notes, and Dave sees both loads", async (t) => {
  let staff = null;
  let number = null;
  // Whatever happens, the quote this test made is not left open or accepted
  // for others. Registered first, so it runs before the API clients are
  // disposed (node:test runs `t.after` first in, first out).
  t.after(async () => {
    if (!staff || !number) return;
    const now = await staff("GET", `/api/v1/quotes/${number}`);
    if (["open", "accepted"].includes(now.body?.status)) await staff("POST", `/api/v1/quotes/${number}/cancel`);
  });
  staff = await rawAs(t, STAFF);
  const dave = await rawAs(t, DAVE);
  const reference = fresh("WB-");
  const vehicle = fresh("Tipper ");

  // 1. Dave signs in at /account; the calculator prices washed sand at his list.
  const page = await openPage(t);
  await signInAtAccount(page, DAVE);
  await waitForText(page.locator("#account-customer"), HARBOUR);
  await waitForText(page.locator("#account-price-list"), "Your prices: Trade list A");
  const estimate = await ok(dave)("POST", "/api/v1/quote/estimate", { lines: [{ sku: "SAND-04", quantity: "1", unit: "t" }] });
  const priced = estimate.lines[0];
  // 38.00 a tonne at the list, 7% off Aggregates: 35.34, 2.66 saved.
  assert.deepEqual([priced.list_price?.list_unit_price, priced.unit_price, priced.list_price?.saving, priced.list_price?.rule],
    ["38.00", "35.34", "2.66", "Trade list A: 7% off Aggregates"]);
  await page.goto("/p/SAND-04");
  await waitForText(page.locator("#account-link"), "Dave Marsh");
  await waitForText(page.locator("#calc-tier"), "€35.34 / t");
  assert.equal((await plain(page.locator("#calc-tier"))).includes("€38.00"), false, "the calculator shows the list price to a trade contact");
  const rule = page.locator("#calc-rule");
  await waitForText(rule, "Trade list A: 7% off Aggregates");
  await waitForText(rule, "saves €2.66");
  assert.ok(await rule.isVisible(), "the calculator does not show the rule that explains the trade price");
  await waitForText(page.locator("#calc-total"), euros(estimate.totals.gross));
  await screenshot(page, "trade-story-calculator");

  // 2. He orders the demo's accepted quote (the oldest accepted of HARBOUR) again.
  const { items: accepted } = await ok(staff)("GET", "/api/v1/quotes?customer=HARBOUR&status=accepted&limit=200");
  const earlier = [...accepted].sort((a, b) => a.created_at.localeCompare(b.created_at))[0];
  assert.ok(earlier, "the demo's trade customer has an accepted quote");
  assert.deepEqual(earlier.lines.map((l) => [l.sku, l.stock.quantity, l.stock.unit]), ORDER.map(([sku, q]) => [sku, q, "t"]));
  await page.goto("/account");
  const earlierRow = await accountRow(page, earlier.number);
  await waitForText(earlierRow.locator(".badge"), "accepted");
  await earlierRow.locator("button.order-again").click();
  const heading = page.locator("#again-heading");
  await waitForText(heading, /New quote Q-\d{4}-\d+/);
  number = /(Q-\d{4}-\d+)/.exec(await heading.textContent())[1];
  assert.notEqual(number, earlier.number);
  await waitForText(page.locator("#again-done"), `is made from ${earlier.number} at today's prices`);
  for (const [sku] of ORDER) await waitForText(page.locator(`#again-changes tbody tr[data-sku="${sku}"]`), "Same price");
  const newRow = await accountRow(page, number);
  await waitForText(newRow.locator(".badge"), "open");
  const made = await ok(staff)("GET", `/api/v1/quotes/${number}`);
  assert.equal(made.status, "open");
  assert.equal(made.customer, "HARBOUR");
  assert.deepEqual(made.lines.map((l) => [l.sku, l.stock.quantity]), ORDER);
  await screenshot(page, "trade-story-again");

  // 3. Staff open the new quote, accept it, and deliver it in two loads.
  const admin = await openPage(t);
  await signIn(admin, STAFF, `/admin/quote?number=${number}`);
  await waitForText(admin.locator("main h1"), `Quote ${number}`);
  await waitForText(admin.locator("main h1 .badge"), "open");
  assert.equal(await admin.locator("#deliveries-card").count(), 0, "an open quote offers deliveries");
  await admin.getByRole("button", { name: "Accept", exact: true }).click();
  await waitForText(admin.locator("main .message.ok"), `${number} accepted`);
  await waitForText(admin.locator("main h1 .badge"), "accepted");
  assert.equal((await ok(staff)("GET", `/api/v1/quotes/${number}`)).status, "accepted");

  await waitForText(admin.locator("#deliveries-card h2"), "Deliveries");
  const line = (n) => admin.locator(`#delivery-progress tbody tr[data-line="${n}"]`);
  const progress = async (n) => Promise.all(["ordered", "delivered", "outstanding"].map((c) => plain(line(n).locator(`.${c}`))));
  assert.deepEqual(await progress(1), ["6 t", "0 t", "6 t"]);
  assert.deepEqual(await progress(2), ["4 t", "0 t", "4 t"]);
  await admin.locator("#no-deliveries").waitFor();

  // The first load: 3 t of sand (the weighbridge says 2.96 t left) and 2 t of gravel.
  const form = admin.locator("#deliver-form");
  await form.locator('[name="line1.quantity"]').fill("3");
  await form.locator('[name="line1.actual_quantity"]').fill("2.96");
  await form.locator('[name="line1.actual_unit"]').selectOption("t");
  await form.locator('[name="line2.quantity"]').fill("2");
  await form.locator("[name=vehicle]").fill(vehicle);
  await form.locator("[name=driver]").fill("Sam Carter");
  await form.locator("[name=reference]").fill(reference);
  await admin.locator("#deliver").click();
  await waitForText(admin.locator("main .message.ok"), `Delivery ${number}/1 booked`);
  await waitForText(admin.locator("main h1 .badge"), "accepted");
  assert.deepEqual(await progress(1), ["6 t", "3 t", "3 t"]);
  assert.deepEqual(await progress(2), ["4 t", "2 t", "2 t"]);
  const first = admin.locator('#delivery-list tbody tr[data-delivery="1"]');
  await waitForText(first, `${number}/1`);
  await waitForText(first, reference);
  await waitForText(first, "SAND-04 3 t, actually 2.96 t");
  await waitForText(first, "GRAV-0816 2 t");

  // The second load: the rest of each line, by its shortcut.
  await line(1).locator("button.rest").click();
  await line(2).locator("button.rest").click();
  assert.equal(await form.locator('[name="line1.quantity"]').inputValue(), "3");
  assert.equal(await form.locator('[name="line2.quantity"]').inputValue(), "2");
  await form.locator("[name=vehicle]").fill(vehicle);
  await form.locator("[name=reference]").fill(`${reference}-2`);
  await admin.locator("#deliver").click();
  await waitForText(admin.locator("main .message.ok"), `Delivery ${number}/2 booked: nothing is left to deliver, so the quote is fulfilled.`);
  await waitForText(admin.locator("main h1 .badge"), "fulfilled");
  await waitForText(admin.locator("#delivery-summary"), "Everything ordered has been delivered.");
  assert.equal(await admin.locator("#deliver-form, #deliver").count(), 0, "a fulfilled quote offers another load");
  assert.equal(await plain(line(1).locator(".delivered")), "6 t");
  assert.equal(await plain(line(2).locator(".delivered")), "4 t");
  await waitForText(line(1).locator(".outstanding"), "all delivered");
  await waitForText(line(2).locator(".outstanding"), "all delivered");
  await admin.locator('#delivery-list tbody tr[data-delivery="2"]').waitFor();
  assert.equal(await admin.locator("#delivery-list tbody tr").count(), 2);
  await screenshot(admin, "trade-story-delivered");
  const done = await ok(staff)("GET", `/api/v1/quotes/${number}`);
  assert.equal(done.status, "fulfilled");
  assert.equal(done.deliveries, 2);
  const { items: loads } = await ok(staff)("GET", `/api/v1/quotes/${number}/deliveries`);
  assert.deepEqual(loads.map((d) => [d.number, d.lines.map((l) => [l.line, l.quantity.quantity, l.actual?.quantity ?? null])]),
    [[1, [[1, "3", "2.96"], [2, "2", null]]], [2, [[1, "3", null], [2, "2", null]]]]);

  // 4. Both notes, from the page's links: the first on A4, the second on 80 mm.
  const a4Link = first.locator("a.note-a4");
  assert.equal(await a4Link.getAttribute("href"), `/delivery-notes/${number}/1`);
  const a4 = await follow(t, admin, a4Link);
  assert.equal(new URL(a4.url()).pathname, `/delivery-notes/${number}/1`);
  assert.equal(await a4.locator("body.paper-a4").count(), 1, "the A4 note's body is not marked paper-a4");
  assert.equal(await plain(a4.locator(".meta h2")), `Delivery note ${number}/1`);
  await waitForText(a4.locator(".to"), HARBOUR);
  await waitForText(a4.locator(".to"), "Deliver to AB1 4QS");
  await waitForText(a4.locator(".details"), `Vehicle: ${vehicle}`);
  await waitForText(a4.locator(".details"), `Reference: ${reference}`);
  assert.deepEqual(await a4.locator("table thead th").allTextContents(), ["Product", "Delivered", "Still to deliver"]);
  assert.deepEqual(await noteRows(a4), [
    ["Washed sand 0-4 mm", "SAND-04 · line 1", "3 t", "3 t", "Actually delivered: 2.96 t"],
    ["Gravel 8-16 mm", "GRAV-0816 · line 2", "2 t", "2 t", null],
  ]);
  // On screen the print links show; printed, they do not.
  assert.ok(await a4.locator(".print").isVisible(), "the A4 note has no print links on screen");
  await a4.emulateMedia({ media: "print" });
  assert.ok(await a4.locator(".print").isHidden(), "the print links show on the printed A4 note");
  assert.equal(await plain(a4.locator(".meta h2")), `Delivery note ${number}/1`);
  await a4.emulateMedia({ media: "screen" });
  await screenshot(a4, "trade-story-note-a4");

  const receiptLink = admin.locator('#delivery-list tbody tr[data-delivery="2"] a.note-receipt');
  assert.equal(await receiptLink.getAttribute("href"), `/delivery-notes/${number}/2?paper=80mm`);
  const receipt = await follow(t, admin, receiptLink);
  assert.equal(new URL(receipt.url()).pathname, `/delivery-notes/${number}/2`);
  assert.equal(await receipt.locator("body.paper-receipt").count(), 1, "the 80 mm note's body is not marked paper-receipt");
  assert.equal(await plain(receipt.locator(".meta h2")), `Delivery note ${number}/2`);
  await waitForText(receipt.locator(".details"), `Reference: ${reference}-2`);
  assert.deepEqual(await noteRows(receipt), [
    ["Washed sand 0-4 mm", "SAND-04 · line 1", "3 t", "0 t", null],
    ["Gravel 8-16 mm", "GRAV-0816 · line 2", "2 t", "0 t", null],
  ]);
  assert.ok(await receipt.locator(".print").isVisible(), "the 80 mm note has no print links on screen");
  await receipt.emulateMedia({ media: "print" });
  assert.ok(await receipt.locator(".print").isHidden(), "the print links show on the printed 80 mm note");
  await receipt.emulateMedia({ media: "screen" });
  await screenshot(receipt, "trade-story-note-80mm");

  // 5. Dave sees the order fulfilled on his trade account, with both loads and their notes.
  await page.goto("/account");
  const row = await accountRow(page, number);
  await waitForText(row.locator(".badge"), "fulfilled");
  await waitForText(row.locator("a.deliveries-link"), "2 deliveries");
  const block = page.locator(`#deliveries-card .quote-deliveries[data-number="${number}"]`);
  await waitForText(block.locator("h3"), `Quote ${number}`);
  const sand = block.locator('tbody tr[data-line="1"]');
  const gravel = block.locator('tbody tr[data-line="2"]');
  assert.deepEqual([await plain(sand.locator(".ordered")), await plain(sand.locator(".delivered"))], ["6 t", "6 t"]);
  assert.deepEqual([await plain(gravel.locator(".ordered")), await plain(gravel.locator(".delivered"))], ["4 t", "4 t"]);
  assert.equal(await plain(sand.locator(".outstanding")), "all delivered");
  assert.equal(await plain(gravel.locator(".outstanding")), "all delivered");
  const items = block.locator("li[data-delivery]");
  assert.deepEqual(await items.evaluateAll((all) => all.map((li) => li.dataset.delivery)), ["1", "2"]);
  for (const [n, what] of [[1, "Washed sand 0-4 mm: 3 t, actually 2.96 t; Gravel 8-16 mm: 2 t"], [2, "Washed sand 0-4 mm: 3 t; Gravel 8-16 mm: 2 t"]]) {
    const load = block.locator(`li[data-delivery="${n}"]`);
    await waitForText(load.locator("strong"), `Delivery ${number}/${n}`);
    await waitForText(load, `Vehicle: ${vehicle}`);
    assert.equal(await plain(load.locator(":scope > div").first()), what);
    assert.equal(await load.locator("a.note-a4").getAttribute("href"), `/delivery-notes/${number}/${n}`);
    assert.equal(await load.locator("a.note-receipt").getAttribute("href"), `/delivery-notes/${number}/${n}?paper=80mm`);
  }
  await screenshot(page, "trade-story-account");
  // The account's API says the same.
  const seen = await ok(dave)("GET", `/api/v1/account/quotes/${number}/deliveries`);
  assert.deepEqual(seen.items.map((d) => d.number), [1, 2]);
});
