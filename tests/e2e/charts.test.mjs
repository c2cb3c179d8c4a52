// The dashboard's charts: drawn from the demo's ledger by /api/v1/reports/*,
// on a laptop and on a phone, with their figures as tables that match the API.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OWNER, PHONE, apiAs, openPage, screenshot, signIn } from "./support.mjs";

for (const [name, viewport] of [["laptop", { width: 1366, height: 900 }], ["phone", { width: 390, height: 844 }]]) {
  test(`the dashboard charts the demo's stock value, movements, top products and quotes (${name})`, async (t) => {
    const call = await apiAs(t, OWNER);
    const [value, movements, top, quotes] = await Promise.all([
      call("GET", "/api/v1/reports/stock-value?days=90"),
      call("GET", "/api/v1/reports/movements?days=90"),
      call("GET", "/api/v1/reports/top-products?days=90"),
      call("GET", "/api/v1/reports/quotes?days=90"),
    ]);
    // The demo has a history: the charts have something to show.
    assert.ok(movements.days.some((d) => d.ship > 0), "the demo ships in the last 90 days");
    assert.ok(top.items.length > 0, "something was shipped");

    const page = await openPage(t, { viewport });
    await signIn(page, OWNER);
    const valueChart = page.locator("#chart-value svg.chart");
    await valueChart.waitFor();
    // One point per day, a line through them.
    assert.equal(await page.locator("#chart-value circle").count(), value.days.length);
    assert.equal(await page.locator("#chart-value polyline").count(), 1);
    // Stacked bars: one rectangle per day and kind with movements.
    const kinds = ["receive", "ship", "transfer", "adjust", "reserve", "release"];
    const segments = movements.days.reduce((n, d) => n + kinds.filter((k) => d[k] > 0).length, 0);
    await page.locator("#chart-movements svg.chart").waitFor();
    assert.equal(await page.locator("#chart-movements rect").count(), segments);
    // Top products: a bar each, the first named.
    await page.locator("#chart-top svg.chart").waitFor();
    assert.equal(await page.locator("#chart-top rect").count(), top.items.length);
    const firstName = top.items[0].name ?? top.items[0].sku;
    assert.ok((await page.locator("#chart-top svg").textContent()).includes(firstName.slice(0, 20)), firstName);
    // Quotes: a bar per outcome, won and lost said in words.
    await page.locator("#chart-quotes svg.chart").waitFor();
    assert.equal(await page.locator("#chart-quotes rect").count(), quotes.statuses.length);
    assert.ok((await page.locator("#chart-quotes").textContent()).includes(`Won: ${quotes.won}`));

    // The figures behind the value chart: today's value first, as the API says.
    const figures = page.locator("#chart-value details");
    await figures.locator("summary").click();
    const firstRow = figures.locator("tbody tr").first();
    const today = value.days.at(-1).value;
    const shown = (await firstRow.locator("td").nth(1).textContent()).replace(/[^\d.]/g, "");
    assert.equal(Number(shown), Number(today), `today's value: ${await firstRow.textContent()} vs ${today}`);
    assert.equal(await figures.locator("tbody tr").count(), value.days.length);

    // Charts fit their cards: nothing is wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    for (const box of await page.locator("svg.chart").all()) {
      const rect = await box.boundingBox();
      assert.ok(rect.x + rect.width <= viewport.width + 1, "a chart sticks out of the screen");
    }
    await page.locator("#charts-title").scrollIntoViewIfNeeded();
    await screenshot(page, "admin-charts");

    // Another period redraws them.
    await page.locator("#chart-days").selectOption("30");
    await page.waitForFunction(() => document.querySelectorAll("#chart-value circle").length === 30);
  });
}
