// Trade customers and price lists in the back office: staff add a price list
// with rules in the rules table and try it in the preview (the discounted
// price and the rule that gave it, or the list price when no rule applies);
// add a customer on a list, open their page and make a quote for them, whose
// line shows the customer's price with the rule and the saving, on the form,
// the quote's page and the customer's own page; a list customers buy at
// cannot be deleted; a viewer sees lists and customers but no way to change
// them; a German shop reads rules typed "30,50".
// The demo's washed sand (SAND-04) is 38.00 per t, 36.10 from 10 t, 1600 kg/m3.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { OWNER, STAFF, apiAs, openPage, screenshot, signIn, startDemo, waitForText } from "./support.mjs";

/** An amount of euros as a shop of `locale` writes it: "€176.70", "176,70 €". */
function euros(amount, locale = "en-GB") {
  const places = (String(amount).split(".")[1] ?? "").length;
  return new Intl.NumberFormat(locale, { style: "currency", currency: "EUR", minimumFractionDigits: places, maximumFractionDigits: places }).format(amount);
}

/** A code no other test run has used: "E2E-1733…". */
const fresh = (prefix) => `${prefix}${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1000)}`;

test("staff add a price list with rules, and the preview shows the discounted price and the rule, or that none applies", async (t) => {
  const code = fresh("PL-");
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/price-lists");
  const form = page.locator("#list-form");
  await form.locator("[name=code]").fill(code);
  await form.locator("[name=name]").fill("Sand merchants");

  // The first row: 15 % off the sand category.
  const first = form.locator("#rules-table tr.rule").nth(0);
  await first.locator("[data-field=scope]").selectOption("category");
  await first.locator("[data-field=target]").fill("Aggregates/Sand");
  await first.locator("[data-field=kind]").selectOption("percent");
  await first.locator("[data-field=amount]").fill("15");
  // A second: bricks at a fixed price from 100.
  await page.locator("#add-rule").click();
  const second = form.locator("#rules-table tr.rule").nth(1);
  await second.locator("[data-field=scope]").selectOption("sku");
  await second.locator("[data-field=target]").fill("BRK-ENGB");
  await second.locator("[data-field=kind]").selectOption("price");
  await second.locator("[data-field=amount]").fill("0.50");
  await second.locator("[name='rules[1].min_quantity']").fill("100");
  await second.locator("[name='rules[1].valid_until']").fill("2099-12-31");

  // A percentage over 100 is refused by the server, at its box.
  await first.locator("[data-field=amount]").fill("150");
  await page.locator("#save-list").click();
  await waitForText(first.locator(".field-error"), "at most 100");
  assert.equal(await first.locator("[name='rules[0].percent_off']").getAttribute("aria-invalid"), "true");
  await first.locator("[data-field=amount]").fill("15");
  await page.locator("#save-list").click();
  await waitForText(page.locator("#price-lists-message"), `Price list ${code} added.`);
  // The form goes on with the list saved, to change further.
  await waitForText(page.locator("#list-form-card h2"), `Change price list ${code}`);
  assert.equal((await page.locator("#save-list").textContent()).trim(), "Save price list");
  const row = page.locator("#price-lists tbody tr", { hasText: code });
  await waitForText(row, "15 % off Aggregates/Sand");
  await waitForText(row, "€0.50 for BRK-ENGB, from 100, until 31 Dec 2099");

  const staff = await apiAs(t, STAFF);
  const saved = await staff("GET", `/api/v1/price-lists/${code}`);
  assert.equal(saved.name, "Sand merchants");
  assert.deepEqual(saved.rules, [
    { category: "Aggregates/Sand", percent_off: "15" },
    { sku: "BRK-ENGB", price: "0.50", min_quantity: "100", valid_until: "2099-12-31" },
  ]);

  // 5 t of sand at 15 % off: 38.00 × 0.85 = 32.30 a tonne, 161.50 net,
  // 193.80 with 20 % tax; the list price 190.00, so 28.50 saved.
  const preview = page.locator("#preview-form");
  assert.equal(await preview.locator("#preview-list").inputValue(), code, "the preview tries the list just saved");
  await preview.locator("#preview-sku").fill("SAND-04");
  await preview.locator("#preview-quantity").fill("5");
  await page.locator("#preview-go").click();
  const result = page.locator("#preview-result");
  await waitForText(result, `${euros("32.30")} / t`);
  await waitForText(result, euros("161.50"));
  await waitForText(result, euros("193.80"));
  await waitForText(page.locator("#preview-rule"), "Rule: Sand merchants: 15% off Aggregates/Sand.");
  await waitForText(page.locator("#preview-rule"), `Saves ${euros("28.50")} on the list price of ${euros("190.00")}`);
  await screenshot(page, "trade-price-list-preview");

  // 10 bricks are fewer than the rule's 100: the list price, 0.68 each.
  await preview.locator("#preview-sku").fill("BRK-ENGB");
  await preview.locator("#preview-quantity").fill("10");
  await page.locator("#preview-go").click();
  await waitForText(page.locator("#preview-rule"), "List price — no rule applies.");
  await waitForText(result, euros("6.80"));

  // An unknown product is said at the product box.
  await preview.locator("#preview-sku").fill("NO-SUCH-SKU");
  await page.locator("#preview-go").click();
  await preview.locator("#preview-sku[aria-invalid=true]").waitFor();
  assert.equal(await result.textContent(), "", "no price for an unknown product");

  await page.evaluate(() => { window.confirm = () => true; });
  await row.locator("button.remove-list").click();
  await waitForText(page.locator("#price-lists-message"), `Price list ${code} deleted.`);
});

