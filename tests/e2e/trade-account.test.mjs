// Trade-customer contacts on the storefront's trade account (/account): the
// demo's contact (dave@harbour.example, customer HARBOUR on price list TRADE-A:
// 7% off Aggregates, 10% off Aggregates/Sand from 20 t) signs in and sees the
// customer's quotes and price list, and the product page's calculator prices
// at that list (the rule and the saving shown; not to anyone else); orders a
// quote again and sees the new number, what changed line by line (a product
// no longer sold marked as left out, a price gone up) and its printable page.
// Staff invite a contact of GREENLANE from its back-office page and pass the
// link on; the link sets a password and signs the contact in, once; staff
// disable and enable the contact. A contact's session is no way into the back
// office, and signing in there with a contact's login opens the trade account.
// Staff order a quote again from its back-office page; a viewer sees contacts
// and quotes but no way to change them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { request } from "playwright-core";
import { BASE, OWNER, PHONE, STAFF, apiAs, openPage, screenshot, signIn, waitForText } from "./support.mjs";

/** The contact `quarry demo` seeds, and their customer. */
const DAVE = { username: "dave@harbour.example", password: "quarry-demo-trade" };
const HARBOUR = "Harbour Groundworks Ltd";

/** An amount of euros as the demo shop writes it: "€491.47". */
function euros(amount) {
  const places = (String(amount).split(".")[1] ?? "").length;
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: "EUR", minimumFractionDigits: places, maximumFractionDigits: places }).format(amount);
}

/** A code no other test run has used. */
const fresh = (prefix) => `${prefix}${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1000)}`;

/** Signs in on the trade account page with `who` and waits for the account to show. */
async function signInAtAccount(page, { username, password }) {
  await page.goto("/account");
  const form = page.locator("#account-login");
  await form.locator("[name=username]").fill(username);
  await form.locator("[name=password]").fill(password);
  await form.locator("[type=submit]").click();
  await page.locator("#account-box").waitFor();
}

/**
 * A raw API client signed in as `who` (a contact or staff): `call(method,
 * path, body, headers)` answers `{ status, body }` without failing on an
 * error status, and parses JSON only when there is some.
 */
async function rawAs(t, { username, password }) {
  const api = await request.newContext({ baseURL: BASE, extraHTTPHeaders: { origin: BASE } });
  t.after(() => api.dispose());
  const login = await api.post("/api/v1/auth/login", { data: { username, password } });
  assert.equal(login.status(), 200, `signing in as ${username}: ${await login.text()}`);
  const { csrf_token: csrf } = await login.json();
  return async (method, url, body, headers = {}) => {
    const response = await api.fetch(url, { method, data: body, headers: { "x-csrf-token": csrf, ...headers } });
    const text = await response.text();
    return { status: response.status(), body: text ? JSON.parse(text) : null };
  };
}

/** The contact's accepted quote (the demo has one: SAND-04 6 t and GRAV-0816 4 t). */
async function acceptedQuote(dave) {
  const { items } = await dave("GET", "/api/v1/account/quotes?status=accepted");
  assert.ok(items.length > 0, "the demo's trade customer has an accepted quote");
  return items.at(-1);
}

