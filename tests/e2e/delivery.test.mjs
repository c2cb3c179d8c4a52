// Delivery: on the quote list a customer chooses collection or delivery to a
// postcode, and sees the charge the server works out (checked against the
// API's own estimate) in the line and the totals, a postcode not delivered to
// refused in words, and the quote saved with the same delivery; staff keep the
// zones in the back office (/admin/delivery), errors shown at their field; a
// German shop says it all in German and reads amounts typed "47,50".
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, PHONE, STAFF, apiAs, openPage, screenshot, signIn, startDemo, waitForText } from "./support.mjs";

/** The demo's sand, 13 t: two loads of the TOWN zone (10 t a load). */
const SAND = { sku: "SAND-04", name: "Washed sand 0-4 mm", quantity: "13", unit: "t" };
const LINES = [{ sku: SAND.sku, quantity: SAND.quantity, unit: SAND.unit }];

/** An amount of euros as a shop of `locale` writes it: "€90.00", "90,00 €". */
function euros(amount, locale = "en-GB") {
  const places = (String(amount).split(".")[1] ?? "").length;
  return new Intl.NumberFormat(locale, { style: "currency", currency: "EUR", minimumFractionDigits: places, maximumFractionDigits: places }).format(amount);
}

/** What the shop at `base` estimates for `lines` with `delivery` (none: without). */
async function estimate(page, lines, delivery, base = BASE) {
  const response = await page.request.post(`${base}/api/v1/quote/estimate`, { data: delivery ? { lines, delivery } : { lines } });
  assert.equal(response.status(), 200, `the estimate answered ${response.status()}: ${await response.text()}`);
  return response.json();
}

/** Whole cents of an API amount: "90.00" → 9000. */
const cents = (amount) => Math.round(Number(amount) * 100);

/** Adds 13 t of sand to the quote list from its product page, and opens the list. */
async function sandInList(page) {
  await page.goto(`/p/${SAND.sku}`);
  await waitForText(page.locator("h1#name"), SAND.name);
  await page.locator("#calc-unit").selectOption("t");
  await page.locator("#calc-quantity").fill(SAND.quantity);
  await page.locator("#add-to-quote").click();
  await waitForText(page.locator("#basket-count"), "1");
  await page.goto("/quote");
  await waitForText(page.locator("#lines tr.line"), SAND.name);
}

