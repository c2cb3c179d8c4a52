// Stock-takes: a location's count sheet, printed with one row a product and an
// empty column to write the count in (the expected levels only when asked
// for); and the count screen on a phone: counts typed for some products (kept
// over a reload), the differences reviewed, and booked as one counted
// adjustment under one reference. A German shop reads a count typed "2,5".
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { DESKTOP, OUT, PHONE, STAFF, apiAs, openPage, screenshot, signIn, startDemo, waitForText } from "./support.mjs";

/** Every page of a cursor list: `items` of all of them. */
async function all(api, url) {
  const items = [];
  let cursor = "";
  do {
    const answer = await api("GET", `${url}${url.includes("?") ? "&" : "?"}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...answer.items);
    cursor = answer.next_cursor ?? "";
  } while (cursor);
  return items;
}

/**
 * What the page should list at `location`, by the API: every stock row there
 * but archived products with nothing on hand; as a map of SKU to row.
 */
async function toCount(api, location) {
  const archived = new Set((await all(api, "/api/v1/products?active=false")).map((p) => p.sku));
  const rows = await all(api, `/api/v1/stock?location=${location}`);
  return new Map(rows.filter((r) => !archived.has(r.sku) || Number(r.on_hand) !== 0).map((r) => [r.sku, r]));
}

/** Exact sums of decimals written with a dot (to six places), as the API writes them. */
function plus(a, b) {
  const scaled = (x) => BigInt(Math.round(Number(x) * 1e6));
  const sum = scaled(a) + scaled(b);
  const sign = sum < 0n ? "-" : "";
  const digits = (sum < 0n ? -sum : sum).toString().padStart(7, "0");
  const fraction = digits.slice(-6).replace(/0+$/, "");
  return `${sign}${digits.slice(0, -6)}${fraction ? `.${fraction}` : ""}`;
}

/** A count box on the count screen. */
const box = (page, sku) => page.locator(`#count-list .count-item[data-sku="${sku}"] .count-input`);

test("on a phone staff count two products at the yard, review exactly those differences and book them as one counted adjustment", async (t) => {
  const api = await apiAs(t, STAFF);
  const rows = await toCount(api, "YARD");
  // Two products with stock and nothing reserved: one counted in tonnes (with
  // a fraction, and more than expected), one in whole pieces (fewer).
  const pick = async (unit) => {
    for (const row of rows.values()) {
      if (row.unit !== unit || Number(row.on_hand) < 5 || Number(row.on_hand) >= 10000 || Number(row.reserved) !== 0) continue;
      const product = await api("GET", `/api/v1/products/${encodeURIComponent(row.sku)}`);
      if (product.active && (unit !== "pc" || !product.fractional_count)) return row;
    }
    return assert.fail(`the yard has no product in ${unit} to count`);
  };
  const more = await pick("t");
  const fewer = await pick("pc");
  const counted = { [more.sku]: plus(more.on_hand, "2.5"), [fewer.sku]: plus(fewer.on_hand, "-3") };

  const page = await openPage(t, { viewport: PHONE });
  await signIn(page, STAFF, "/admin/stocktake");
  await waitForText(page.locator("main h1"), "Stock-take");
  assert.equal(await page.locator('#nav a[href="/admin/stocktake"]').getAttribute("aria-current"), "page");
  const place = page.locator("#stocktake-location");
  await place.locator("option[value=YARD]").waitFor({ state: "attached" });
  await place.selectOption("YARD");
  const items = page.locator("#count-list .count-item");
  await items.first().waitFor();
  assert.equal(await items.count(), rows.size, "the count screen does not list every product at the yard");
  await waitForText(page.locator("#count-progress"), `0 of ${rows.size} counted`);
  // Blind by default: no expected levels on the count screen.
  assert.equal(await page.locator("#count-list .count-expected:visible").count(), 0, "the expected levels show before they were asked for");

  // The boxes are made for a phone's number pad, each with its unit beside it.
  const more$ = box(page, more.sku);
  assert.equal(await more$.getAttribute("inputmode"), "decimal");
  assert.equal(await more$.getAttribute("enterkeyhint"), "next");
  await waitForText(page.locator(`#count-list .count-item[data-sku="${more.sku}"] .count-unit`), "t");
  const inputBox = await more$.boundingBox();
  assert.ok(inputBox.height >= 44, `the count box is ${inputBox.height} px tall: too small to tap`);

  // Enter (the phone's Next key) moves on to the next product's box.
  await more$.fill(`${counted[more.sku]}`);
  await more$.press("Enter");
  const next = await page.evaluate((sku) => {
    const item = document.querySelector(`#count-list .count-item[data-sku="${CSS.escape(sku)}"]`);
    return item.nextElementSibling?.querySelector(".count-input")?.dataset.sku ?? null;
  }, more.sku);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.sku ?? null), next, "Enter did not move on to the next product");

  // Whole pieces are counted whole, and words are not a count: said at the box.
  const fewer$ = box(page, fewer.sku);
  await fewer$.fill("1.5");
  await fewer$.press("Enter");
  const note = page.locator(`#count-list .count-item[data-sku="${fewer.sku}"] .field-error`);
  await waitForText(note, "whole pieces");
  assert.equal(await fewer$.getAttribute("aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.sku), fewer.sku, "the focus left a box that cannot be read");
  await fewer$.fill("lots");
  await fewer$.press("Enter");
  await waitForText(note, "is not a number");
  await fewer$.fill(counted[fewer.sku]);
  await note.waitFor({ state: "detached" });
  await waitForText(page.locator("#count-progress"), `2 of ${rows.size} counted`);
  // The screen as it is seen (the whole list is too long for a picture).
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, `admin-stocktake-count-${PHONE.width}.png`) });

  // A reload loses nothing: the counts are kept in this browser.
  await page.reload();
  await items.first().waitFor();
  await waitForText(page.locator("#count-restored"), "2 counts typed on this device before are back");
  assert.equal(await box(page, more.sku).inputValue(), counted[more.sku]);
  assert.equal(await box(page, fewer.sku).inputValue(), counted[fewer.sku]);

  // The review lists exactly the two differences, signed, in each one's unit.
  await page.locator("#to-review").click();
  const review = page.locator("#review-table tbody tr");
  await review.first().waitFor();
  assert.deepEqual((await review.evaluateAll((trs) => trs.map((tr) => tr.dataset.sku))).sort(), [more.sku, fewer.sku].sort());
  const cells = (sku) => page.locator(`#review-table tr[data-sku="${sku}"] td`).allTextContents();
  assert.deepEqual((await cells(more.sku)).slice(1), [`${more.on_hand} t`, `${counted[more.sku]} t`, "+2.5 t"]);
  assert.deepEqual((await cells(fewer.sku)).slice(1), [`${fewer.on_hand} pc`, `${counted[fewer.sku]} pc`, "\u22123 pc"]);
  await waitForText(page.locator("#review-summary"), "2 products differ from their expected levels.");
  await waitForText(page.locator("#review-same"), "0 products counted match their levels");
  await waitForText(page.locator("#review-blank"), `${rows.size - 2} products left empty are not counted: their levels stay as they are.`);

  // One reference for the whole count, made from the location and the day.
  const reference = page.locator("#count-reference");
  const today = await page.evaluate(() => {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  });
  assert.equal(await reference.inputValue(), `COUNT-YARD-${today}`);
  const ref = `COUNT-YARD-E2E-${Date.now()}`;
  await reference.fill(ref);
  await screenshot(page, "admin-stocktake-review");
  await page.locator("#book-count").click();
  await waitForText(page.locator("#booked"), `(${ref}): 2 levels changed, 0 confirmed.`);
  assert.equal(await page.locator("#booked-history").getAttribute("href"), `/admin/history?reference=${encodeURIComponent(ref)}`);

  // The levels are the counts now, booked as one adjustment.
  for (const sku of [more.sku, fewer.sku]) {
    const { items: [level] } = await api("GET", `/api/v1/stock?sku=${encodeURIComponent(sku)}&location=YARD`);
    assert.equal(Number(level.on_hand), Number(counted[sku]), `${sku} at the yard`);
  }
  const { items: movements } = await api("GET", `/api/v1/movements?reference=${encodeURIComponent(ref)}`);
  assert.equal(movements.length, 1, `movements with ${ref}: ${JSON.stringify(movements)}`);
  const [movement] = movements;
  assert.equal(movement.kind, "adjust");
  assert.equal(movement.location, "YARD");
  assert.deepEqual(movement.lines.map((l) => [l.sku, Number(l.counted), Number(l.quantity), l.reason]).sort(),
    [[more.sku, Number(counted[more.sku]), 2.5, "Stock-take"], [fewer.sku, Number(counted[fewer.sku]), -3, "Stock-take"]].sort());
  // Booked counts are forgotten: the next count starts empty.
  assert.equal(await page.evaluate(() => localStorage.getItem("quarry.stocktake.YARD")), null);
  await page.locator("#step-count").click();
  assert.equal(await box(page, more.sku).inputValue(), "");
  await waitForText(page.locator("#count-progress"), `0 of ${rows.size} counted`);
});

