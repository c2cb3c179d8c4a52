// Every storefront and back-office page on a phone (390 and 360 px wide) and on
// a laptop: nothing may stick out sideways, neither the page nor any element on
// it (a table in a scrolling box counts too). Screenshots of the main pages at
// both sizes go to E2E_OUT.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OWNER, PHONE, STAFF, apiAs, openPage, screenshot, signIn } from "./support.mjs";

const PHONE_390 = { width: 390, height: 844 };
const LAPTOP = { width: 1366, height: 900 };

/** The quote list as a customer left it: a line converted (kg of sand sold by the tonne) and a plain one. */
const BASKET = [
  { sku: "SAND-04", name: "Washed sand 0-4 mm", quantity: "1600", unit: "kg" },
  { sku: "BRK-ENGB", name: "Engineering brick class B", quantity: "500", unit: "pc" },
];

/** The quote list's delivery as a customer chose it (on the list or a product's calculator): priced by the TOWN zone. */
const DELIVERY = { method: "delivery", postcode: "AB1 2CD" };

/** Storefront pages: [screenshot name or null, path, what shows once it is drawn]. */
const STOREFRONT = [
  ["storefront", "/", "#results li.hit"],
  ["storefront-search", "/?q=sand&category=Aggregates", "#results li.hit"],
  ["product", "/p/SAND-04", "#calc-delivery .charge"],
  ["quote-list", "/quote", "#lines tr.delivery .net:not(:empty)"],
  ["quote-page", null, ".quote table"],
  ["admin-login", "/admin/login", "#login"],
  [null, "/setup", "#message:not(:empty)"],
];

/** Back-office pages, seen by the owner (who sees every page). */
const BACK_OFFICE = [
  ["admin-dashboard", "/admin", "#feed li"],
  ["admin-products", "/admin/products", "#products table"],
  ["admin-product", "/admin/product?sku=SAND-04", "#product-form"],
  [null, "/admin/product", "#product-form"],
  ["admin-stock", "/admin/stock", "#levels table"],
  ["admin-history", "/admin/history", "#history table"],
  ["admin-locations", "/admin/locations", "main table"],
  ["admin-labels", "/admin/labels?skus=SAND-04,BRK-ENGB,ADH-C2TE", ".label-sheet .label[data-sku]"],
  ["admin-stocktake", "/admin/stocktake?location=SHOP&expected=true", "#count-list .count-item"],
  [null, "/admin/stocktake?location=YARD&view=sheet&expected=true", "#sheet-table tbody tr"],
  ["admin-quotes", "/admin/quotes", "main table"],
  ["admin-quote-new", "/admin/quotes?new=1", "#new-quote"],
  ["admin-quote", null, "main h1 .badge"],
  ["admin-delivery", "/admin/delivery", "#zones table"],
  ["admin-customers", "/admin/customers", "#customers table"],
  ["admin-customer", "/admin/customer?code=HARBOUR", "#customer-facts"],
  ["admin-price-lists", "/admin/price-lists", "#price-lists table"],
  ["admin-users", "/admin/users", "main table"],
  ["admin-audit", "/admin/audit", "main table"],
  ["admin-webhooks", "/admin/webhooks", "main tr:has-text('Layout check')"],
  ["admin-data", "/admin/data", "main table"],
];

/** A saved quote, for its customer page and its back-office page: made once,
 *  for a trade customer, so its lines say the rule and the saving too. */
let quote;
async function saveQuote(t) {
  const api = await apiAs(t, STAFF);
  quote ??= await api("POST", "/api/v1/quotes", {
    lines: [{ sku: "SAND-04", quantity: "3", unit: "m3" }, { sku: "BRK-ENGB", quantity: "500" }],
    delivery: { postcode: "AB1 2CD" },
    contact: { name: "Layout Builder", email: "layout@example.com" },
    customer: "HARBOUR",
  });
}

const where = (path) => path ?? (quote.link ? new URL(quote.link).pathname : assert.fail("the saved quote has no link"));
const adminPath = (path) => path ?? `/admin/quote?number=${encodeURIComponent(quote.number)}`;

/**
 * What sticks out past the right edge of the viewport: the page itself
 * (`scrollWidth`) and every element drawn beyond it, named for the message.
 */
function overflowing(page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const found = [];
    if (root.scrollWidth > width) found.push(`the page scrolls sideways: ${root.scrollWidth} px wide`);
    for (const el of document.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || box.right <= width + 0.5) continue;
      const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") +
        [...el.classList].map((c) => `.${c}`).join("");
      const text = (el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 40);
      found.push(`${name} ends at ${Math.round(box.right)} px (“${text}”)`);
    }
    return found;
  });
}

