// A product's back-office page shows its stock per location, its recent
// movements and the quotes holding it, and books stock in one click.
import assert from "node:assert/strict";
import { test } from "node:test";
import { STAFF, apiAs, openPage, screenshot, signIn, waitForText } from "./support.mjs";

test("a product's page shows its stock per location, its movements and the quotes holding it; Receive opens the stock form set for it", async (t) => {
  const api = await apiAs(t, STAFF);
  const quote = await api("POST", "/api/v1/quotes", {
    lines: [{ sku: "SAND-04", quantity: "0.5", unit: "t" }],
    contact: { name: "E2E Holder", phone: "+44 1234 567890" },
    hold_stock: true,
    hold_location: "YARD",
  });
  const stock = await api("GET", "/api/v1/products/SAND-04/stock");
  const expected = stock.locations
    .filter((r) => Number(r.on_hand) !== 0 || Number(r.reserved) !== 0)
    .map((r) => r.location);
  assert.ok(expected.includes("YARD"), `the demo has sand in the yard: ${expected}`);

  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/product?sku=SAND-04");
  const card = page.locator("#product-stock");
  await card.locator("table").first().waitFor();
  const shown = await card.locator("table").first().locator("tbody tr td:first-child").allTextContents();
  assert.deepEqual(shown, expected);
  await waitForText(card, quote.number);
  const moved = await api("GET", "/api/v1/movements?sku=SAND-04&limit=8");
  await waitForText(card, `${moved.items[0].id}`);
  await screenshot(page, "admin-product-stock");

  await card.locator("tbody tr", { hasText: "YARD" }).getByRole("link", { name: "Receive" }).click();
  await page.waitForURL((url) => url.pathname === "/admin/stock");
  await page.locator("#movement-lines tbody tr[data-sku='SAND-04']").waitFor();
  assert.equal(await page.locator("#movement select[name=kind]").inputValue(), "receive");
  assert.equal(await page.locator("#movement select[name=location]").inputValue(), "YARD");
  await api("POST", `/api/v1/quotes/${quote.number}/cancel`);
});
