// Mail and forgotten passwords: the sign-in page's "Forgot your password?"
// (the same answer for any username), an owner's reset link handed over and
// used, and on a shop that sends mail (to a port where nothing listens, so
// messages stay queued with the error of their first attempt) a quote's link
// e-mailed from the storefront and from the back office, the Mail page's
// outbox and its test message, and a reset link e-mailed from the Users page.
// The demo shop sends no mail: its Mail page says how to turn it on.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BASE, OWNER, PHONE, STAFF, apiAs, openPage, screenshot, signIn, startDemo, waitForText } from "./support.mjs";

/** The quote list as a customer left it: one line of sand. */
const BASKET = [{ sku: "SAND-04", name: "Washed sand 0-4 mm", quantity: "2", unit: "t" }];

const MAIL_SETTINGS = { QUARRY_MAIL_SMTP_URL: "smtp://127.0.0.1:9?tls=none", QUARRY_MAIL_FROM: "Yard <shop@example.com>" };

/** A shop that sends mail, started once for the tests that need it. */
let mailShop = null;
function shopWithMail() {
  mailShop ??= startDemo("mail", MAIL_SETTINGS);
  return mailShop;
}
after(async () => {
  if (mailShop) await (await mailShop).stop();
});

/**
 * A customer saves the quote list (BASKET) on `shop`'s storefront with `email`,
 * and is told on the quote's page that its link was e-mailed; that page.
 */
async function saveQuoteOnStorefront(t, shop, email) {
  const customer = await openPage(t, { base: shop.url });
  await customer.goto("/");
  await customer.evaluate((lines) => localStorage.setItem("quarry.quote-list", JSON.stringify(lines)), BASKET);
  await customer.goto("/quote");
  await waitForText(customer.locator("#lines tr.line"), "Washed sand");
  const request = customer.locator("#request");
  await request.locator("[name=name]").fill("Mailed Builder");
  await request.locator("[name=email]").fill(email);
  await request.locator("[type=submit]").click();
  await customer.waitForURL(/\/q\/[^/]+$/);
  await waitForText(customer.locator("main.quote p.mailed"), `We have e-mailed the link to ${email}.`);
  return customer;
}

/** What sticks out past the right edge of the page (see layout.test.mjs). */
function overflowing(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found = [];
    if (document.documentElement.scrollWidth > width) found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    for (const el of document.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || box.right <= width + 0.5) continue;
      found.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} ends at ${Math.round(box.right)} px (“${(el.textContent ?? "").trim().slice(0, 40)}”)`);
    }
    return found;
  });
}

/** Asks for a link on the sign-in page's "Forgot your password?" form; answers what the page said. */
async function forgot(page, username) {
  const form = page.locator("#forgot-form");
  await form.locator("[name=username]").fill(username);
  const answered = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/forgot"));
  await form.locator("[type=submit]").click();
  assert.equal((await answered).status(), 202, `asking for ${username}'s link`);
  const said = page.locator("#forgot-message.ok");
  await waitForText(said, username);
  return (await said.textContent()).trim();
}

test("the sign-in page's forgot-password form says the same for an existing username and a made-up one", async (t) => {
  const page = await openPage(t, { viewport: PHONE });
  await page.goto("/admin/login");
  await page.locator("#login [name=username]").fill(STAFF.username);
  const form = page.locator("#forgot-form");
  assert.ok(await form.isHidden(), "the form shows before it is asked for");
  await page.getByText("Forgot your password?").click();
  await form.waitFor();
  assert.equal(await form.locator("[name=username]").inputValue(), STAFF.username, "the username typed to sign in is taken");

  const real = await forgot(page, STAFF.username);
  assert.equal(real, `If ${STAFF.username} has an e-mail address, a link to set a new password is on its way. No e-mail address? Ask an owner for a reset link.`);
  const madeUp = `nobody-${Date.now()}`;
  const invented = await forgot(page, madeUp);
  assert.equal(invented.replace(madeUp, "NAME"), real.replace(STAFF.username, "NAME"), "the answer tells the two apart");
  assert.deepEqual(await overflowing(page), [], "the sign-in page sticks out sideways on a phone");
  await screenshot(page, "admin-login-forgot");
});

test("an owner makes yard a reset link on the Users page; with it yard sets a new password, signs in with it, and the old one no longer works", async (t) => {
  const owner = await apiAs(t, OWNER);
  try {
    await resetOnPage(t);
  } finally {
    // yard's password is the demo's again, for the other tests.
    await owner("PATCH", `/api/v1/users/${STAFF.username}`, { password: STAFF.password });
  }
});