test("staff add a customer on a list, open their page and quote for them: the customer's price with the rule and the saving, kept with the quote", async (t) => {
  const staff = await apiAs(t, STAFF);
  const list = await staff("POST", "/api/v1/price-lists", {
    code: fresh("AGG-"), name: "Aggregates trade", rules: [{ category: "Aggregates", percent_off: "7" }],
  });
  const code = fresh("C");
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/customers");
  const form = page.locator("#customer-form");
  await form.locator("[name=code]").fill(code);
  await form.locator("[name=name]").fill("Quayside Builders Ltd");
  await form.locator("[name=tax_number]").fill("GB 123 4567 89");
  await form.locator("[name=payment_terms]").fill("30 days net");
  await form.locator("[name=price_list]").selectOption(list.code);
  await form.locator("[name=billing_address]").fill("Quayside Builders Ltd\nDock Road 4\nAB1 2CD Northtown");
  await form.locator("[name=delivery_addresses]").fill("Site A\nMill Lane\nAB2 1AA\n\nSite B\nHigh Street 9\nAB3 4BB");
  await form.locator("[name=notes]").fill("Call before delivering.");
  await page.locator("#save-customer").click();
  await waitForText(page.locator("#customers-message"), `Customer ${code} added.`);
  const row = page.locator("#customers tbody tr", { hasText: code });
  await waitForText(row, `${list.code} — Aggregates trade`);
  await waitForText(row, "active");
  const customer = await staff("GET", `/api/v1/customers/${code}`);
  assert.deepEqual(customer.delivery_addresses, ["Site A\nMill Lane\nAB2 1AA", "Site B\nHigh Street 9\nAB3 4BB"]);
  assert.equal(customer.price_list, list.code);
  assert.equal(customer.notes, "Call before delivering.");

  // The same code again is refused at the code box.
  await form.locator("[name=code]").fill(code);
  await form.locator("[name=name]").fill("Someone else");
  await page.locator("#save-customer").click();
  await waitForText(form.locator(".field-error"), `There is a customer ${code} already`);

  await row.locator(`a:text-is("${code}")`).click();
  await page.waitForURL((url) => url.pathname === "/admin/customer" && url.searchParams.get("code") === code);
  const facts = page.locator("#customer-facts");
  await waitForText(facts, "Quayside Builders Ltd");
  await waitForText(page.locator("#customer-list"), list.code);
  assert.equal(await facts.locator("ul.addresses li").count(), 2, "two delivery addresses");
  await screenshot(page, "trade-customer");

  // 5 t of sand at 7 % off Aggregates: 38.00 × 0.93 = 35.34 a tonne, 176.70
  // net; the list price 190.00, so 13.30 saved.
  await page.locator("#quote-for-customer").click();
  await page.waitForURL((url) => url.pathname === "/admin/quotes" && url.searchParams.get("customer") === code);
  const quoteForm = page.locator("#new-quote");
  await quoteForm.waitFor();
  assert.equal(await quoteForm.locator("[name=customer]").inputValue(), code, "the quote is for the customer");
  assert.equal(await quoteForm.locator("[name='contact.name']").inputValue(), "Quayside Builders Ltd");
  await quoteForm.locator("[name='contact.phone']").fill("+44 1632 960777");
  const search = page.locator("#product-search");
  await search.fill("SAND-04");
  await search.press("Enter");
  const line = page.locator('#quote-lines tr[data-sku="SAND-04"]');
  await line.waitFor();
  await line.locator("[data-field=unit]").selectOption("t");
  await line.locator("[data-field=quantity]").fill("5");
  await waitForText(line.locator(".net"), euros("176.70"));
  await waitForText(line.locator(".rule"), `Aggregates trade: 7% off Aggregates · saves ${euros("13.30")}`);
  await waitForText(page.locator("#quote-totals"), euros("176.70"));

  // Without the customer: the list price, and no rule.
  await quoteForm.locator("[name=customer]").selectOption("");
  await waitForText(line.locator(".net"), euros("190.00"));
  assert.equal(await line.locator(".rule").count(), 0);
  await quoteForm.locator("[name=customer]").selectOption(code);
  await waitForText(line.locator(".net"), euros("176.70"));
  await screenshot(page, "trade-quote-new");

  await page.locator("#save-quote").click();
  await page.waitForURL((url) => url.pathname === "/admin/quote");
  const number = new URL(page.url()).searchParams.get("number");
  await waitForText(page.locator("#quote-account"), code);
  assert.equal(new URL(await page.locator("#quote-account").getAttribute("href"), page.url()).searchParams.get("code"), code);
  await waitForText(page.locator("main table .rule"), `Aggregates trade: 7% off Aggregates · saves ${euros("13.30")}`);
  const quote = await staff("GET", `/api/v1/quotes/${encodeURIComponent(number)}`);
  assert.equal(quote.customer, code);
  assert.equal(quote.totals.net, "176.70");
  assert.equal(quote.lines[0].unit_price, "35.34");
  assert.equal(quote.lines[0].list_price.saving, "13.30");

  // The customer's own page says the rule and the saving too.
  const link = await page.locator("#customer-link").inputValue();
  const own = await openPage(t);
  await own.goto(link);
  await waitForText(own.locator(".quote tbody .rule"), `Aggregates trade: 7% off Aggregates · saves ${euros("13.30")}`);

  // Changing the quote starts with its customer.
  await page.locator("#change-quote").click();
  await page.waitForURL((url) => url.searchParams.get("edit") === number);
  await page.locator("#change-quote-form").waitFor();
  assert.equal(await page.locator("#change-quote-form [name=customer]").inputValue(), code);
  await waitForText(page.locator('#quote-lines tr[data-sku="SAND-04"] .rule'), "7% off Aggregates");
  await staff("POST", `/api/v1/quotes/${encodeURIComponent(number)}/cancel`);

  // The list of quotes names the customer, linking to their page.
  await page.goto("/admin/quotes");
  await waitForText(page.locator("main tbody tr", { hasText: number }).locator("a[href^='/admin/customer?']"), code);

  // Archived, the customer is offered no new quote; restored, again.
  await page.goto(`/admin/customer?code=${code}`);
  await page.evaluate(() => { window.confirm = () => true; });
  await page.locator("#archive-customer").click();
  await waitForText(page.locator("#customer-message"), `Customer ${code} archived.`);
  assert.equal(await page.locator("#quote-for-customer").count(), 0);
  await page.locator("#archive-customer").click();
  await waitForText(page.locator("#customer-message"), `Customer ${code} restored.`);
  await page.locator("#quote-for-customer").waitFor();
});

