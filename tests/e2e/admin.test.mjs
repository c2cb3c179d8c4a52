// The back office: sign-in, what stays closed without it, the product form's
// errors, and screenshots of its main pages.
import assert from "node:assert/strict";
import { test } from "node:test";
import { request } from "playwright-core";
import { BASE, OWNER, PHONE, STAFF, apiAs, openPage, screenshot, setField, signIn, waitForText } from "./support.mjs";

for (const path of ["/admin", "/admin/stock"]) {
  test(`${path} without signing in ends on the login page and shows no admin data`, async (t) => {
    const page = await openPage(t);
    await page.goto(path);
    await page.waitForURL((url) => url.pathname === "/admin/login");
    assert.equal(new URL(page.url()).searchParams.get("next"), path);
    await page.locator("#login").waitFor();
    assert.equal(await page.locator("#nav").count(), 0, "the admin nav is on the login page");
  });
}

test("a wrong password is answered on the login page", async (t) => {
  const page = await openPage(t);
  await page.goto("/admin/login");
  const form = page.locator("#login");
  await form.waitFor();
  await screenshot(page, "admin-login");
  await form.locator("[name=username]").fill(STAFF.username);
  await form.locator("[name=password]").fill("not-the-password");
  await form.locator("[type=submit]").click();
  await page.locator("#message[role=alert]").filter({ hasText: /\S/ }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/admin/login");
  await screenshot(page, "admin-login-error");
});

test("signing in opens the dashboard, and signing out closes it", async (t) => {
  const page = await openPage(t);
  await signIn(page, OWNER);
  assert.equal(new URL(page.url()).pathname, "/admin");
  await page.locator("#nav a").first().waitFor();
  await page.locator("#main").waitFor();
  await screenshot(page, "admin-dashboard");

  const loggedOut = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/logout"));
  await page.locator("#logout").click();
  assert.ok((await loggedOut).ok(), "signing out failed");
  // The page goes to the sign-in page by itself; wait for that before
  // asking for the dashboard again, or the two navigations race.
  await page.waitForURL((url) => url.pathname === "/admin/login");
  await page.goto("/admin");
  await page.waitForURL((url) => url.pathname === "/admin/login");
});

test("signing in with next= returns to the stock form", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/stock");
  assert.equal(new URL(page.url()).pathname, "/admin/stock");
  const form = page.locator("#movement");
  await form.waitFor();
  for (const kind of ["receive", "ship", "transfer", "adjust"]) {
    assert.equal(await form.locator(`select[name=kind] option[value=${kind}]`).count(), 1, `no ${kind} kind`);
  }
  await form.locator("select[name=location] option[value=YARD]").waitFor({ state: "attached" });
  await screenshot(page, "admin-stock");
});

test("the products list shows the catalogue", async (t) => {
  const page = await openPage(t);
  await signIn(page, OWNER, "/admin/products");
  await waitForText(page.locator("#main"), /[A-Z]+-[A-Z0-9]+/); // a SKU
  await screenshot(page, "admin-products");
});

test("the products list filters by a category picked from the list of every category, each with its count", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/products");
  const category = page.locator("select[name=category]");
  await category.locator("option[value='Aggregates/Sand']").waitFor({ state: "attached" });
  const options = await category.locator("option").evaluateAll((all) => all.map((o) => [o.value, o.textContent]));
  assert.ok(options.some(([value]) => value === "Aggregates"), `options: ${options}`);
  const [, sandLabel] = options.find(([value]) => value === "Aggregates/Sand");
  const counted = Number(/\((\d+)\)/.exec(sandLabel)?.[1]);
  assert.ok(counted > 0 && sandLabel.trim().startsWith("Sand"), `the option reads "${sandLabel}"`);

  await category.selectOption("Aggregates/Sand");
  await page.waitForURL((url) => url.searchParams.get("category") === "Aggregates/Sand");
  await page.waitForFunction((n) => {
    const rows = [...document.querySelectorAll("#products tbody tr")];
    return rows.length === n && rows.every((row) => row.cells[3]?.textContent === "Aggregates/Sand");
  }, Math.min(counted, 50));

  // The address keeps the filter: a reload shows the same list, picked.
  await page.reload();
  await page.locator("#products tbody tr").first().waitFor();
  assert.equal(await page.locator("select[name=category]").inputValue(), "Aggregates/Sand");
});