/** The owner makes yard's reset link on the Users page; yard uses it in a browser of its own. */
async function resetOnPage(t) {
  const page = await openPage(t);
  await signIn(page, OWNER, "/admin/users");
  const row = page.locator("main table tbody tr").filter({ has: page.locator("strong", { hasText: new RegExp(`^${STAFF.username}$`) }) });
  await row.getByRole("button", { name: "Reset link" }).click();
  const shown = row.locator(".reset-link .message.ok");
  await waitForText(shown, "valid until");
  const link = (await shown.locator(".secret").textContent()).trim();
  assert.match(link, new RegExp(`^${BASE.replace(/[.]/g, "\\.")}/reset#\\S+$`));
  assert.ok(await shown.getByRole("button", { name: "Copy" }).isVisible(), "no Copy button");
  // The demo shop sends no mail: nothing to e-mail the link with.
  assert.equal(await row.getByRole("button", { name: "E-mail reset link" }).count(), 0);

  const newPassword = `gravel-pit-${Date.now()}`;
  const yard = await openPage(t);
  await yard.goto(link);
  const reset = yard.locator("#reset");
  await reset.locator("[name=password]").fill(newPassword);
  await reset.locator("[name=again]").fill(newPassword);
  await reset.locator("[type=submit]").click();
  await yard.locator("#done:not([hidden]), #message:not(:empty)").first().waitFor();
  assert.ok(await yard.locator("#done").isVisible(), `the new password was refused: ${await yard.locator("#message").textContent()}`);
  await yard.locator("#done a").click();
  await yard.waitForURL((url) => url.pathname === "/admin/login");
  await signIn(yard, { username: STAFF.username, password: newPassword });
  assert.equal(new URL(yard.url()).pathname, "/admin");
  await waitForText(yard.locator("#who"), STAFF.username);

  const old = await yard.request.post("/api/v1/auth/login", { data: STAFF, headers: { origin: BASE } });
  assert.equal(old.status(), 401, "the old password still signs in");
  // The link works once.
  const again = await openPage(t);
  await again.goto(link);
  await again.locator("#reset [name=password]").fill(`${newPassword}-2`);
  await again.locator("#reset [name=again]").fill(`${newPassword}-2`);
  await again.locator("#reset [type=submit]").click();
  await again.locator("#message.error").filter({ hasText: /\S/ }).waitFor();
  assert.ok(await again.locator("#done").isHidden(), "a used link set a password");
}

test("on a shop that sends mail, a customer is told their quote's link was e-mailed; the owner sees it queued with its error, sends a test message, and e-mails a new link", async (t) => {
  const shop = await shopWithMail();
  const email = `builder-${Date.now()}@example.com`;

  // The storefront: a quote saved with an e-mail address.
  const customer = await saveQuoteOnStorefront(t, shop, email);
  await waitForText(customer.locator("main.quote p.keep"), "Keep this page's address");
  const number = /(Q-\d{4}-\d{4})/.exec(await customer.locator("main.quote .meta h2").textContent())[1];
  // Said once: not again when the page is opened later.
  await customer.reload();
  // The page's script has run once the status is in words.
  await waitForText(customer.locator("main.quote .meta"), "Open — valid until");
  assert.equal(await customer.locator("main.quote p.mailed").count(), 0, "the e-mail is mentioned again");

  // The owner's Mail page: the message queued, then its first attempt's error.
  const page = await openPage(t, { base: shop.url });
  await signIn(page, OWNER, "/admin/mail");
  assert.equal(await page.locator("#mail-off").count(), 0, "a shop with mail says mail is off");
  const row = page.locator("#outbox tbody tr").filter({ hasText: email });
  await waitForText(row, `Your quote ${number}`);
  await waitForText(row.locator(".badge"), "Queued");
  await waitForText(row, "Quote link");
  // Left open, the page looks again while mail is queued: the attempt and its error come in.
  await page.waitForFunction((to) => {
    const tr = [...document.querySelectorAll("#outbox tbody tr")].find((r) => r.textContent.includes(to));
    const cell = (name) => [...(tr?.cells ?? [])].find((td) => td.dataset.label === name)?.textContent.trim() ?? "";
    return Number(cell("Attempts")) >= 1 && cell("Last error") !== "";
  }, email, { timeout: 30_000 });
  assert.match(await row.locator("td[data-label='Sent / next try']").textContent(), /next try/);

  // A test message is queued and listed.
  const testTo = `test-${Date.now()}@example.com`;
  const form = page.locator("#mail-test");
  await form.locator("[name=to]").fill(testTo);
  await form.getByRole("button", { name: "Send a test message" }).click();
  await waitForText(page.locator("main .message.ok"), `A test message to ${testTo} is queued`);
  const testRow = page.locator("#outbox tbody tr").filter({ hasText: testTo });
  await waitForText(testRow, "Test message");
  await waitForText(testRow.locator(".badge"), "Queued");
  await screenshot(page, "admin-mail");

  // The quote's page: a new link e-mailed, and shown to copy too.
  page.on("dialog", (dialog) => dialog.accept());
  await page.goto(`/admin/quote?number=${encodeURIComponent(number)}`);
  await page.locator("#email-link").click();
  await waitForText(page.locator("main .message.ok"), `A new link was e-mailed to ${email}`);
  const link = await page.locator("#customer-link").inputValue();
  assert.ok(link.startsWith(`${shop.url}/q/`), link);
  const owner = await apiAs(t, OWNER, { base: shop.url });
  const { items } = await owner("GET", "/api/v1/mail?limit=50");
  assert.equal(items.filter((m) => m.to === email && m.kind === "quote_link").length, 2, "two links were e-mailed to the customer");
});