test("a customer changed by a colleague meanwhile is not overwritten: the page says so and offers to reload", async (t) => {
  const staff = await apiAs(t, STAFF);
  const code = fresh("C");
  await staff("POST", "/api/v1/customers", { code, name: "Before Ltd", delivery_addresses: [] });
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/customer?code=${code}`);
  const form = page.locator("#customer-edit");
  await form.waitFor();
  assert.equal(await form.locator("[name=code]").getAttribute("readonly"), "", "the code is not changed");
  await staff("PUT", `/api/v1/customers/${code}`, { code, name: "Colleague Ltd", delivery_addresses: [], payment_terms: "7 days" });
  await form.locator("[name=name]").fill("Mine Ltd");
  await page.locator("#save-customer").click();
  await waitForText(form.locator(".message"), "A colleague changed customer");
  assert.equal((await staff("GET", `/api/v1/customers/${code}`)).name, "Colleague Ltd", "their change stays");
  await page.locator("#reload-customer").click();
  await waitForText(page.locator("#customer-facts"), "Colleague Ltd");
  await page.locator("#customer-edit [name=name]").fill("Mine Ltd");
  await page.locator("#save-customer").click();
  await waitForText(page.locator("#customer-message"), `Customer ${code} saved.`);
  const saved = await staff("GET", `/api/v1/customers/${code}`);
  assert.equal(saved.name, "Mine Ltd");
  assert.equal(saved.payment_terms, "7 days", "the colleague's terms were kept");
});

test("a price list customers buy at cannot be deleted: the page names them", async (t) => {
  const page = await openPage(t);
  await signIn(page, STAFF, "/admin/price-lists");
  const row = page.locator("#price-lists tbody tr", { hasText: "TRADE-A" });
  await row.waitFor();
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    dialog.accept();
  });
  await row.locator("button.remove-list").click();
  await waitForText(page.locator("#price-lists-message.error"), "Price list TRADE-A cannot be deleted: customers buy at it (HARBOUR");
  assert.match(asked, /Delete price list TRADE-A/);
  const staff = await apiAs(t, STAFF);
  assert.equal((await staff("GET", "/api/v1/price-lists/TRADE-A")).code, "TRADE-A", "the list is still there");
});

test("a viewer sees price lists and customers, and tries prices, but is offered no change", async (t) => {
  const owner = await apiAs(t, OWNER);
  const username = `viewer-trade-${Date.now()}`;
  await owner("POST", "/api/v1/users", { username, password: "quarry-viewer-check-1", role: "viewer" });
  const page = await openPage(t);
  await signIn(page, { username, password: "quarry-viewer-check-1" }, "/admin/price-lists");
  await waitForText(page.locator("#price-lists tbody tr"), "TRADE-A");
  assert.equal(await page.locator("#list-form, button.remove-list, button.edit-list").count(), 0, "no way to change a list");
  await page.locator("#preview-list").selectOption("TRADE-A");
  await page.locator("#preview-sku").fill("SAND-04");
  await page.locator("#preview-quantity").fill("5");
  await page.locator("#preview-go").click();
  await waitForText(page.locator("#preview-rule"), "7% off Aggregates");

  await page.goto("/admin/customers");
  await waitForText(page.locator("#customers tbody tr"), "HARBOUR");
  assert.equal(await page.locator("#customer-form").count(), 0, "no form to add one");
  await page.goto("/admin/customer?code=HARBOUR");
  await waitForText(page.locator("#customer-facts"), "Harbour Groundworks Ltd");
  assert.equal(await page.locator("#customer-edit, #archive-customer, #quote-for-customer").count(), 0, "no way to change a customer");
});

let german;
before(async () => {
  german = await startDemo("demo-customers-de-DE", { QUARRY_SHOP_LOCALE: "de-DE" });
});
after(() => german?.stop());

test("a German shop reads a rule typed \"30,50\" from \"2,5\" and previews it in German", async (t) => {
  const code = fresh("DE-");
  const page = await openPage(t, { base: german.url });
  await signIn(page, STAFF, "/admin/price-lists");
  await waitForText(page.locator("main h1"), "Preislisten");
  const form = page.locator("#list-form");
  await form.locator("[name=code]").fill(code);
  await form.locator("[name=name]").fill("Baustoffhandel");
  const rule = form.locator("#rules-table tr.rule").first();
  await rule.locator("[data-field=scope]").selectOption("sku");
  await rule.locator("[data-field=target]").fill("SAND-04");
  await rule.locator("[data-field=kind]").selectOption("price");
  // A dot alone is not guessed at in a comma locale.
  await rule.locator("[data-field=amount]").fill("30.50");
  await page.locator("#save-list").click();
  await rule.locator("[name='rules[0].price'][aria-invalid=true]").waitFor();
  await rule.locator("[data-field=amount]").fill("30,50");
  await rule.locator("[name='rules[0].min_quantity']").fill("2,5");
  await page.locator("#save-list").click();
  await waitForText(page.locator("#price-lists-message"), `Preisliste ${code} angelegt.`);
  await waitForText(page.locator("#price-lists tbody tr", { hasText: code }), `${euros("30.50", "de-DE")} für SAND-04, ab 2,5`);
  const staff = await apiAs(t, STAFF, { base: german.url });
  assert.deepEqual((await staff("GET", `/api/v1/price-lists/${code}`)).rules, [{ sku: "SAND-04", price: "30.50", min_quantity: "2.5" }]);
  // The form shows the saved rule as it is typed here.
  assert.equal(await form.locator("[name='rules[0].price']").inputValue(), "30,50");

  // 3 t from 2,5 t: 30,50 € a tonne, 91,50 € net.
  await page.locator("#preview-sku").fill("SAND-04");
  await page.locator("#preview-quantity").fill("3");
  await page.locator("#preview-go").click();
  const result = page.locator("#preview-result");
  await waitForText(result, `${euros("30.50", "de-DE")} / t`);
  await waitForText(result, euros("91.50", "de-DE"));
  await waitForText(page.locator("#preview-rule"), "Regel: Baustoffhandel: 30,50 per t for SAND-04 from 2,5 t.");
  await waitForText(page.locator("#preview-rule"), `Spart ${euros("22.50", "de-DE")}`);
  // Fewer than 2,5 t: no rule.
  await page.locator("#preview-quantity").fill("2");
  await page.locator("#preview-go").click();
  await waitForText(page.locator("#preview-rule"), "Listenpreis — keine Regel greift.");
  await screenshot(page, "trade-price-list-de");
});