test("a count sheet prints one row a product at the location with an empty count column, and the expected levels only when ticked", async (t) => {
  const api = await apiAs(t, STAFF);
  const rows = await toCount(api, "SHOP");
  assert.ok(rows.size > 0, "the demo has no stock at SHOP");
  const page = await openPage(t, { viewport: DESKTOP });
  // Left on the count step: printing still prints the sheet.
  await signIn(page, STAFF, "/admin/stocktake?location=SHOP&view=count");
  const sheetRows = page.locator("#sheet-table tbody tr");
  await sheetRows.first().waitFor({ state: "attached" });
  const headers = () => page.locator("#sheet-table thead th").allTextContents();
  assert.deepEqual(await headers(), ["Product", "SKU", "Unit", "Packs", "Counted"]);
  const skus = await sheetRows.evaluateAll((trs) => trs.map((tr) => tr.dataset.sku));
  assert.equal(skus.length, rows.size, "the sheet does not have one row a product at SHOP");
  assert.deepEqual([...skus].sort(), [...rows.keys()].sort());
  const blanks = await page.locator("#sheet-table tbody td:last-child").allTextContents();
  assert.ok(blanks.length === rows.size && blanks.every((text) => text === ""), "the Counted column is not empty");
  // The packs a product comes in, as the product says.
  const kd = await api("GET", "/api/v1/products/SAND-KD");
  if (rows.has("SAND-KD")) {
    assert.equal(await page.locator('#sheet-table tr[data-sku="SAND-KD"] td').nth(3).textContent(),
      kd.packs.map((p) => `${p.name} = ${p.quantity} ${p.unit}`).join(", "));
  }

  await page.emulateMedia({ media: "print" });
  await page.locator("#count-sheet").waitFor();
  for (const gone of ["#nav", "#stocktake-choice", "#count-screen", ".steps", "#print-sheet", "#show-expected"]) {
    assert.ok(await page.locator(gone).isHidden(), `${gone} is printed`);
  }
  const head = await page.locator("#count-sheet .sheet-head").innerText();
  assert.match(head, /Count sheet: SHOP — Trade counter/);
  assert.match(head, /Date: /);
  assert.match(head, /Counted by:/);
  const pdf = (await page.pdf({ preferCSSPageSize: true })).toString("latin1");
  const pages = pdf.match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? [];
  assert.ok(pages.length >= 1, "the count sheet printed no page");
  for (const m of pdf.matchAll(/\/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]/g)) {
    const [w, h] = [Number(m[3]) - Number(m[1]), Number(m[4]) - Number(m[2])];
    assert.ok(Math.abs(w - 595.3) < 2 && Math.abs(h - 841.9) < 2, `a printed page is ${w} × ${h} pt, not A4`);
  }
  await page.emulateMedia({ media: "screen" });
  await screenshot(page, "admin-stocktake-sheet");

  // Ticked, the sheet has the expected levels too.
  await page.locator("#step-sheet").click();
  assert.equal(await page.locator("#sheet-table td.expected").count(), 0);
  await page.locator("#show-expected").check();
  await page.locator("#sheet-table td.expected").first().waitFor();
  assert.deepEqual(await headers(), ["Product", "SKU", "Unit", "Packs", "Expected", "Counted"]);
  const shown = await sheetRows.evaluateAll((trs) => trs.map((tr) => [tr.dataset.sku, tr.querySelector("td.expected").textContent]));
  for (const [sku, text] of shown) assert.equal(Number(text.replace(/,/g, "")), Number(rows.get(sku).on_hand), `the expected level of ${sku}`);
  assert.equal(new URL(page.url()).searchParams.get("expected"), "true");
  await page.emulateMedia({ media: "print" });
  assert.ok(await page.locator("#sheet-table td.expected").first().isVisible(), "the expected levels are not printed");
  await page.emulateMedia({ media: "screen" });
  await screenshot(page, "admin-stocktake-sheet-expected");
});