test("a product the server rejects shows the error at the field and keeps what was typed", async (t) => {
  const page = await openPage(t);
  await signIn(page, OWNER, "/admin/product");
  const form = page.locator("#product-form");
  // A duplicate SKU: valid to the browser, so only the API can catch it.
  const typed = { sku: "SAND-04", name: "Sand typed twice", category: "Aggregates/Sand", unit: "t", price: "12.50" };
  for (const [name, value] of Object.entries(typed)) await setField(form.locator(`[name=${name}]`), value);
  await form.locator("[type=submit]").click();

  await waitForText(form.locator(".field-error"), "SAND-04");
  assert.equal(await form.locator(".field-error").count(), 1, "one mistake, one error shown");
  await page.locator("#product-message").filter({ hasText: /\S/ }).waitFor();
  for (const [name, value] of Object.entries(typed)) {
    assert.equal(await form.locator(`[name=${name}]`).inputValue(), value, `the ${name} field lost its input`);
  }
  await screenshot(page, "admin-product-error");
});

test("a session that ends behind the stock form's back keeps what was typed, and books once signed in again", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/stock");
  const form = page.locator("#movement");
  await form.locator("select[name=location] option[value=YARD]").waitFor({ state: "attached" });
  await form.locator("select[name=kind]").selectOption("receive");
  await form.locator("select[name=location]").selectOption("YARD");
  await form.locator("[name=reference]").fill("E2E-EXPIRY");
  await page.locator("#scan").fill("ADH-C2TE");
  await page.locator("#scan").press("Enter");
  const line = page.locator('#movement-lines tbody tr[data-sku="ADH-C2TE"]');
  await line.waitFor();

  // Sign out with the page's own cookie, as another tab (or expiry) would.
  const api = page.context().request;
  const who = await api.get("/api/v1/auth/me");
  assert.equal(who.status(), 200, `GET /auth/me: ${await who.text()}`);
  const { csrf_token: csrf } = await who.json();
  const out = await api.post("/api/v1/auth/logout", { headers: { origin: new URL(page.url()).origin, "x-csrf-token": csrf } });
  assert.equal(out.status(), 204, `POST /auth/logout: ${await out.text()}`);

  const ended = page.locator("#session-ended[role=alert]");
  await page.locator("#book").click();
  await ended.waitFor();
  assert.equal(new URL(page.url()).pathname, "/admin/stock", "the page left the stock form");
  assert.equal(await form.locator("[name=reference]").inputValue(), "E2E-EXPIRY", "the reference was lost");
  assert.equal(await line.count(), 1, "the line was lost");
  await screenshot(page, "admin-session-ended");

  // Sign in again in another tab of the same browser, then carry on here.
  const other = await page.context().newPage();
  await signIn(other, STAFF);
  await other.close();
  await page.locator("#retry-session").click();
  await ended.waitFor({ state: "hidden" });
  await page.locator("#book").click();
  await waitForText(page.locator("#movement-message"), "Booked");
  assert.equal(await line.count(), 0, "the booked line is still in the form");
});

test("after signing in again in another tab, Book works at once: the page takes the new session's CSRF token", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/stock");
  await page.locator("#movement select[name=location] option[value=YARD]").waitFor({ state: "attached" });
  await page.locator("#movement select[name=kind]").selectOption("receive");
  await page.locator("#scan").fill("ADH-C2TE");
  await page.locator("#scan").press("Enter");
  await page.locator('#movement-lines tbody tr[data-sku="ADH-C2TE"]').waitFor();

  // Signing in again in the same browser (here through its cookie jar, as the
  // sign-in page of another tab would) replaces the session and its CSRF token.
  const login = await page.context().request.post("/api/v1/auth/login", {
    data: STAFF,
    headers: { origin: new URL(page.url()).origin },
  });
  assert.equal(login.status(), 200, `POST /auth/login: ${await login.text()}`);
  await page.locator("#book").click();
  await waitForText(page.locator("#movement-message"), "Booked");
  assert.ok(await page.locator("#session-ended").isHidden(), "the session-ended banner is shown");
});