test("a customer chooses delivery to a postcode, sees its charge in the list and the totals, and the quote keeps it", async (t) => {
  const page = await openPage(t);
  await sandInList(page);
  const expected = await estimate(page, LINES, { postcode: "AB1 2CD" });
  const plain = await estimate(page, LINES, null);
  const { delivery } = expected;
  assert.equal(delivery.zone, "TOWN");
  assert.equal(cents(expected.totals.net), cents(plain.totals.net) + cents(delivery.net), "the estimate's totals leave out its delivery");

  // Nothing chosen yet: no delivery line, the lines' own totals.
  const row = page.locator("#lines tr.delivery");
  await waitForText(page.locator("#sum-net"), euros(plain.totals.net));
  assert.equal(await row.count(), 0);
  assert.ok(await page.locator("#postcode-field").isHidden(), "the postcode box shows before delivery is chosen");

  const form = page.locator("#delivery");
  await form.locator("input[value=delivery]").check();
  await form.locator("[name=postcode]").fill("AB1 2CD");
  await waitForText(row.locator(".net"), euros(delivery.net));
  assert.equal(await row.locator(".gross").textContent(), euros(delivery.gross));
  await waitForText(row, `Delivery to AB1 2CD`);
  await waitForText(row, delivery.zone_name);
  // 13 t → 2 loads × €45.00 = €90.00, Town (AB1–AB3)
  await waitForText(row.locator(".explain"), `${delivery.tonnes} t → ${delivery.loads} loads × ${euros("45.00")} = ${euros(delivery.net)}, ${delivery.zone_name}`);
  await waitForText(page.locator("#sum-net"), euros(expected.totals.net));
  assert.equal(await page.locator("#sum-gross").textContent(), euros(expected.totals.gross));
  await screenshot(page, "quote-list-delivery");

  // The choice is kept with the list.
  await page.reload();
  await waitForText(row.locator(".net"), euros(delivery.net));
  assert.equal(await form.locator("input[value=delivery]").isChecked(), true);
  assert.equal(await form.locator("[name=postcode]").inputValue(), "AB1 2CD");

  // A postcode the shop does not deliver to: refused in words at the field,
  // the lines still priced, without a delivery.
  await form.locator("[name=postcode]").fill("ZZ9 1AA");
  const note = page.locator("#postcode-note");
  await waitForText(note, "We do not deliver to ZZ9 1AA.");
  await waitForText(note, "collect the goods");
  assert.equal(await form.locator("[name=postcode]").getAttribute("aria-invalid"), "true");
  await row.waitFor({ state: "detached" });
  await waitForText(page.locator("#sum-net"), euros(plain.totals.net));

  // Collection: no charge.
  await form.locator("input[value=collection]").check();
  await waitForText(row, "Collected by the customer");
  assert.equal(await row.locator(".net").textContent(), euros("0.00"));
  assert.equal(await row.locator(".gross").textContent(), euros("0.00"));
  await waitForText(page.locator("#sum-net"), euros(plain.totals.net));
  assert.ok(await page.locator("#postcode-field").isHidden());
  assert.equal(await note.textContent(), "");

  // Back to delivery, to AB1 2CD, and the quote is requested.
  await form.locator("input[value=delivery]").check();
  assert.equal(await form.locator("[name=postcode]").inputValue(), "ZZ9 1AA", "the postcode typed before is gone");
  await form.locator("[name=postcode]").fill("AB1 2CD");
  await waitForText(row.locator(".net"), euros(delivery.net));
  const request = page.locator("#request");
  await request.locator("[name=name]").fill("Dee Livery");
  await request.locator("[name=email]").fill("dee@example.com");
  await request.locator("[type=submit]").click();
  await page.waitForURL(/\/q\/[^/]+$/);

  // The customer's page shows the delivery; the saved quote carries it.
  const saved = page.locator(".quote tr.delivery");
  await waitForText(saved, "Delivery to AB1 2CD");
  await waitForText(saved, euros(delivery.gross));
  await waitForText(saved.locator(".how"), `${delivery.loads} loads × ${euros("45.00")}`);
  const number = /(Q-\d{4}-\d{4})/.exec(await page.locator(".quote .meta h2").textContent())?.[1] ?? assert.fail("no quote number");
  const staff = await apiAs(t, STAFF);
  const quote = await staff("GET", `/api/v1/quotes/${number}`);
  for (const field of ["method", "postcode", "zone", "zone_name", "tonnes", "loads", "explanation", "net", "tax", "gross"]) {
    assert.deepEqual(quote.delivery[field], delivery[field], `the quote's delivery ${field}`);
  }
  assert.equal(quote.totals.gross, expected.totals.gross);
  // Staff see it on the quote's back-office page.
  const office = await openPage(t);
  await signIn(office, STAFF, `/admin/quote?number=${number}`);
  await waitForText(office.locator("main tr", { hasText: "Delivery" }), `Delivery to AB1 2CD TOWN · ${euros(delivery.net)} net, ${euros(delivery.gross)} with tax`);
  // The choice outlives the list: the next list goes to the same site.
  assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem("quarry.quote-delivery"))), { method: "delivery", postcode: "AB1 2CD" });
});

test("a quote asked for collection is saved as collected, and delivery without a postcode asks for one", async (t) => {
  const page = await openPage(t, { viewport: PHONE });
  await sandInList(page);
  const form = page.locator("#delivery");
  const request = page.locator("#request");
  await form.locator("input[value=delivery]").check();
  await request.locator("[name=name]").fill("Col Lector");
  await request.locator("[name=phone]").fill("+44 20 7946 0002");
  await request.locator("[type=submit]").click();
  await waitForText(page.locator("#postcode-note"), "Type the postcode we are to deliver to.");
  assert.equal(new URL(page.url()).pathname, "/quote", "a quote was requested without a postcode");

  await form.locator("input[value=collection]").check();
  await waitForText(page.locator("#lines tr.delivery"), "Collected by the customer");
  await screenshot(page, "quote-list-collection");
  await request.locator("[type=submit]").click();
  await page.waitForURL(/\/q\/[^/]+$/);
  await waitForText(page.locator(".quote tr.delivery"), "Collected by the customer");
  const number = /(Q-\d{4}-\d{4})/.exec(await page.locator(".quote .meta h2").textContent())?.[1] ?? assert.fail("no quote number");
  const quote = await (await apiAs(t, STAFF))("GET", `/api/v1/quotes/${number}`);
  assert.equal(quote.delivery.method, "collection");
  assert.equal(quote.delivery.net, "0.00");
});