test("on a shop that sends mail, staff saving a quote are told its link was e-mailed, and an owner e-mails yard a reset link once yard has an address", async (t) => {
  const shop = await shopWithMail();
  const email = `caller-${Date.now()}@example.com`;
  const staff = await openPage(t, { base: shop.url });
  await signIn(staff, STAFF, "/admin/quotes?new=1");
  const form = staff.locator("#new-quote");
  await form.locator("[name='contact.name']").fill("Mailed Caller");
  await form.locator("[name='contact.email']").fill(email);
  await staff.locator("#product-search").fill("SAND-04");
  await staff.locator("#product-search").press("Enter");
  await staff.locator('#quote-lines tr[data-sku="SAND-04"]').waitFor();
  await staff.locator("#save-quote").click();
  await staff.waitForURL((url) => url.pathname === "/admin/quote");
  await waitForText(staff.locator("#link-mailed"), `The link was e-mailed to ${email}.`);
  await waitForText(staff.locator("main .message.ok"), "Copy the customer's link below");
  assert.ok(await staff.locator("#customer-link").isVisible(), "the link is not shown to copy");

  // The Users page: yard gets an address, then a reset link by e-mail.
  const yardEmail = `yard-${Date.now()}@example.com`;
  const page = await openPage(t, { base: shop.url, viewport: PHONE });
  await signIn(page, OWNER, "/admin/users");
  const row = () => page.locator("main table tbody tr").filter({ has: page.locator("strong", { hasText: new RegExp(`^${STAFF.username}$`) }) });
  await row().getByText("E-mail address", { exact: true }).click();
  await row().locator("input[name=email]").fill(yardEmail);
  await row().getByRole("button", { name: "Save address" }).click();
  await waitForText(page.locator("main .message.ok"), `The e-mail address of ${STAFF.username} is now ${yardEmail}.`);
  await waitForText(row().locator("td").nth(2), yardEmail);
  await row().getByRole("button", { name: "E-mail reset link" }).click();
  await waitForText(row().locator(".reset-link .message.ok"), `E-mailed to ${yardEmail}.`);
  assert.deepEqual(await overflowing(page), [], "the Users page sticks out sideways on a phone");
  await screenshot(page, "admin-users-mail");

  const owner = await apiAs(t, OWNER, { base: shop.url });
  const { items } = await owner("GET", "/api/v1/mail?limit=50");
  assert.ok(items.some((m) => m.to === yardEmail && m.kind === "password_reset"), "no reset link queued for yard");
  // Removed again: the list says none, and the e-mail button goes.
  await row().getByText("E-mail address", { exact: true }).click();
  await row().locator("input[name=email]").fill("");
  await row().getByRole("button", { name: "Save address" }).click();
  await waitForText(page.locator("main .message.ok"), `${STAFF.username} has no e-mail address now.`);
  await waitForText(row().locator("td").nth(2), "none");
  assert.equal(await row().getByRole("button", { name: "E-mail reset link" }).count(), 0);

  // The Mail page on a phone: the outbox as cards, nothing sticking out.
  await page.goto("/admin/mail");
  await page.locator("#outbox table").waitFor();
  await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
  assert.deepEqual(await overflowing(page), [], "the Mail page sticks out sideways on a phone");
  await screenshot(page, "admin-mail");
});