test("staff import a products file from the Data page, watch its progress, and get the report", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/data");
  const rows = Array.from({ length: 3000 }, (_, i) => `E2E-${String(i).padStart(4, "0")},Test bracket ${i},Tools,pc,${(i % 9) + 1}.25`);
  const csv = ["sku,name,category,unit,price", ...rows].join("\n") + "\n";
  await page.locator("select[name=kind]").selectOption("products");
  await page.locator("input[name=file]").setInputFiles({ name: "brackets.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  // The bar may come and go quickly: note every label it showed.
  await page.evaluate(() => {
    window.meterLabels = new Set();
    new MutationObserver(() => {
      const label = document.querySelector(".meter:not([hidden]) span[id]");
      if (label?.textContent) window.meterLabels.add(label.textContent);
    }).observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true });
  });
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await waitForText(page.locator(".message.ok"), "Imported.");
  const created = page.locator("table tr", { hasText: "Created" });
  await waitForText(created, "3000");
  const labels = await page.evaluate(() => [...window.meterLabels]);
  assert.ok(labels.includes("Uploading…"), `the upload's progress was not shown: ${labels}`);
  // The job was followed: it was seen running, or at least ending.
  assert.ok(labels.some((l) => l === "Importing…" || l === "Done."), `the import's progress was not shown: ${labels}`);
  assert.ok(await page.locator(".meter").isHidden(), "the progress bar stayed after the import");
  const product = await page.context().request.get("/api/v1/products/E2E-2999");
  assert.equal(product.status(), 200);
});

test("an owner backs up from the Data page and the new file is listed", async (t) => {
  const page = await openPage(t);
  await signIn(page, OWNER, "/admin/data");
  await page.getByRole("button", { name: "Back up now" }).click();
  const message = page.locator(".message.ok", { hasText: "Backup quarry-" });
  await message.waitFor();
  const name = (await message.textContent()).match(/Backup (\S+\.qbk)/)[1];
  await page.locator(`a[download]`, { hasText: name }).waitFor();
  await screenshot(page, "admin-data");
});

test("on a phone in the yard, staff scan a line into the stock form and no back-office page scrolls sideways", async (t) => {
  const page = await openPage(t, { viewport: PHONE });
  await signIn(page, STAFF, "/admin/stock");
  await page.locator("#movement select[name=location] option[value=YARD]").waitFor({ state: "attached" });
  await page.locator("#scan").fill("ADH-C2TE");
  await page.locator("#scan").press("Enter");
  await page.locator('#movement-lines tbody tr[data-sku="ADH-C2TE"]').waitFor();
  const wide = [];
  const check = async (name) => {
    const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
    if (width > PHONE.width) wide.push(`${name}: ${width} px`);
    await screenshot(page, `admin-${name}`);
  };
  await check("stock");
  for (const name of ["", "products", "history", "quotes", "data"]) {
    await page.goto(`/admin${name ? `/${name}` : ""}`);
    await page.locator("main h1").first().waitFor();
    // Lists mark themselves busy while they load.
    await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
    await check(name || "dashboard");
  }
  assert.deepEqual(wide, [], `pages wider than a ${PHONE.width} px phone`);
});

test("staff accept a saved quote, then fulfil it, from its back-office page", async (t) => {
  const api = await apiAs(t, STAFF);
  const quote = await api("POST", "/api/v1/quotes", {
    lines: [{ sku: "SAND-04", quantity: "0.5", unit: "t" }],
    contact: { name: "E2E Builder", email: "builder@example.com" },
    hold_stock: true,
  });
  const page = await openPage(t);
  page.on("dialog", (dialog) => dialog.accept());
  await signIn(page, STAFF, `/admin/quote?number=${quote.number}`);
  const message = page.locator("main .message[role=status]");
  await page.getByRole("button", { name: "Accept" }).click();
  await waitForText(message, `${quote.number} accepted`);
  await page.getByRole("button", { name: "Fulfil" }).click();
  await waitForText(message, `${quote.number} fulfilled`);
  await waitForText(page.locator("h1 .badge"), "fulfilled");
  assert.equal(await page.getByRole("button", { name: "Fulfil" }).count(), 0, "a fulfilled quote still offers Fulfil");
  const { items } = await api("GET", `/api/v1/movements?reference=${encodeURIComponent(quote.number)}`);
  assert.ok(items.some((m) => m.kind === "ship"), `no shipment booked for ${quote.number}: ${JSON.stringify(items.map((m) => m.kind))}`);
});