test("staff add a delivery zone on a phone, change its price, are shown a prefix of another zone at its field, and remove it", async (t) => {
  const page = await openPage(t, { viewport: PHONE });
  await signIn(page, STAFF, "/admin/stock");
  // The back office's folded menu leads to the zones.
  await page.locator("#menu-button").click();
  await page.locator("#nav a", { hasText: "Delivery" }).click();
  await page.waitForURL(/\/admin\/delivery$/);
  await waitForText(page.locator("#zones tr"), "TOWN");
  assert.equal(await page.locator("#nav a[aria-current=page]").getAttribute("href"), "/admin/delivery");

  const stamp = Date.now().toString(36).toUpperCase();
  const code = `Z${stamp}`.slice(0, 16);
  // Prefixes are at most 10 letters and digits: this one and it with a 9.
  const prefix = `ZX${stamp.slice(-6)}`;
  const form = page.locator("#zone-form");
  await form.locator("[name=code]").fill(code);
  await form.locator("[name=name]").fill(`Test zone ${stamp}`);
  await form.locator("[name=postcodes]").fill(`${prefix}, ${prefix}9`);
  await form.locator("[name=per_load]").fill("60");
  await form.locator("[name=per_tonne]").fill("1.5");
  await form.locator("[name=minimum]").fill("60");
  await form.locator("[name=vehicle_capacity_t]").fill("12");
  await form.locator("#save-zone").click();
  const message = page.locator("#zones-message");
  await waitForText(message, `Zone ${code} added.`);
  const zoneRow = page.locator("#zones tbody tr", { hasText: code });
  await waitForText(zoneRow, euros("60.00"));

  const staff = await apiAs(t, STAFF);
  const zone = async () => (await staff("GET", "/api/v1/delivery-zones")).items.find((z) => z.code === code);
  const added = await zone();
  assert.deepEqual(added.postcodes, [prefix, `${prefix}9`]);
  assert.equal(Number(added.per_load), 60);
  assert.equal(Number(added.per_tonne), 1.5);
  assert.equal(Number(added.vehicle_capacity_t), 12);
  // The new zone prices a delivery to its postcodes.
  const priced = await staff("POST", "/api/v1/quote/estimate", { lines: LINES, delivery: { postcode: `${prefix} 1AB` } });
  assert.equal(priced.delivery.zone, code);

  // Its price changed.
  await zoneRow.locator("button.edit-zone").click();
  await waitForText(page.locator("#zone-form-card h2"), `Change zone ${code}`);
  assert.equal(await form.locator("[name=per_load]").inputValue(), "60.00");
  assert.equal(await form.locator("[name=code]").getAttribute("readonly"), "");
  await form.locator("[name=per_load]").fill("65.50");
  await form.locator("#save-zone").click();
  await waitForText(message, `Zone ${code} saved.`);
  await waitForText(zoneRow, euros("65.50"));
  assert.equal(Number((await zone()).per_load), 65.5);

  // A prefix of another zone: said at the postcodes box, nothing changed.
  await zoneRow.locator("button.edit-zone").click();
  await form.locator("[name=postcodes]").fill(`${prefix}, AB1`);
  await form.locator("#save-zone").click();
  const postcodes = form.locator("[name=postcodes]");
  await waitForText(form.locator(".field-error"), "AB1 is in zone TOWN already");
  assert.equal(await postcodes.getAttribute("aria-invalid"), "true");
  const noteId = await postcodes.getAttribute("aria-describedby");
  await waitForText(page.locator(`[id="${noteId}"]`), "AB1 is in zone TOWN already");
  assert.deepEqual((await zone()).postcodes, [prefix, `${prefix}9`]);
  await screenshot(page, "admin-delivery-error");
  await form.locator("button", { hasText: "Cancel" }).click();
  await waitForText(page.locator("#zone-form-card h2"), "Add a zone");

  // Removed, after saying so.
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    dialog.accept();
  });
  await zoneRow.locator("button.remove-zone").click();
  await waitForText(message, `Zone ${code} removed.`);
  assert.match(asked, new RegExp(`Remove zone ${code}`));
  await zoneRow.waitFor({ state: "detached" });
  assert.equal(await zone(), undefined, "the zone is still there");
  await screenshot(page, "admin-delivery");
});

let german;
before(async () => {
  german = await startDemo("demo-delivery-de-DE", { QUARRY_SHOP_LOCALE: "de-DE" });
});
after(() => german?.stop());

