// Shelf labels: products ticked in the Products list (or a location's stock)
// laid out on A4 sheets of 3 × 8 or a 62 mm roll and printed. The printed
// codes must scan: a label is photographed at three device pixels a CSS
// pixel and read back with zbarimg (zbar-tools, installed by scripts/e2e):
// a demo product's EAN-13, the SKU in Code 128 of a product without a
// barcode, and the QR code to each one's storefront page.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { request } from "playwright-core";
import { BASE, OUT, STAFF, apiAs, openPage, screenshot, signIn, waitForText } from "./support.mjs";

/** A demo product with a valid EAN-13, and two more to fill sheets with. */
const SAND = { sku: "SAND-04", ean: "2000000000015" };
const MORE = ["ADH-C2TE", "ADH-000019"];

/**
 * The codes zbarimg reads in the image `file`: lines like "EAN-13:…",
 * "CODE-128:…", "QR-Code:…". Fails (never skips) when zbarimg is missing.
 */
function decode(file) {
  const run = spawnSync("zbarimg", ["--quiet", file], { encoding: "utf8" });
  if (run.error?.code === "ENOENT") assert.fail("zbarimg is not installed: install zbar-tools (scripts/e2e does) to check that labels scan");
  if (run.error) throw run.error;
  // 0: codes found; 4: none found (an empty answer, for the assertions to name).
  assert.ok(run.status === 0 || run.status === 4, `zbarimg ${file} exited ${run.status}: ${run.stderr}`);
  return run.stdout.split("\n").map((line) => line.trim()).filter(Boolean);
}

/** A file for a screenshot, in E2E_OUT. */
function shot(name) {
  mkdirSync(OUT, { recursive: true });
  return path.join(OUT, `${name}.png`);
}

/** The pages of a PDF and their sizes in points: pages are `/Type /Page`, not `/Pages`. */
function pdfPages(pdf) {
  const text = pdf.toString("latin1");
  const pages = text.match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? [];
  const boxes = [...text.matchAll(/\/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]/g)]
    .map((m) => [Number(m[3]) - Number(m[1]), Number(m[4]) - Number(m[2])]);
  return { count: pages.length, boxes };
}

/** Points from millimetres. */
const pt = (mm) => (mm * 72) / 25.4;

/** The labels drawn on the page (not the places a sheet leaves empty). */
const labelsOn = (page) => page.locator(".label-sheet .label[data-sku]");

/**
 * A product made for this test without a barcode (so its label carries the
 * SKU in Code 128), priced per bag of 25 kg, with a name too long for two
 * lines; archived again when the test ends.
 */
async function productWithoutBarcode(t) {
  const call = await apiAs(t, STAFF);
  const sku = `LBL-${Date.now().toString(36).toUpperCase()}`;
  const product = await call("POST", "/api/v1/products", {
    sku,
    name: "Label test Portland cement CEM I 52.5 N, rapid hardening, for precast and repair work, 25 kg",
    brand: "Quarry Test",
    category: "Cement and mortar/Cement",
    unit: "kg",
    price: "8.50",
    packs: [{ name: "bag", quantity: "25", unit: "kg" }],
    pricing_unit: "bag",
  });
  assert.equal(product.barcode, null);
  t.after(async () => {
    const api = await request.newContext({ baseURL: BASE, extraHTTPHeaders: { origin: BASE } });
    try {
      const login = await api.post("/api/v1/auth/login", { data: STAFF });
      const { csrf_token: csrf } = await login.json();
      const gone = await api.delete(`/api/v1/products/${encodeURIComponent(sku)}`, { headers: { "x-csrf-token": csrf, "if-match": "*" } });
      assert.ok(gone.ok(), `archiving ${sku} answered ${gone.status()}`);
    } finally {
      await api.dispose();
    }
  });
  return { sku, call };
}

test("the back office has a labels page: without signing in, /admin/labels leads to the sign-in page and back", async (t) => {
  const page = await openPage(t);
  const response = await page.goto("/admin/labels?skus=SAND-04");
  assert.notEqual(response.status(), 404, "the server has no back-office page /admin/labels (its list of admin sections lacks \"labels\")");
  await page.waitForURL((url) => url.pathname === "/admin/login");
  assert.equal(new URL(page.url()).searchParams.get("next"), "/admin/labels?skus=SAND-04");
  const form = page.locator("#login");
  await form.locator("[name=username]").fill(STAFF.username);
  await form.locator("[name=password]").fill(STAFF.password);
  await form.locator("[type=submit]").click();
  await page.waitForURL((url) => url.pathname === "/admin/labels");
  await labelsOn(page).first().waitFor();
});