test("the demo's trade contact signs in at /account, sees Harbour's quotes and price list, and the calculator prices at the list", async (t) => {
  const dave = await apiAs(t, DAVE);
  // The page shows 20 at a time.
  const { items: quotes } = await dave("GET", "/api/v1/account/quotes?limit=20");
  const accepted = await acceptedQuote(dave);

  const page = await openPage(t);
  await page.goto("/account");
  // Not signed in: the sign-in form, nothing of anyone's account.
  await page.locator("#account-login").waitFor();
  assert.ok(await page.locator("#account-box").isHidden(), "an account shows without signing in");
  await waitForText(page.locator("#account-link"), "Trade account");
  await signInAtAccount(page, DAVE);

  await waitForText(page.locator("#account-customer"), HARBOUR);
  await waitForText(page.locator("#account-price-list"), "Your prices: Trade list A — the shop's calculator shows them.");
  await waitForText(page.locator("#account-facts"), "Dave Marsh (dave@harbour.example)");
  await waitForText(page.locator("#account-link"), `Dave Marsh · ${HARBOUR}`);

  // The customer's quotes, newest first, as the API lists them.
  const rows = page.locator("#account-quotes tbody tr");
  await rows.first().waitFor();
  assert.deepEqual(await rows.evaluateAll((all) => all.map((tr) => tr.dataset.number)), quotes.map((q) => q.number));
  const row = page.locator(`#account-quotes tbody tr[data-number="${accepted.number}"]`);
  await waitForText(row, "accepted");
  await waitForText(row.locator("td.num"), euros(accepted.totals.gross));
  assert.equal(await row.locator("a.print-quote").getAttribute("href"), `/account/quotes/${accepted.number}`);
  await screenshot(page, "trade-account");

  // The calculator: 1 t of washed sand (38.00 at the list) at 7% off
  // Aggregates is 35.34 a tonne, 2.66 saved; as the API estimates it.
  const estimate = await dave("POST", "/api/v1/quote/estimate", { lines: [{ sku: "SAND-04", quantity: "1", unit: "t" }] });
  assert.equal(estimate.lines[0].list_price?.rule, "Trade list A: 7% off Aggregates");
  await page.goto("/p/SAND-04");
  await waitForText(page.locator("#account-link"), "Dave Marsh");
  const rule = page.locator("#calc-rule");
  await waitForText(rule, "Trade list A: 7% off Aggregates");
  await waitForText(rule, `saves ${euros(estimate.lines[0].list_price.saving)}`);
  assert.equal(estimate.lines[0].list_price.saving, "2.66");
  await waitForText(page.locator("#calc-tier"), `${euros(estimate.lines[0].unit_price)} / t`);
  assert.equal(estimate.lines[0].unit_price, "35.34");
  await waitForText(page.locator("#calc-total"), euros(estimate.totals.gross));
  // 25 t: the sand rule from 20 t gives the better price.
  await page.locator("#calc-quantity").fill("25");
  await waitForText(rule, "Trade list A: 10% off Aggregates/Sand from 20 t");
  await screenshot(page, "trade-account-calculator");

  // Anyone else gets the list price, and no rule.
  const stranger = await openPage(t);
  await stranger.goto("/p/SAND-04");
  await waitForText(stranger.locator("#calc-tier"), "€38.00 / t");
  assert.ok(await stranger.locator("#calc-rule").isHidden(), "a rule shows to a visitor who is not a trade contact");
  await waitForText(stranger.locator("#account-link"), "Trade account");
});