test("staff give a customer who lost their link a new one: it opens the quote and the old one no longer does", async (t) => {
  const api = await apiAs(t, STAFF);
  const quote = await api("POST", "/api/v1/quotes", {
    lines: [{ sku: "SAND-04", quantity: "1", unit: "t" }],
    contact: { name: "E2E Lost Link", phone: "+44 1234 567890" },
  });
  const page = await openPage(t);
  page.on("dialog", (dialog) => dialog.accept());
  await signIn(page, STAFF, `/admin/quote?number=${quote.number}`);
  await waitForText(page.locator("main"), "not kept");
  await page.locator("#new-link").click();
  await waitForText(page.locator("main .message[role=status]"), "new link");
  const link = await page.locator("#customer-link").inputValue();
  assert.notEqual(link, quote.link);
  assert.ok(link.startsWith(`${BASE}/q/`), link);
  assert.equal((await page.request.get(quote.link)).status(), 404, "the old link still opens the quote");

  const customer = await openPage(t);
  await customer.goto(new URL(link).pathname);
  await waitForText(customer.locator("main.quote h2"), quote.number);
  await waitForText(customer.locator("main.quote p.keep"), "Keep this page's address");
});

test("an owner makes a viewer token, sees its secret once, and the token reads but cannot manage", async (t) => {
  const page = await openPage(t);
  await signIn(page, OWNER, "/admin/users");
  const name = `e2e-${Date.now()}`;
  await page.locator("input[name=name]").fill(name);
  await page.getByRole("button", { name: "Make token" }).click();
  const shown = page.locator(".secret");
  await waitForText(page.locator(".message.ok strong"), `Token ${name} made`);
  const secret = (await shown.textContent()).trim();
  assert.ok(secret.length >= 32, `the secret looks too short: ${secret}`);
  await page.locator("table tr", { hasText: name }).waitFor();

  const api = await request.newContext({ baseURL: BASE, extraHTTPHeaders: { authorization: `Bearer ${secret}` } });
  t.after(() => api.dispose());
  assert.equal((await api.get("/api/v1/stock/value")).status(), 200);
  assert.equal((await api.get("/api/v1/users")).status(), 403);
});

test("checking a file with bad rows lists them and offers every one of them to download", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/data");
  const rows = Array.from({ length: 1200 }, (_, i) => `E2E-BAD-${i},Bad bracket ${i},Tools,pc,cheap`);
  const csv = ["sku,name,category,unit,price", ...rows].join("\n") + "\n";
  await page.locator("select[name=kind]").selectOption("products");
  await page.locator("input[name=file]").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Check file" }).click();
  await waitForText(page.locator("h3"), "The first 1000 bad rows");
  const link = page.getByRole("link", { name: "Download all 1200 bad rows (CSV)" });
  const href = await link.getAttribute("href");
  const download = await page.context().request.get(href);
  assert.equal(download.status(), 200);
  const lines = (await download.text()).trim().split("\n");
  assert.equal(lines.length, 1201, "a header and every bad row");
  assert.equal(lines[0], "row,column,reason");
});

test("an import that writes nothing says what it would have created, never \"Created\"", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/data");
  const sku = `E2E-NW-${Date.now()}`;
  const choose = (rows) => page.locator("input[name=file]").setInputFiles({
    name: "some.csv", mimeType: "text/csv", buffer: Buffer.from(["sku,name,category,unit,price", ...rows].join("\n") + "\n"),
  });
  const counts = () => page.locator("table:has(caption:text('Counts')) tbody tr").evaluateAll((rows) =>
    rows.map((tr) => [...tr.cells].map((td) => td.textContent.trim()).join(": ")));
  await page.locator("select[name=kind]").selectOption("products");

  // One good row and one bad, without "write the good rows": nothing is written.
  await choose([`${sku},Good bracket,Tools,pc,1.25`, `${sku}-BAD,Bad bracket,Tools,pc,cheap`]);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await waitForText(page.locator("main .message"), "Nothing was written");
  assert.deepEqual(await counts(), ["Rows read: 2", "Would have created (nothing created): 1", "Rows refused: 1"]);
  assert.equal((await page.context().request.get(`/api/v1/products/${sku}`)).status(), 404, "the good row was written");

  // A check of a good file: it would create, and says so.
  await choose([`${sku},Good bracket,Tools,pc,1.25`]);
  await page.getByRole("button", { name: "Check file" }).click();
  await waitForText(page.locator("main .message"), "Checked: every row is good");
  assert.deepEqual(await counts(), ["Rows read: 1", "Would create: 1", "Rows refused: 0"]);
});

