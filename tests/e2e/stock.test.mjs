// The stock form's SKU, barcode or name box: typed words list the products
// named like them (an ARIA combobox, worked with the arrow keys and Enter),
// while a scanned barcode or a SKU typed whole still adds its line at once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PHONE, STAFF, apiAs, openPage, screenshot, signIn, waitForText } from "./support.mjs";

const PHONE_390 = { width: 390, height: 844 };

/** The stock form, signed in as staff, set to receive at the yard. */
async function stockForm(t, viewport) {
  const page = await openPage(t, viewport ? { viewport } : {});
  await signIn(page, STAFF, "/admin/stock");
  const form = page.locator("#movement");
  await form.locator("select[name=location] option[value=YARD]").waitFor({ state: "attached" });
  await form.locator("select[name=kind]").selectOption("receive");
  await form.locator("select[name=location]").selectOption("YARD");
  return { page, form, scan: page.locator("#scan"), list: page.locator("#scan-options") };
}

/** How much of `sku` the yard has on hand, by the API. */
async function onHand(api, sku) {
  const { items } = await api("GET", `/api/v1/stock?sku=${sku}&location=YARD`);
  return Number(items[0]?.on_hand ?? 0);
}

test("the stock form finds a product by name with the arrow keys and Enter, and an exact SKU or a scan still adds its line at once", async (t) => {
  const api = await apiAs(t, STAFF);
  const sand = await api("GET", "/api/v1/products/SAND-04");
  assert.equal(sand.name, "Washed sand 0-4 mm");
  const before = await onHand(api, "SAND-04");
  const { page, form, scan, list } = await stockForm(t);
  const line = (sku) => page.locator(`#movement-lines tbody tr[data-sku="${sku}"]`);
  const message = page.locator("#movement-message");

  assert.equal(await scan.getAttribute("role"), "combobox");
  assert.equal(await scan.getAttribute("aria-expanded"), "false");
  assert.equal(await scan.getAttribute("aria-controls"), "scan-options");
  assert.equal(await list.getAttribute("role"), "listbox");

  // Typed words open the list of products named like them.
  await scan.pressSequentially("washed sand", { delay: 40 });
  const option = list.locator('[role=option][data-sku="SAND-04"]');
  await option.waitFor();
  assert.equal(await scan.getAttribute("aria-expanded"), "true");
  await waitForText(option, "Washed sand 0-4 mm");
  await waitForText(option, "SAND-04 · t");
  assert.equal(await list.locator("[aria-selected=true]").count(), 0, "an option is highlighted before any arrow key");
  // Down to the sand: the box keeps the focus and points at the highlighted option.
  const at = await list.locator("[role=option]").evaluateAll((options) => options.findIndex((o) => o.dataset.sku === "SAND-04"));
  for (let i = 0; i <= at; i += 1) await page.keyboard.press("ArrowDown");
  assert.equal(await option.getAttribute("aria-selected"), "true");
  assert.equal(await scan.getAttribute("aria-activedescendant"), await option.getAttribute("id"));
  assert.equal(await page.evaluate(() => document.activeElement?.id), "scan", "the focus left the box");
  await page.keyboard.press("Enter");
  await line("SAND-04").waitFor();
  await waitForText(message, "Added SAND-04");
  await list.waitFor({ state: "hidden" });
  assert.equal(await scan.inputValue(), "");
  assert.equal(await scan.getAttribute("aria-expanded"), "false");
  assert.equal(await scan.getAttribute("aria-activedescendant"), null);

  // Escape closes the list and leaves what was typed.
  await scan.pressSequentially("brick", { delay: 40 });
  await list.locator("[role=option]").first().waitFor();
  await page.keyboard.press("Escape");
  await list.waitFor({ state: "hidden" });
  assert.equal(await scan.inputValue(), "brick");
  await scan.fill("");

  // A SKU typed whole, list open or not, is added by Enter at once.
  await scan.pressSequentially("BRK-ENGB", { delay: 40 });
  await list.locator('[role=option][data-sku="BRK-ENGB"]').waitFor();
  await page.keyboard.press("Enter");
  await line("BRK-ENGB").waitFor();
  await list.waitFor({ state: "hidden" });

  // A scanner types the code and Enter in one go: the line is added, and the
  // lookup by name its typing started never opens the list afterwards.
  await page.evaluate(() => {
    window.listOpened = 0;
    const list = document.getElementById("scan-options");
    new MutationObserver(() => {
      if (!list.hidden) window.listOpened += 1;
    }).observe(list, { attributes: true, attributeFilter: ["hidden"] });
  });
  await scan.pressSequentially("ADH-C2TE", { delay: 5 });
  await page.keyboard.press("Enter");
  await line("ADH-C2TE").waitFor();
  await page.waitForTimeout(600); // past the pause that starts a lookup, and its answer
  assert.equal(await page.evaluate(() => window.listOpened), 0, "the list opened after the scan was added");
  assert.equal(await scan.getAttribute("aria-expanded"), "false");
  // The same when the scanner pauses before its Enter: the lookup by name is
  // under way (held here) when the line is added, and its late answer is dropped.
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  const searching = (url) => new URL(url).pathname === "/api/v1/search";
  await page.route((url) => searching(url), async (route) => {
    await held;
    await route.continue().catch(() => {}); // the page may have given up on it
  });
  const asked = page.waitForRequest((request) => searching(request.url()));
  await scan.pressSequentially("ADH-C2TE", { delay: 5 });
  await asked;
  await page.keyboard.press("Enter");
  await waitForText(message, "ADH-C2TE: one more");
  release();
  await page.waitForTimeout(300);
  await page.unroute((url) => searching(url));
  assert.equal(await page.evaluate(() => window.listOpened), 0, "a lookup's late answer opened the list after the scan");

  // Enter on words with nothing highlighted: not a SKU nor a barcode, so the
  // products named like them are offered, and one is picked with the keyboard.
  await scan.pressSequentially("kiln-dried sand", { delay: 5 });
  await page.keyboard.press("Enter");
  await waitForText(message, "No product has the SKU or barcode “kiln-dried sand”");
  await list.locator('[role=option][data-sku="SAND-KD"]').waitFor();
  assert.equal(await scan.inputValue(), "kiln-dried sand");
  await page.keyboard.press("Escape");
  await list.waitFor({ state: "hidden" });
  await scan.fill("");

  // Neither a code nor a name: said in plain words.
  await scan.pressSequentially("qqqzzz", { delay: 5 });
  await page.keyboard.press("Enter");
  await waitForText(message, "No product has the SKU, barcode or name “qqqzzz”.");
  await list.waitFor({ state: "hidden" });

  // Book the three lines: the sand by name, the brick by SKU, the adhesive scanned twice.
  const reference = `E2E-BY-NAME-${Date.now()}`;
  await form.locator("[name=reference]").fill(reference);
  await line("SAND-04").locator('[data-field="quantity"]').fill("2");
  await page.locator("#book").click();
  await waitForText(message, "Booked movement");
  const { items } = await api("GET", `/api/v1/movements?reference=${reference}`);
  assert.equal(items.length, 1, `movements with ${reference}: ${JSON.stringify(items)}`);
  assert.equal(items[0].kind, "receive");
  assert.deepEqual(items[0].lines.map((l) => `${l.sku} ${l.quantity} ${l.unit}`).sort(),
    ["ADH-C2TE 2 kg", "BRK-ENGB 1 pc", "SAND-04 2 t"]);
  assert.equal(await onHand(api, "SAND-04"), before + 2, "the yard's sand did not grow by the 2 t booked");
});