test("the trade contact orders the accepted quote again: the new number, what changed, the list updated, and its printable page", async (t) => {
  const dave = await apiAs(t, DAVE);
  const accepted = await acceptedQuote(dave);
  const page = await openPage(t);
  await signInAtAccount(page, DAVE);
  const row = page.locator(`#account-quotes tbody tr[data-number="${accepted.number}"]`);
  await row.locator("button.order-again").click();

  const heading = page.locator("#again-heading");
  await waitForText(heading, /New quote Q-\d{4}-\d+/);
  const number = /(Q-\d{4}-\d+)/.exec(await heading.textContent())[1];
  assert.notEqual(number, accepted.number);
  await waitForText(page.locator("#again-done"), `is made from ${accepted.number} at today's prices`);
  // The API has it: open, the customer's, the same products and quantities.
  const made = await dave("GET", `/api/v1/account/quotes/${number}`);
  assert.equal(made.status, "open");
  assert.deepEqual(made.lines.map((l) => [l.sku, l.requested.quantity]), accepted.lines.map((l) => [l.sku, l.requested.quantity]));

  // A row per line of the earlier quote; nothing changed price since.
  const changes = page.locator("#again-changes tbody tr");
  assert.equal(await changes.count(), accepted.lines.length);
  for (const line of accepted.lines) {
    const change = page.locator(`#again-changes tbody tr[data-sku="${line.sku}"]`);
    await waitForText(change, line.name);
    await waitForText(change, "Same price");
    await waitForText(change.locator("td.num").first(), `${euros(line.unit_price)} / ${line.pricing.unit}`);
  }
  assert.equal(await page.locator("#again-changes tr.dropped").count(), 0);
  // The list shows the new quote first.
  await page.locator(`#account-quotes tbody tr[data-number="${number}"]`).waitFor();
  assert.equal(await page.locator("#account-quotes tbody tr").first().getAttribute("data-number"), number);
  await screenshot(page, "trade-account-again");

  // Its printable page: the number, and the list's rule on its lines.
  await page.locator("#again-print").click();
  await page.waitForURL((url) => url.pathname === `/account/quotes/${number}`);
  await waitForText(page.locator(".meta h2"), `Quote ${number}`);
  await waitForText(page.locator(".quote table .rule").first(), "Trade list A: 7% off Aggregates");
  await waitForText(page.locator("p.keep"), "your trade account");
  // Another customer's quote, or none, is not found.
  assert.equal((await page.goto("/account/quotes/Q-2000-0001")).status(), 404);
});

test("ordering again marks a product no longer sold as left out, and says a price went up", async (t) => {
  const staff = await rawAs(t, STAFF);
  const [gone, dearer] = [fresh("E2E-GONE-"), fresh("E2E-DEAR-")];
  const archive = (sku) => staff("DELETE", `/api/v1/products/${encodeURIComponent(sku)}`, undefined, { "if-match": "*" });
  const cancel = (number) => staff("POST", `/api/v1/quotes/${encodeURIComponent(number)}/cancel`);
  const made = [];
  try {
    for (const [sku, name] of [[gone, "Order again test grit, discontinued"], [dearer, "Order again test grit, dearer"]]) {
      const product = await staff("POST", "/api/v1/products", { sku, name, category: "Aggregates/Gravel", unit: "t", price: "20.00" });
      assert.equal(product.status, 201, JSON.stringify(product.body));
    }
    const quote = await staff("POST", "/api/v1/quotes", {
      lines: [{ sku: gone, quantity: "2", unit: "t" }, { sku: dearer, quantity: "3", unit: "t" }],
      contact: { name: "Dave Marsh", email: DAVE.username },
      customer: "HARBOUR",
    });
    assert.equal(quote.status, 201, JSON.stringify(quote.body));
    const number = quote.body.number;
    made.push(number);
    // 20.00 at 7% off Aggregates: 18.60. Then one is no longer sold, and the
    // other costs 25.00 (23.25 at the list).
    assert.equal(quote.body.lines[1].unit_price, "18.60");
    assert.ok((await archive(gone)).status < 300, `archiving ${gone}`);
    const patched = await staff("PATCH", `/api/v1/products/${encodeURIComponent(dearer)}`, { price: "25.00" }, { "if-match": "*" });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));

    const page = await openPage(t);
    await signInAtAccount(page, DAVE);
    await page.locator(`#account-quotes tbody tr[data-number="${number}"] button.order-again`).click();
    await waitForText(page.locator("#again-heading"), "New quote");
    const newNumber = /(Q-\d{4}-\d+)/.exec(await page.locator("#again-heading").textContent())[1];
    made.push(newNumber);
    const left = page.locator(`#again-changes tbody tr[data-sku="${gone}"]`);
    await waitForText(left, "No longer sold: left out");
    assert.equal(await left.getAttribute("data-change"), "dropped");
    assert.match(await left.getAttribute("class"), /\bdropped\b/);
    await waitForText(left.locator(".badge"), "left out");
    await waitForText(page.locator("#again-dropped"), "One product is no longer sold and was left out.");
    const up = page.locator(`#again-changes tbody tr[data-sku="${dearer}"]`);
    await waitForText(up, "Price up: €18.60 / t → €23.25 / t");
    const again = await staff("GET", `/api/v1/quotes/${newNumber}`);
    assert.deepEqual(again.body.lines.map((l) => l.sku), [dearer], "the new quote leaves out the product no longer sold");
    await screenshot(page, "trade-account-again-changes");
  } finally {
    for (const number of made) await cancel(number);
    for (const sku of [gone, dearer]) await archive(sku);
  }
});