test("a token name used twice is refused alone, without the first token's success beside it, and lists of one page offer no pager", async (t) => {
  const page = await openPage(t);
  await signIn(page, OWNER, "/admin/users");
  const name = `e2e-twice-${Date.now()}`;
  const form = page.locator("form", { has: page.locator("input[name=expires_in_days]") });
  await form.locator("input[name=name]").fill(name);
  await form.getByRole("button", { name: "Make token" }).click();
  await waitForText(page.locator(".message.ok strong"), `Token ${name} made`);
  await form.locator("input[name=name]").fill(name);
  await form.getByRole("button", { name: "Make token" }).click();
  await page.locator(".message.error").filter({ hasText: /\S/ }).waitFor();
  assert.equal(await page.locator(".secret").count(), 0, "the first token's secret is still shown beside the error");
  assert.equal(await page.locator(".message.ok").count(), 0, "a success is still shown beside the error");

  // The demo has two users: one page, so no Previous or Next.
  const users = page.locator("section.card", { has: page.locator("h2", { hasText: /^Users$/ }) });
  await users.locator("table").waitFor();
  const buttons = users.locator(".pager button");
  assert.deepEqual(await buttons.allTextContents(), ["Previous", "Next"]);
  assert.ok(await buttons.nth(0).isHidden(), "Previous is shown for a single page");
  assert.ok(await buttons.nth(1).isHidden(), "Next is shown for a single page");
  // A long list still pages.
  await page.goto("/admin/history");
  await page.locator("#history table").waitFor();
  const next = page.locator("#main").getByRole("button", { name: "Next" });
  assert.ok(await next.isVisible(), "the history's Next is hidden");
  await next.click();
  await waitForText(page.locator(".pager"), "Page 2");
  assert.ok(await page.locator("#main").getByRole("button", { name: "Previous" }).isEnabled());
});

test("the product form marks every required field left empty, offers the existing categories, and says Created where it is seen", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/product");
  const form = page.locator("#product-form");
  await form.waitFor();
  let posted = 0;
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/api/v1/products") posted += 1;
  });

  await form.locator("[type=submit]").click();
  await waitForText(page.locator("#product-message"), "required");
  const marked = await form.locator("[aria-invalid=true]").evaluateAll((fields) => fields.map((f) => f.name));
  assert.deepEqual(marked, ["sku", "name", "category", "price"]);
  assert.equal(await form.locator(".field-error").count(), 4, "one note per empty field");
  assert.equal(await page.evaluate(() => document.activeElement?.name), "sku", "the first empty field has the focus");
  assert.equal(posted, 0, "a form with empty required fields was sent");

  // Categories come from the catalogue, every level.
  await form.locator("[name=category]").evaluate((input) => input.list?.id).then((id) => assert.equal(id, "category-list"));
  await page.waitForFunction(() => [...document.querySelectorAll("#category-list option")].some((o) => o.value === "Aggregates/Sand"));
  const offered = await page.locator("#category-list option").evaluateAll((options) => options.map((o) => o.value));
  assert.ok(offered.includes("Aggregates") && offered.includes("Timber"), `categories offered: ${offered}`);
  assert.equal(new Set(offered).size, offered.length, `a category offered twice: ${offered}`);

  const sku = `E2E-FORM-${Date.now()}`;
  for (const [name, value] of Object.entries({ sku, name: "Form bracket", category: "Tools", price: "3.50" })) {
    await setField(form.locator(`[name=${name}]`), value);
  }
  // Filled in now: the marks go with the next try.
  await form.locator("[type=submit]").click();
  await page.waitForURL((url) => url.searchParams.get("sku") === sku && !url.searchParams.has("created"));
  const notice = page.locator("#product-notice");
  await waitForText(notice, `Created ${sku}`);
  const box = await notice.boundingBox();
  const height = page.viewportSize().height;
  assert.ok(box.y >= 0 && box.y + box.height <= height, `"Created" is out of view, at ${box.y} px of ${height}`);
  const formTop = (await form.boundingBox()).y;
  assert.ok(box.y < formTop, "\"Created\" is below the form");
});