for (const viewport of [PHONE, PHONE_390]) {
  test(`on a ${viewport.width} px phone the stock form's list of products by name fits the screen, and a tap adds one`, async (t) => {
    const { page, scan, list } = await stockForm(t, viewport);
    await scan.pressSequentially("sand", { delay: 40 });
    const options = list.locator("[role=option]");
    await options.nth(3).waitFor();
    const wide = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const found = [];
      if (document.scrollingElement.scrollWidth > width) found.push(`the page: ${document.scrollingElement.scrollWidth} px`);
      for (const el of [document.getElementById("scan-options"), ...document.querySelectorAll("#scan-options *")]) {
        const box = el.getBoundingClientRect();
        if (box.right > width + 0.5 || box.left < -0.5) found.push(`${el.tagName.toLowerCase()} from ${box.left} to ${box.right} px`);
      }
      return found;
    });
    assert.deepEqual(wide, [], `at ${viewport.width} px the open list sticks out sideways`);
    if (viewport === PHONE_390) await screenshot(page, "admin-stock-by-name");

    const sku = await options.nth(1).getAttribute("data-sku");
    await options.nth(1).click();
    await page.locator(`#movement-lines tbody tr[data-sku="${sku}"]`).waitFor();
    await list.waitFor({ state: "hidden" });
    assert.equal(await page.evaluate(() => document.activeElement?.id), "scan", "a tap on the list took the focus from the box");
  });
}