test("staff invite a contact of GREENLANE; the link sets a password and signs them in at /account, once; staff disable and enable them", async (t) => {
  const email = "priya@greenlane.example";
  const owner = await apiAs(t, OWNER);
  const greenlane = await owner("GET", "/api/v1/customers/GREENLANE");

  const admin = await openPage(t);
  admin.on("dialog", (dialog) => dialog.accept());
  await signIn(admin, STAFF, "/admin/customer?code=GREENLANE");
  const card = admin.locator("#contacts-card");
  await waitForText(card.locator("h2"), "Contacts");
  const form = admin.locator("#invite-form");
  await form.locator("[name=email]").fill(email);
  await form.locator("[name=name]").fill("Priya Shah");
  await admin.locator("#send-invite").click();
  const field = admin.locator("#invite-link");
  await field.waitFor();
  const link = await field.inputValue();
  assert.match(link, /^http:\/\/[^/]+\/invite#[\w-]{8,}$/);
  assert.equal(await field.getAttribute("readonly"), "");
  await admin.locator("#copy-invite").waitFor();
  await waitForText(admin.locator("#invite-link-note"), "Quarry sends no e-mail: pass this link on. It works once, for 7 days.");
  const pending = admin.locator("#invites tbody tr", { hasText: email });
  await waitForText(pending, "pending");
  await screenshot(admin, "trade-account-invite");

  // A fresh browser opens the link: the passwords must match, then it signs in.
  const contact = await openPage(t);
  await contact.goto(new URL(link).pathname + new URL(link).hash);
  const invite = contact.locator("#invite");
  await invite.locator("[name=password]").fill("greenlane-priya-2026");
  await invite.locator("[name=again]").fill("greenlane-priya-2027");
  await invite.locator("[type=submit]").click();
  await waitForText(contact.locator("#message"), "The passwords do not match.");
  assert.equal(new URL(contact.url()).pathname, "/invite");
  await invite.locator("[name=again]").fill("greenlane-priya-2026");
  await invite.locator("[type=submit]").click();
  await contact.waitForURL((url) => url.pathname === "/account");
  await waitForText(contact.locator("#account-customer"), greenlane.name);
  await waitForText(contact.locator("#account-facts"), `Priya Shah (${email})`);
  await waitForText(contact.locator("#account-link"), `Priya Shah · ${greenlane.name}`);
  // GREENLANE's quotes, as staff list them (the demo gives it one, open).
  const { items: theirs } = await owner("GET", "/api/v1/quotes?customer=GREENLANE&limit=20");
  if (theirs.length === 0) await contact.locator("#quotes-empty").waitFor();
  else await contact.locator(`#account-quotes tbody tr[data-number="${theirs[0].number}"]`).waitFor();
  assert.deepEqual(await contact.locator("#account-quotes tbody tr").evaluateAll((all) => all.map((tr) => tr.dataset.number)),
    theirs.map((q) => q.number));

  // The same link again is refused, in the server's words.
  const again = await openPage(t);
  await again.goto(new URL(link).pathname + new URL(link).hash);
  await again.locator("#invite [name=password]").fill("greenlane-other-2026");
  await again.locator("#invite [name=again]").fill("greenlane-other-2026");
  await again.locator("#invite [type=submit]").click();
  await waitForText(again.locator("#message.error"), "this invitation link is not valid: it was used already");
  assert.equal(new URL(again.url()).pathname, "/invite");

  // The staff page lists the contact now, and the invitation no longer.
  await admin.reload();
  const row = admin.locator("#contacts tbody tr", { hasText: email });
  await waitForText(row, "active");
  await waitForText(row, "yard");
  assert.equal(await admin.locator("#invites tbody tr", { hasText: email }).count(), 0, "the used invitation is still listed");

  // Disabled, the contact is signed out; enabled, they sign in again.
  await row.locator("button.toggle-contact").click();
  await waitForText(admin.locator("#contacts-message"), `${email} is disabled and signed out.`);
  await waitForText(admin.locator("#contacts tbody tr", { hasText: email }), "disabled");
  await contact.reload();
  await contact.locator("#account-login").waitFor();
  assert.ok(await contact.locator("#account-box").isHidden(), "a disabled contact still sees the account");
  await admin.locator("#contacts tbody tr", { hasText: email }).locator("button.toggle-contact").click();
  await waitForText(admin.locator("#contacts-message"), `${email} may sign in again.`);
  await signInAtAccount(contact, { username: email, password: "greenlane-priya-2026" });
  await waitForText(contact.locator("#account-customer"), greenlane.name);
});

test("staff withdraw an invitation: its link no longer works", async (t) => {
  const email = `withdrawn-${Date.now()}@greenlane.example`;
  const page = await openPage(t);
  page.on("dialog", (dialog) => dialog.accept());
  await signIn(page, STAFF, "/admin/customer?code=GREENLANE");
  await page.locator("#invite-form [name=email]").fill(email);
  await page.locator("#invite-form [name=name]").fill("Wanda Withdrawn");
  await page.locator("#send-invite").click();
  const link = await page.locator("#invite-link").inputValue();
  const row = page.locator("#invites tbody tr", { hasText: email });
  await row.locator("button.withdraw-invite").click();
  await waitForText(page.locator("#contacts-message"), `The invitation to ${email} is withdrawn.`);
  await page.locator("#invites tbody tr", { hasText: email }).waitFor({ state: "detached" });

  const contact = await openPage(t);
  await contact.goto(new URL(link).pathname + new URL(link).hash);
  await contact.locator("#invite [name=password]").fill("withdrawn-pass-2026");
  await contact.locator("#invite [name=again]").fill("withdrawn-pass-2026");
  await contact.locator("#invite [type=submit]").click();
  await waitForText(contact.locator("#message.error"), "this invitation link is not valid");
});

test("a contact visiting /admin is sent to sign in, and the back office stays closed", async (t) => {
  const page = await openPage(t);
  await signInAtAccount(page, DAVE);
  await page.goto("/admin");
  await page.waitForURL((url) => url.pathname === "/admin/login");
  await page.locator("#login").waitFor();
  assert.equal(await page.locator("#nav").count(), 0, "the admin nav is on the login page");
  // The page says why, and does not bounce back to /admin.
  await waitForText(page.locator("#notice"), "You are signed in to a trade account, which does not open the back office.");
  await page.waitForTimeout(300);
  assert.equal(new URL(page.url()).pathname, "/admin/login");
  await page.locator("#to-account").click();
  await page.waitForURL((url) => url.pathname === "/account");
  await waitForText(page.locator("#account-customer"), HARBOUR);
  // The back office's data stays closed to the contact's session too.
  const answer = await page.request.get("/api/v1/customers");
  assert.equal(answer.status(), 403);
});

test("a contact's login typed on the back office's sign-in page opens the trade account; a staff login at /account is sent to the back office", async (t) => {
  const page = await openPage(t);
  await page.goto("/admin/login");
  await page.locator("#login [name=username]").fill(DAVE.username);
  await page.locator("#login [name=password]").fill(DAVE.password);
  await page.locator("#login [type=submit]").click();
  await page.waitForURL((url) => url.pathname === "/account");
  await waitForText(page.locator("#account-customer"), HARBOUR);

  const staff = await openPage(t);
  await staff.goto("/account");
  await staff.locator("#account-login [name=username]").fill(STAFF.username);
  await staff.locator("#account-login [name=password]").fill(STAFF.password);
  await staff.locator("#account-login [type=submit]").click();
  await waitForText(staff.locator("#staff-notice"), "This is a staff login: go to the back office.");
  assert.equal(await staff.locator("#staff-notice a").getAttribute("href"), "/admin");
  assert.ok(await staff.locator("#account-box").isHidden());
  // Coming back, the staff session gets the same notice.
  await staff.reload();
  await staff.locator("#staff-notice").waitFor();
});

test("staff order a quote again from its back-office page, and see what changed", async (t) => {
  const dave = await apiAs(t, DAVE);
  const accepted = await acceptedQuote(dave);
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/quote?number=${accepted.number}`);
  await page.locator("#order-again").click();
  await page.waitForURL((url) => url.searchParams.get("number") !== accepted.number);
  const number = new URL(page.url()).searchParams.get("number");
  await waitForText(page.locator("main h1"), `Quote ${number}`);
  await waitForText(page.locator("main .message.ok"), `Quote ${number} made from ${accepted.number} at today's prices.`);
  const notes = page.locator("#again-changes li");
  assert.equal(await notes.count(), accepted.lines.length);
  for (const line of accepted.lines) await waitForText(notes, `${line.name} (${line.sku}): Same price`);
  // It is the customer's: their contact sees it in their account.
  const seen = await dave("GET", `/api/v1/account/quotes/${number}`);
  assert.equal(seen.status, "open");
});

test("the customer page lists its quotes with this year's total; a viewer sees contacts and quotes but no way to change them", async (t) => {
  const owner = await apiAs(t, OWNER);
  const { items } = await owner("GET", "/api/v1/quotes?customer=HARBOUR&limit=200");
  const year = new Date().getFullYear();
  const counted = items.filter((q) => ["accepted", "fulfilled"].includes(q.status) && new Date(q.created_at).getFullYear() === year);
  const cents = counted.reduce((n, q) => n + Math.round(Number(q.totals.gross) * 100), 0);
  const total = euros((cents / 100).toFixed(2));

  const username = `viewer-contacts-${Date.now()}`;
  await owner("POST", "/api/v1/users", { username, password: "quarry-viewer-check-1", role: "viewer" });
  const page = await openPage(t);
  await signIn(page, { username, password: "quarry-viewer-check-1" }, "/admin/customer?code=HARBOUR");
  await waitForText(page.locator("#contacts tbody tr"), "dave@harbour.example");
  await waitForText(page.locator("#year-total"), `Total this year (${year}): ${total}`);
  await waitForText(page.locator("#year-total"), "accepted or fulfilled");
  const first = page.locator("#customer-quotes tbody tr").first();
  await waitForText(first, items[0].number);
  assert.equal(await first.locator("a").getAttribute("href"), `/admin/quote?number=${items[0].number}`);
  assert.equal(await page.locator("#invite-form, button.toggle-contact, button.withdraw-invite, button.new-password-link").count(), 0,
    "a viewer is offered a way to change contacts");
});

test("on a phone the trade account and its order again never scroll sideways", async (t) => {
  const page = await openPage(t, { viewport: PHONE });
  await signInAtAccount(page, DAVE);
  await page.locator("#account-quotes tbody tr").first().waitFor();
  await page.locator("#account-quotes tbody tr").last().locator("button.order-again").click();
  await page.locator("#again-changes").waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  // The top bar names the contact, not their company too, on a phone.
  assert.ok(await page.locator("#account-link .who-customer").isHidden());
  await screenshot(page, "trade-account-phone");
});