/** Waits until the page is drawn: its marker shows and no list is loading. */
async function settle(page, ready) {
  await page.locator(ready).first().waitFor();
  await page.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
  // Web fonts and late rows may still move things by a frame.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

async function walk(page, pages, viewport, { pathOf, shots }) {
  const wide = [];
  for (const [name, path, ready] of pages) {
    const url = pathOf(path);
    await page.goto(url);
    await settle(page, ready);
    for (const problem of (await overflowing(page)).slice(0, 5)) wide.push(`${url}: ${problem}`);
    if (shots && name) await screenshot(page, name);
  }
  assert.deepEqual(wide, [], `at ${viewport.width} px, these stick out sideways`);
}

async function storefront(t, viewport, shots) {
  await saveQuote(t);
  const page = await openPage(t, { viewport });
  await page.goto("/");
  await page.evaluate(([lines, delivery]) => {
    localStorage.setItem("quarry.quote-list", JSON.stringify(lines));
    localStorage.setItem("quarry.quote-delivery", JSON.stringify(delivery));
  }, [BASKET, DELIVERY]);
  await walk(page, STOREFRONT, viewport, { pathOf: where, shots });
}

async function backOffice(t, viewport, shots) {
  await saveQuote(t);
  // An endpoint, so the webhooks page has a row of its widest table (removed after).
  const owner = await apiAs(t, OWNER);
  const { webhook } = await owner("POST", "/api/v1/webhooks", {
    url: `http://127.0.0.1:9/layout-${viewport.width}`, events: ["quote.created"], description: "Layout check",
  });
  try {
    await walkBackOffice(t, viewport, shots);
  } finally {
    // The answer is empty (204): only a failing status counts.
    await owner("DELETE", `/api/v1/webhooks/${webhook.id}`).catch((error) => {
      if (!(error instanceof SyntaxError)) throw error;
    });
  }
}

async function walkBackOffice(t, viewport, shots) {
  const page = await openPage(t, { viewport });
  await signIn(page, OWNER);
  await walk(page, BACK_OFFICE, viewport, { pathOf: adminPath, shots });
  if (viewport.width > 600) return;
  // The menu, folded on a phone, opens over the page without widening it.
  await page.goto("/admin/stock");
  await settle(page, "#levels table");
  const nav = page.locator("#nav");
  assert.ok(await nav.isHidden(), "on a phone the back office's navigation starts folded away");
  await page.locator("#menu-button").click();
  await nav.locator("a", { hasText: "History" }).waitFor();
  assert.equal(await page.locator("#menu-button").getAttribute("aria-expanded"), "true");
  const navHeight = await nav.evaluate((el) => el.getBoundingClientRect().height);
  assert.ok(navHeight < 260, `the open menu is ${navHeight} px tall`);
  assert.deepEqual(await overflowing(page), [], "the open menu sticks out sideways");
  if (shots) await screenshot(page, "admin-menu");
  await page.keyboard.press("Escape");
  await nav.waitFor({ state: "hidden" });
}

test("on a 390 px phone no storefront page sticks out sideways", (t) => storefront(t, PHONE_390, true));
test("on a 360 px phone no storefront page sticks out sideways", (t) => storefront(t, PHONE, false));
test("on a laptop no storefront page sticks out sideways", (t) => storefront(t, LAPTOP, true));
test("on a 390 px phone no back-office page sticks out sideways, and the menu folds", (t) => backOffice(t, PHONE_390, true));
test("on a 360 px phone no back-office page sticks out sideways, and the menu folds", (t) => backOffice(t, PHONE, false));
test("on a laptop no back-office page sticks out sideways", (t) => backOffice(t, LAPTOP, true));

test("on a phone the lines of the quote list are labelled cards, and the header leaves the search box in view", async (t) => {
  const page = await openPage(t, { viewport: PHONE_390 });
  await page.goto("/");
  const search = await page.locator("#q").boundingBox();
  assert.ok(search.y < 130, `the search box starts ${search.y} px down the page`);
  await page.evaluate((lines) => localStorage.setItem("quarry.quote-list", JSON.stringify(lines)), BASKET);
  await page.goto("/quote");
  await settle(page, "#lines tr.line .net:not(:empty)");
  const line = page.locator("#lines tr.line").first();
  // A card: as wide as the list, its cells one under another, each named.
  const card = await line.boundingBox();
  const listBox = await page.locator("#lines").boundingBox();
  assert.ok(card.width > listBox.width - 4, `a line is ${card.width} px wide in a ${listBox.width} px list`);
  const labels = await line.locator("td").evaluateAll((cells) => cells.map((td) => td.dataset.label ?? ""));
  assert.deepEqual(labels.filter(Boolean), ["Product", "Quantity", "How", "Net", "Total"]);
  const label = await line.locator("td.net").evaluate((td) => getComputedStyle(td, "::before").content);
  assert.equal(label, '"Net"', "the Net cell does not show its name");
  // "1600" stays whole: the how column is not squeezed.
  const how = await line.locator("td.explain").textContent();
  assert.match(how, /1600 kg/);
  const quantity = await line.locator("input[name=quantity]").boundingBox();
  const net = await line.locator("td.net").boundingBox();
  assert.ok(net.y > quantity.y, "the net amount is not under the quantity");
});