test("products ticked in the Products list get one label each per copy, on sheets of 24", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/products");
  const boxes = page.locator("#products input.pick:not([disabled])");
  await boxes.first().waitFor();
  const count = page.locator("#picked-count");

  // Everything on the page, then nothing again.
  const onPage = await boxes.count();
  await page.locator("#pick-page").check();
  await waitForText(count, new RegExp(`^${onPage} products ticked$`));
  assert.equal(await page.locator("#products input.pick:checked").count(), onPage);
  await page.locator("#clear-picked").click();
  await waitForText(count, /^0 products ticked$/);
  assert.ok(await page.locator("#print-picked").isDisabled(), "Print labels works with nothing ticked");

  // Three products, in the order shown.
  const skus = [];
  for (let i = 0; i < 3; i += 1) {
    const box = boxes.nth(i * 2);
    await box.check();
    skus.push(await box.getAttribute("data-sku"));
  }
  await waitForText(count, /^3 products ticked$/);
  assert.equal(await page.locator("#pick-page").evaluate((el) => el.indeterminate), true, "tick-all does not show a part ticked");
  await screenshot(page, "admin-products-ticked");
  await page.locator("#print-picked").click();
  await page.waitForURL((url) => url.pathname === "/admin/labels");
  assert.deepEqual(new URL(page.url()).searchParams.get("skus").split(","), skus);

  const labels = labelsOn(page);
  await labels.nth(2).waitFor();
  assert.deepEqual(await labels.evaluateAll((els) => els.map((el) => el.dataset.sku)), skus);
  await waitForText(page.locator("#label-summary"), "3 labels on 1 sheet.");
  // Each label names its product and its price as the shop (en-GB, EUR) writes it.
  const call = await apiAs(t, STAFF);
  const euros = new Intl.NumberFormat("en-GB", { style: "currency", currency: "EUR" });
  for (const sku of skus) {
    const product = await call("GET", `/api/v1/products/${encodeURIComponent(sku)}`);
    const label = page.locator(`.label-sheet .label[data-sku="${sku}"]`);
    assert.equal(await label.locator(".label-name").textContent(), product.name);
    const price = await label.locator(".label-price").textContent();
    assert.ok(price.startsWith(`${euros.format(Number(product.price))} / `), `the label of ${sku} shows ${price} for ${product.price}`);
  }

  // Copies: each label four times, in order.
  await page.locator("#label-copies").fill("4");
  await waitForText(page.locator("#label-summary"), "12 labels on 1 sheet.");
  assert.deepEqual(await labels.evaluateAll((els) => els.map((el) => el.dataset.sku)), skus.flatMap((sku) => [sku, sku, sku, sku]));
  // A sheet with 22 places used already: two labels on it, ten on the next.
  await page.locator("#label-skip").fill("22");
  await waitForText(page.locator("#label-summary"), "12 labels on 2 sheets.");
  const sheets = page.locator(".label-sheet");
  assert.equal(await sheets.count(), 2);
  assert.equal(await sheets.nth(0).locator(".label-skipped").count(), 22);
  assert.equal(await sheets.nth(0).locator(".label[data-sku]").count(), 2);
  assert.equal(await sheets.nth(1).locator(".label[data-sku]").count(), 10);
  // The choice is in the address: a reload shows the same.
  assert.equal(new URL(page.url()).searchParams.get("copies"), "4");
  assert.equal(new URL(page.url()).searchParams.get("skip"), "22");
  await screenshot(page, "admin-labels");

  // The ticks survive coming back to the list.
  await page.goto("/admin/products");
  await waitForText(count, /^3 products ticked$/);
});