test("a German shop says delivery in German: the list, the refusal, the quote page, and zones typed \"47,50\"", async (t) => {
  const page = await openPage(t, { base: german.url, viewport: PHONE });
  await page.goto("/");
  await page.evaluate((line) => localStorage.setItem("quarry.quote-list", JSON.stringify([line])), SAND);
  await page.goto("/quote");
  const { delivery } = await estimate(page, LINES, { postcode: "AB1 2CD" }, german.url);
  const form = page.locator("#delivery");
  await waitForText(page.locator("#delivery-box h2"), "Lieferung oder Abholung");
  await form.locator("input[value=delivery]").check();
  await form.locator("[name=postcode]").fill("AB1 2CD");
  const row = page.locator("#lines tr.delivery");
  await waitForText(row.locator(".net"), euros(delivery.net, "de-DE"));
  await waitForText(row, "Lieferung nach AB1 2CD");
  await waitForText(row, "2 Ladungen (13 t)");
  await waitForText(row.locator(".explain"), `13 t → 2 Ladungen × ${euros("45.00", "de-DE")} = ${euros("90.00", "de-DE")}, ${delivery.zone_name}`);
  await screenshot(page, "quote-list-delivery-de");

  await form.locator("[name=postcode]").fill("ZZ9 1AA");
  await waitForText(page.locator("#postcode-note"), "Nach ZZ9 1AA liefern wir nicht.");
  await form.locator("[name=postcode]").fill("AB1 2CD");
  await waitForText(row.locator(".net"), euros(delivery.net, "de-DE"));
  const request = page.locator("#request");
  await request.locator("[name=name]").fill("Erika Bauherrin");
  await request.locator("[name=email]").fill("erika@example.com");
  await request.locator("[type=submit]").click();
  await page.waitForURL(/\/q\/[^/]+$/);
  const saved = page.locator(".quote tr.delivery");
  await waitForText(saved, "Lieferung nach AB1 2CD");
  await waitForText(saved.locator(".how"), `2 Ladungen × ${euros("45.00", "de-DE")}`);
  assert.doesNotMatch(await saved.innerText(), /Delivery to|loads/);

  // The back office reads amounts the shop's way.
  const admin = await openPage(t, { base: german.url });
  await signIn(admin, STAFF, "/admin/delivery");
  const zoneForm = admin.locator("#zone-form");
  await zoneForm.locator("[name=code]").fill("NORD");
  await zoneForm.locator("[name=name]").fill("Norden");
  await zoneForm.locator("[name=postcodes]").fill("EF GH1");
  await zoneForm.locator("[name=per_load]").fill("47,50");
  await zoneForm.locator("[name=vehicle_capacity_t]").fill("7,5");
  await zoneForm.locator("#save-zone").click();
  await waitForText(admin.locator("#zones tbody tr", { hasText: "NORD" }), euros("47.50", "de-DE"));
  const staff = await apiAs(t, STAFF, { base: german.url });
  const nord = (await staff("GET", "/api/v1/delivery-zones")).items.find((z) => z.code === "NORD");
  assert.equal(Number(nord.per_load), 47.5);
  assert.equal(Number(nord.vehicle_capacity_t), 7.5);
  assert.deepEqual(nord.postcodes, ["EF", "GH1"]);
});

// The product page's calculator: collection (no charge) until the customer
// picks delivery to a postcode, which prices the delivery with the goods, as
// the quote list does, and is kept for the quote list.

/** The calculator's delivery line and its total. */
const calcDelivery = (page) => page.locator("#calc-delivery");
const calcTotal = (page) => page.locator("#calc-total");

/** Opens SAND-04's page and asks its calculator for `quantity` `unit`. */
async function calculate(page, quantity, unit) {
  await page.goto(`/p/${SAND.sku}`);
  await waitForText(page.locator("h1#name"), SAND.name);
  await page.locator("#calc-unit").selectOption(unit);
  await page.locator("#calc-quantity").fill(quantity);
}