test("a German shop's stock-take (Inventur) reads a count typed \"2,5\" and writes the difference the German way", async (t) => {
  const german = await startDemo("demo-stocktake-de-DE", { QUARRY_SHOP_LOCALE: "de-DE" });
  t.after(() => german.stop());
  const api = await apiAs(t, STAFF, { base: german.url });
  const rows = await toCount(api, "YARD");
  const row = [...rows.values()].find((r) => r.unit === "t" && Number(r.on_hand) >= 5 && Number(r.reserved) === 0)
    ?? assert.fail("the German yard has no product in tonnes to count");

  const page = await openPage(t, { viewport: PHONE, base: german.url });
  await signIn(page, STAFF, "/admin/stocktake?location=YARD");
  await waitForText(page.locator("main h1"), "Inventur");
  // The menu is folded away on a phone: its link is named in German all the same.
  assert.equal(await page.locator('#nav a[href="/admin/stocktake"]').textContent(), "Inventur");
  await box(page, row.sku).waitFor();
  // A dot alone is not guessed at in a shop that writes decimals with a comma.
  await box(page, row.sku).fill("2.5");
  await box(page, row.sku).press("Enter");
  await waitForText(page.locator(`#count-list .count-item[data-sku="${row.sku}"] .field-error`), "Komma");
  await box(page, row.sku).fill("2,5");
  await page.locator("#to-review").click();
  const cells = page.locator(`#review-table tr[data-sku="${row.sku}"] td`);
  await cells.first().waitFor();
  const change = plus("2.5", `-${row.on_hand}`);
  const german$ = (value) => value.replace(".", ",").replace("-", "\u2212");
  assert.deepEqual((await cells.allTextContents()).slice(1), [`${row.on_hand} t`, "2,5 t", `${german$(change)} t`]);
  await waitForText(page.locator("#review-summary"), "1 Produkt weicht von seinem Sollbestand ab.");
  assert.match(await page.locator("#count-reference").inputValue(), /^COUNT-YARD-\d{4}-\d{2}-\d{2}$/);
  assert.equal(await page.locator("#count-reason").inputValue(), "Inventur");
  await screenshot(page, "admin-stocktake-review-de");
  await page.locator("#book-count").click();
  await waitForText(page.locator("#booked"), "1 Bestand geändert, 0 bestätigt.");
  const { items: [level] } = await api("GET", `/api/v1/stock?sku=${encodeURIComponent(row.sku)}&location=YARD`);
  assert.equal(level.on_hand, "2.5");
});