test("a label's barcode and QR code scan: a demo product's EAN-13, and the SKU in Code 128 of a product without a barcode", async (t) => {
  const { sku, call } = await productWithoutBarcode(t);
  const sheet = await call("POST", "/api/v1/labels", { skus: [sku, SAND.sku] });
  const [made, sand] = sheet.labels;
  assert.equal(made.barcode.symbology, "code128");
  assert.equal(sand.barcode.symbology, "ean13");
  assert.equal(sand.barcode.text, SAND.ean);

  const page = await openPage(t, { scale: 3 });
  await signIn(page, STAFF, `/admin/labels?skus=${sku},${SAND.sku}`);
  const labels = labelsOn(page);
  await labels.nth(1).waitFor();

  // What the product without a barcode's label says.
  const label = labels.nth(0);
  assert.equal(await label.getAttribute("data-sku"), sku);
  assert.equal(await label.getAttribute("data-symbology"), "code128");
  await waitForText(label.locator(".label-price"), "€8.50 / bag (25 kg)");
  await waitForText(label.locator(".label-tax"), sheet.prices_include_tax ? "incl. tax" : "excl. tax");
  await waitForText(label.locator(".label-brand"), "Quarry Test");
  assert.equal(await label.locator(".label-digits").textContent(), sku);
  // A long name is cut after two lines, and stays inside its label.
  const name = await label.locator(".label-name").evaluate((el) => ({
    lines: el.getBoundingClientRect().height / Number.parseFloat(getComputedStyle(el).lineHeight),
    clipped: el.scrollHeight > el.clientHeight,
  }));
  assert.ok(name.lines <= 2.05 && name.clipped, `the name takes ${name.lines} lines (clipped: ${name.clipped})`);
  assert.equal(await labels.nth(1).locator(".label-digits").textContent(), SAND.ean);
  assert.equal(await labels.nth(1).locator(".label-sku").textContent(), SAND.sku);
  // Quarry's drawings are SVG in the page, not pictures or text.
  assert.equal(await page.locator(".label svg.label-barcode-svg").count(), 2);
  assert.equal(await page.locator(".label svg.label-qr-svg").count(), 2);

  for (const [i, expected] of [[0, made], [1, sand]]) {
    const file = shot(`label-${expected.barcode.symbology}`);
    await labels.nth(i).screenshot({ path: file, scale: "device" });
    const read = decode(file);
    const bars = expected.barcode.symbology === "ean13" ? `EAN-13:${expected.barcode.text}` : `CODE-128:${expected.barcode.text}`;
    assert.ok(read.includes(bars), `zbarimg did not read ${bars} in ${file}: ${JSON.stringify(read)}`);
    const qr = read.find((line) => line.startsWith("QR-Code:"));
    assert.ok(qr?.endsWith(`/p/${expected.sku}`), `zbarimg did not read a QR code to /p/${expected.sku} in ${file}: ${JSON.stringify(read)}`);
    assert.equal(qr, `QR-Code:${expected.url}`);
  }

  // The roll's label, narrower, scans too.
  await page.locator("#label-layout").selectOption("roll");
  await waitForText(page.locator("#label-summary"), "2 labels.");
  const file = shot("label-roll-code128");
  await labels.nth(0).screenshot({ path: file, scale: "device" });
  const read = decode(file);
  assert.ok(read.includes(`CODE-128:${sku}`) && read.includes(`QR-Code:${made.url}`), `the roll label reads ${JSON.stringify(read)}`);
});