/** What sticks out past the right edge of the viewport (nothing on a page that never scrolls sideways). */
function overflowing(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found = [];
    if (document.documentElement.scrollWidth > width) found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    for (const el of document.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.height > 0 && box.right > width + 0.5) found.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} ends at ${Math.round(box.right)} px`);
    }
    return found;
  });
}

test("on a phone the product page's calculator prices delivery to a postcode the customer picks, its total as the estimate says", async (t) => {
  const page = await openPage(t, { viewport: PHONE });
  await calculate(page, "3", "m3");
  const lines = [{ sku: SAND.sku, quantity: "3", unit: "m3" }];
  const postcode = "CD4 1AA";
  const expected = await estimate(page, lines, { postcode });
  const plain = await estimate(page, lines, null);
  const { delivery } = expected;
  assert.equal(delivery.zone, "COUNTY", `the demo delivers ${postcode} from another zone`);
  assert.ok(cents(expected.totals.gross) > cents(plain.totals.gross), "the estimate's total leaves out its delivery");

  // Collection until the customer chooses: no charge, the goods' total, nothing kept yet.
  const form = page.locator("#delivery");
  await waitForText(calcTotal(page), euros(plain.totals.gross));
  assert.equal(await form.locator("input[value=collection]").isChecked(), true, "collection is not chosen at first");
  assert.ok(await page.locator("#postcode-field").isHidden(), "the postcode box shows before delivery is chosen");
  await waitForText(calcDelivery(page), "Collected by the customer");
  await waitForText(calcDelivery(page).locator(".explain"), "No delivery charge");
  assert.equal(await page.evaluate(() => localStorage.getItem("quarry.quote-delivery")), null, "a choice was kept before the customer made one");

  await form.locator("input[value=delivery]").check();
  await form.locator("[name=postcode]").fill(postcode);
  await waitForText(calcTotal(page), euros(expected.totals.gross));
  assert.equal(await calcTotal(page).textContent(), euros(expected.totals.gross));
  const line = calcDelivery(page);
  await waitForText(line.locator(".to"), `Delivery to ${postcode}`);
  // 4.8 t → 1 load × €85.00 + 4.8 t × €2.50 = €97.00, County (AB, CD)
  const explained = await line.locator(".explain").textContent();
  assert.ok(explained.startsWith(`${delivery.tonnes} t → ${delivery.loads} load × `), `the delivery is explained as ${explained}`);
  assert.ok(explained.endsWith(`= ${euros(delivery.net)}, ${delivery.zone_name}`), `the delivery is explained as ${explained}`);
  assert.equal(await line.locator(".charge").textContent(), `${euros(delivery.net)} net, ${euros(delivery.gross)} with tax`);
  assert.ok(await page.locator("dt", { hasText: "Delivery" }).isVisible());
  // Net and tax are the goods'; the total adds the delivery with its tax.
  assert.equal(await page.locator("#calc-net").textContent(), euros(plain.totals.net));
  assert.equal(await page.locator("#postcode-note").textContent(), "");
  assert.deepEqual(await overflowing(page), [], "at 360 px the product page sticks out sideways");
  await screenshot(page, "product-delivery");
});

test("on the product page a postcode the shop does not deliver to is said in words under it, the goods priced without a delivery line", async (t) => {
  const page = await openPage(t);
  await calculate(page, SAND.quantity, SAND.unit);
  const plain = await estimate(page, LINES, null);
  // The shop's own answer: not delivered there, collection or a call.
  const answer = await page.request.post(`${BASE}/api/v1/quote/estimate`, { data: { lines: LINES, delivery: { postcode: "ZZ9 1AA" } } });
  assert.equal(answer.status(), 422);
  const { message } = (await answer.json()).error;
  const contact = /we do not deliver to ZZ9 1AA; collection only, or call us \((.+)\)$/.exec(message)?.[1] ?? assert.fail(`the API refused ZZ9 1AA with: ${message}`);

  const form = page.locator("#delivery");
  await form.locator("input[value=delivery]").check();
  await form.locator("[name=postcode]").fill("ZZ9 1AA");
  const note = page.locator("#postcode-note");
  await waitForText(note, "We do not deliver to ZZ9 1AA.");
  await waitForText(note, "collect the goods");
  await waitForText(note, contact);
  assert.equal(await form.locator("[name=postcode]").getAttribute("aria-invalid"), "true");
  assert.ok(await calcDelivery(page).isHidden(), "a delivery line shows for a postcode not delivered to");
  assert.equal(await calcTotal(page).textContent(), euros(plain.totals.gross));
  assert.equal(await page.locator("#calc-message").textContent(), "", "the refusal is said as an error of the calculator too");
  await screenshot(page, "product-not-delivered");

  // A postcode the shop delivers to: the note goes, the delivery is priced.
  const expected = await estimate(page, LINES, { postcode: "AB1 2CD" });
  await form.locator("[name=postcode]").fill("AB1 2CD");
  await waitForText(calcTotal(page), euros(expected.totals.gross));
  await waitForText(calcDelivery(page).locator(".to"), "Delivery to AB1 2CD");
  assert.equal(await note.textContent(), "");
  assert.equal(await form.locator("[name=postcode]").getAttribute("aria-invalid"), null);
});

test("delivery chosen on the product page goes on with the product to the quote list, and back", async (t) => {
  const page = await openPage(t);
  await calculate(page, SAND.quantity, SAND.unit);
  const expected = await estimate(page, LINES, { postcode: "AB1 2CD" });
  const form = page.locator("#delivery");
  await form.locator("input[value=delivery]").check();
  await form.locator("[name=postcode]").fill("AB1 2CD");
  await waitForText(calcTotal(page), euros(expected.totals.gross));
  await page.locator("#add-to-quote").click();
  await waitForText(page.locator("#basket-count"), "1");
  assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem("quarry.quote-delivery"))), { method: "delivery", postcode: "AB1 2CD" });

  await page.goto("/quote");
  const row = page.locator("#lines tr.delivery");
  await waitForText(row.locator(".net"), euros(expected.delivery.net));
  await waitForText(row, "Delivery to AB1 2CD");
  assert.equal(await page.locator("#sum-gross").textContent(), euros(expected.totals.gross));
  assert.equal(await form.locator("input[value=delivery]").isChecked(), true);
  assert.equal(await form.locator("[name=postcode]").inputValue(), "AB1 2CD");

  // Collection chosen on the list shows on the product page.
  await form.locator("input[value=collection]").check();
  await waitForText(row, "Collected by the customer");
  await page.goto(`/p/${SAND.sku}`);
  await waitForText(calcDelivery(page).locator(".to"), "Collected by the customer");
  assert.equal(await form.locator("input[value=collection]").isChecked(), true);
  assert.ok(await page.locator("#postcode-field").isHidden());
  // The page's own 1 t, collected: the goods' total.
  const oneTonne = await estimate(page, [{ sku: SAND.sku, quantity: "1", unit: "t" }], null);
  await waitForText(calcTotal(page), euros(oneTonne.totals.gross));
  assert.equal(await calcTotal(page).textContent(), euros(oneTonne.totals.gross));
});

test("a German shop's product page offers collection or delivery in German and says a postcode it does not deliver to in German", async (t) => {
  const page = await openPage(t, { base: german.url, viewport: PHONE });
  await calculate(page, SAND.quantity, SAND.unit);
  const expected = await estimate(page, LINES, { postcode: "AB1 2CD" }, german.url);
  const form = page.locator("#delivery");
  await waitForText(form.locator("legend"), "Lieferung oder Abholung");
  await waitForText(form.locator("label", { has: page.locator("input[value=collection]") }), "Selbstabholung auf unserem Hof (kostenlos)");
  await waitForText(calcDelivery(page).locator(".explain"), "Keine Lieferkosten");
  await form.locator("input[value=delivery]").check();
  await waitForText(page.locator("#postcode-field"), "Postleitzahl der Baustelle");
  await form.locator("[name=postcode]").fill("AB1 2CD");
  await waitForText(calcTotal(page), euros(expected.totals.gross, "de-DE"));
  const line = calcDelivery(page);
  await waitForText(line.locator(".to"), "Lieferung nach AB1 2CD");
  await waitForText(line.locator(".explain"), `13 t → 2 Ladungen × ${euros("45.00", "de-DE")} = ${euros(expected.delivery.net, "de-DE")}`);
  assert.equal(await line.locator(".charge").textContent(), `${euros(expected.delivery.net, "de-DE")} netto, ${euros(expected.delivery.gross, "de-DE")} mit MwSt.`);
  assert.ok(await page.locator("dt", { hasText: "Lieferung" }).isVisible());
  assert.doesNotMatch(await page.locator(".calc-out").innerText(), /Delivery|loads| net\b/);
  assert.deepEqual(await overflowing(page), [], "at 360 px the German product page sticks out sideways");
  await screenshot(page, "product-delivery-de");

  await form.locator("[name=postcode]").fill("ZZ9 1AA");
  await waitForText(page.locator("#postcode-note"), "Nach ZZ9 1AA liefern wir nicht.");
  assert.ok(await calcDelivery(page).isHidden());
  assert.deepEqual(await overflowing(page), [], "at 360 px the German refusal sticks out sideways");
});