test("on the demo shop, which sends no mail, the Mail page says mail is off and how to turn it on, and a quote's page offers no e-mail button", async (t) => {
  const page = await openPage(t);
  await signIn(page, OWNER, "/admin/mail");
  const off = page.locator("#mail-off");
  await waitForText(off, "Mail is off");
  await waitForText(off, "QUARRY_MAIL_SMTP_URL");
  await waitForText(off, "smtp_url");
  assert.equal(await page.locator("#mail-test").count(), 0, "a test message is offered without mail");
  await waitForText(page.locator("#nav a[aria-current=page]"), "Mail");

  const staff = await apiAs(t, STAFF);
  const quote = await staff("POST", "/api/v1/quotes", {
    lines: [{ sku: "SAND-04", quantity: "1", unit: "t" }],
    contact: { name: "No Mail Builder", email: "nomail@example.com" },
  });
  assert.equal(quote.mail?.state, "not_configured");
  await page.goto(`/admin/quote?number=${encodeURIComponent(quote.number)}`);
  await page.locator("#new-link").waitFor();
  assert.equal(await page.locator("#email-link").count(), 0, "an e-mail button on a shop without mail");
  await staff("POST", `/api/v1/quotes/${encodeURIComponent(quote.number)}/cancel`);

  // Staff do not see the Mail page.
  const yard = await openPage(t);
  await signIn(yard, STAFF, "/admin/mail");
  await yard.locator("main .message.info").waitFor();
  assert.equal(await yard.locator("#nav a[href='/admin/mail']").count(), 0);
  assert.equal(await yard.locator("#outbox").count(), 0);
});

/** A free loopback port (bound, then let go). */
function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A real SMTP server (aiosmtpd, tests/mail/sink.py) on a free port: what it received, as JSON. */
async function startSink() {
  const python = process.env.E2E_AIOSMTPD ?? assert.fail("E2E_AIOSMTPD is not set: run the tests with scripts/e2e");
  const port = await freePort();
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), "quarry-sink-")), "received.jsonl");
  const script = fileURLToPath(new URL("../mail/sink.py", import.meta.url));
  const child = spawn(python, [script, String(port), out], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    child.stdout.once("data", (data) => (String(data).includes("ready") ? resolve() : reject(new Error(String(data)))));
    child.once("exit", (code) => reject(new Error(`the SMTP server exited (${code}) before it was ready`)));
  });
  const received = () => {
    try {
      return readFileSync(out, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
    } catch {
      return [];
    }
  };
  return { port, received, stop: () => child.kill() };
}

test("a customer receives their quote's link by e-mail from a real mail server, and the link opens their quote in another browser", async (t) => {
  const sink = await startSink();
  t.after(() => sink.stop());
  const shop = await startDemo("mailed", {
    QUARRY_MAIL_SMTP_URL: `smtp://127.0.0.1:${sink.port}?tls=none`,
    QUARRY_MAIL_FROM: "Yard <shop@example.com>",
  });
  t.after(() => shop.stop());
  const email = `mailed-${Date.now()}@example.com`;

  const customer = await saveQuoteOnStorefront(t, shop, email);
  const number = /(Q-\d{4}-\d{4})/.exec(await customer.locator("main.quote .meta h2").textContent())[1];

  // The message arrives at the mail server, to the customer, about that quote.
  let mail;
  for (let waited = 0; !mail && waited < 20_000; waited += 100) {
    mail = sink.received().find((m) => m.rcpt_tos.includes(email));
    if (!mail) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(mail, `no message to ${email} arrived: ${JSON.stringify(sink.received())}`);
  assert.equal(mail.from, "Yard <shop@example.com>");
  assert.match(mail.subject, new RegExp(`${number}`));
  assert.match(mail.text, /^Hello Mailed Builder,/);
  const link = mail.text.split(/\r?\n/).find((line) => line.includes("/q/"))?.trim();
  assert.ok(link?.startsWith(`${shop.url}/q/`), `the link points at this shop: ${link}`);
  assert.ok(mail.html.includes(`href="${link}"`), mail.html);

  // Opened elsewhere (another browser, no storage shared), it shows the quote.
  const elsewhere = await openPage(t, { base: shop.url });
  await elsewhere.goto(link);
  await waitForText(elsewhere.locator("main.quote .meta h2"), number);
  await waitForText(elsewhere.locator("main.quote"), "Washed sand");
  await screenshot(elsewhere, "mail-link-opened");
  assert.equal(sink.received().filter((m) => m.rcpt_tos.includes(email)).length, 1, "sent once");
});