test("printed, an A4 sheet takes 24 labels a page and the roll one label a page; the back office's navigation is not printed", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/labels?skus=${[SAND.sku, ...MORE].join(",")}&layout=a4&copies=10`);
  await waitForText(page.locator("#label-summary"), "30 labels on 2 sheets.");
  assert.equal(await labelsOn(page).count(), 30);

  const a4 = pdfPages(await page.pdf({ preferCSSPageSize: true, printBackground: true }));
  assert.equal(a4.count, 2, "30 labels on A4 are not 2 pages");
  for (const [width, height] of a4.boxes) {
    assert.ok(Math.abs(width - pt(210)) < 2 && Math.abs(height - pt(297)) < 2, `an A4 page is ${width} × ${height} pt`);
  }

  await page.locator("#label-layout").selectOption("roll");
  await page.locator("#label-copies").fill("2");
  await waitForText(page.locator("#label-summary"), "6 labels.");
  const roll = pdfPages(await page.pdf({ preferCSSPageSize: true, printBackground: true }));
  assert.equal(roll.count, 6, "6 labels on the roll are not 6 pages");
  for (const [width, height] of roll.boxes) {
    assert.ok(Math.abs(width - pt(62)) < 2 && Math.abs(height - pt(40)) < 2, `a roll page is ${width} × ${height} pt`);
  }

  // On paper: the labels alone.
  await page.emulateMedia({ media: "print" });
  for (const hidden of ["#nav", "#topbar", "main h1", "#label-choice", "#label-options", "#print-labels"]) {
    assert.ok(await page.locator(hidden).isHidden(), `${hidden} is printed`);
  }
  assert.ok(await labelsOn(page).first().isVisible(), "the labels are not printed");
  const box = await page.locator(".label-sheet").first().boundingBox();
  assert.ok(Math.abs(box.width - (62 * 96) / 25.4) < 1.5, `a printed roll label is ${box.width} px wide, not 62 mm`);
  await page.emulateMedia({ media: "screen" });
  assert.ok(await page.locator("#nav").isVisible(), "the navigation is gone from the screen");
});

test("labels for a location's stock: one for each active product with stock on hand there", async (t) => {
  const call = await apiAs(t, STAFF);
  const location = "SHOP";
  const stocked = new Set();
  let cursor = "";
  do {
    const answer = await call("GET", `/api/v1/stock?location=${location}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    for (const row of answer.items) if (Number(row.on_hand) > 0) stocked.add(row.sku);
    cursor = answer.next_cursor ?? "";
  } while (cursor);
  assert.ok(stocked.size > 0, `the demo has no stock at ${location}`);

  // From the Stock page: the location chosen, its labels a click away.
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/stock");
  const link = page.locator("#location-labels");
  assert.ok(await link.isHidden(), "labels for all locations at once are offered");
  await page.locator("#levels").waitFor();
  await page.locator("form.toolbar select[name=location]").selectOption(location);
  await waitForText(link, `Labels for ${location}’s stock`);
  await link.click();
  await page.waitForURL((url) => url.pathname === "/admin/labels" && url.searchParams.get("location") === location);
  const labels = labelsOn(page);
  await labels.first().waitFor();
  await waitForText(page.locator("#label-summary"), /^\d+ labels? on \d+ sheets?\.$/);
  const shown = await labels.evaluateAll((els) => els.map((el) => el.dataset.sku));
  assert.equal(new Set(shown).size, shown.length, "a product has two labels");
  for (const sku of shown) assert.ok(stocked.has(sku), `${sku} has a label but no stock at ${location}`);
  // The products left out are archived ones.
  for (const sku of stocked) {
    if (shown.includes(sku)) continue;
    const product = await call("GET", `/api/v1/products/${encodeURIComponent(sku)}`);
    assert.equal(product.active, false, `${sku} has stock at ${location} but no label`);
  }
  assert.equal(await page.locator(".label-sheet").count(), Math.ceil(shown.length / 24));
  assert.equal(await page.locator("#label-skus").inputValue(), "", "the location's labels came with SKUs typed");

  // The Locations page leads to the same labels.
  await page.goto("/admin/locations");
  const there = page.locator(`a.location-labels[href="/admin/labels?location=${location}"]`);
  await there.waitFor();
});

test("the labels page says what is wrong: nothing chosen, an unknown SKU, an unknown location", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/labels");
  await waitForText(page.locator("#label-empty"), "No products chosen yet");
  assert.ok(await page.locator("#print-labels").isDisabled(), "Print works with no labels");

  // An unknown SKU among known ones: the API's reason, at the box.
  const skus = page.locator("#label-skus");
  await skus.fill(`${SAND.sku}, nope-404\n${MORE[0]}`);
  await page.locator("#show-labels").click();
  await waitForText(page.locator("#label-message"), "no product has the SKU NOPE-404");
  assert.equal(await skus.getAttribute("aria-invalid"), "true");
  await waitForText(page.locator("#label-choice .field-error"), "NOPE-404");
  assert.equal(await labelsOn(page).count(), 0);
  // Typed SKUs are read as Quarry keeps them: one a line, in capitals.
  assert.equal(await skus.inputValue(), `${SAND.sku}\nNOPE-404\n${MORE[0]}`);

  // Put right, the labels come.
  await skus.fill(`${SAND.sku} ${MORE[0]}`);
  await page.locator("#show-labels").click();
  await labelsOn(page).nth(1).waitFor();
  assert.equal(await page.locator("#label-message").textContent(), "");
  assert.equal(await skus.getAttribute("aria-invalid"), null);

  await page.goto("/admin/labels?location=NOWHERE");
  await waitForText(page.locator("#label-message"), "There is no location NOWHERE.");
  assert.equal(await labelsOn(page).count(), 0);
});

test("on a phone the labels page fits the screen: the sheet is scaled down, nothing sticks out", async (t) => {
  const page = await openPage(t, { viewport: { width: 390, height: 844 } });
  await signIn(page, STAFF, `/admin/labels?skus=${[SAND.sku, ...MORE].join(",")}`);
  await labelsOn(page).nth(2).waitFor();
  const sheet = await page.locator(".label-sheet").boundingBox();
  assert.ok(sheet.width <= 390 && sheet.width > 300, `the sheet is ${sheet.width} px wide on a 390 px screen`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
  await screenshot(page, "admin-labels");
});
