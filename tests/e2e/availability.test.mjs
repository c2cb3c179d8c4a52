// Live availability: stock booked in the back office changes the badge on a
// storefront page that is already open, without reloading it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OWNER, STAFF, apiAs, openPage, signIn } from "./support.mjs";

const SKU = "BRK-ENGB"; // "Engineering brick class B", stocked in pieces at WH1 and YARD
const OUT_OF_STOCK = "out";

test("receiving an out-of-stock product updates the open storefront without a reload", async (t) => {
  const api = await apiAs(t, OWNER);
  const { items } = await api("GET", `/api/v1/stock?sku=${SKU}`);
  for (const { location, available } of items.filter((row) => Number(row.available) > 0)) {
    await api("POST", "/api/v1/movements", {
      kind: "ship",
      location,
      reference: "E2E-EMPTY",
      lines: [{ sku: SKU, quantity: available }],
    });
  }

  const shop = await openPage(t);
  await shop.goto("/");
  await shop.locator("#q").pressSequentially("engineering brick", { delay: 40 });
  const badge = shop.locator(`#results .badge[data-sku="${SKU}"]`);
  await shop.locator(`#results .badge[data-sku="${SKU}"][data-status="${OUT_OF_STOCK}"]`).waitFor();
  await shop.evaluate(() => {
    window.__marker = 1;
  });

  const admin = await openPage(t);
  await signIn(admin, STAFF, "/admin/stock");
  const form = admin.locator("#movement");
  await form.locator("select[name=kind]").selectOption("receive");
  await form.locator("select[name=location]").selectOption("YARD");
  await admin.locator("#scan").fill(SKU);
  await admin.locator("#scan").press("Enter");
  // A line's quantity may be named `quantity` or, to match the API's error fields,
  // `lines[0].quantity`.
  const line = admin.locator("#movement-lines tbody tr");
  await line.first().waitFor();
  assert.equal(await line.count(), 1, "Enter in the scan field added more than one line");
  await line.locator('input[name$="quantity"]').fill("500");
  await admin.locator("#book").click();
  // The message already says the line was added: wait for the booking's own
  // answer (or an error), not just any text, before reading the level.
  await admin.locator("#movement-message").filter({ hasText: /Booked movement|\b(error|not|cannot)\b/i }).waitFor();
  const yard = await api("GET", `/api/v1/stock?sku=${SKU}&location=YARD`);
  assert.equal(Number(yard.items[0]?.available), 500, `the form did not book 500: ${await admin.locator("#movement-message").textContent()}`);

  await shop.locator(`#results .badge[data-sku="${SKU}"]:not([data-status="${OUT_OF_STOCK}"])`).waitFor();
  assert.notEqual(await badge.getAttribute("data-status"), OUT_OF_STOCK);
  assert.equal(await shop.evaluate(() => window.__marker), 1, "the storefront reloaded");
});
