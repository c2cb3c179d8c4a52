// Webhooks in the back office: an owner adds an endpoint (its secret shown
// once), pings it, books stock, and sees the delivery in the log; the
// receiver (a server on a loopback port, allowed by scripts/e2e) checks every
// signature the Standard Webhooks way.
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { test } from "node:test";
import { OWNER, STAFF, apiAs, openPage, screenshot, signIn, waitForText } from "./support.mjs";

/** The few lines a receiver needs: true when one signature matches. */
function verify(secret, id, timestamp, signatures, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = Buffer.from(createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64"));
  return signatures.split(" ").some((s) => {
    const given = Buffer.from(s.replace(/^v1,/, ""));
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

async function receiver(t) {
  const got = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => { body += chunk; });
    request.on("end", () => {
      got.push({ headers: request.headers, body });
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${server.address().port}/hook`, got };
}

async function until(what, check) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  assert.fail(`never got ${what}`);
}

test("an owner adds an endpoint, pings it, and sees a booking delivered and logged", async (t) => {
  const { url, got } = await receiver(t);
  const page = await openPage(t);
  await signIn(page, OWNER, "/admin/webhooks");
  const form = page.locator("form").filter({ has: page.locator("[name=url]") });
  await form.waitFor();
  await form.locator("[name=url]").fill(url);
  await form.locator("[name=description]").fill("E2E receiver");
  await form.locator("input[name=events][value='movement.booked']").check();
  await form.locator("button[type=submit]").click();
  const secretBox = page.locator(".secret");
  await secretBox.waitFor();
  const secret = (await secretBox.textContent()).trim();
  assert.match(secret, /^whsec_/);
  const row = page.locator("tr").filter({ hasText: url });
  await row.waitFor();

  await row.getByRole("button", { name: "Ping" }).click();
  await waitForText(page.locator(".message"), "Ping delivered");
  await until("the ping", () => got.length >= 1);
  const ping = got[0];
  assert.equal(JSON.parse(ping.body).type, "webhook.ping");
  assert.ok(verify(secret, ping.headers["webhook-id"], ping.headers["webhook-timestamp"], ping.headers["webhook-signature"], ping.body), "the ping's signature");

  const staff = await apiAs(t, STAFF);
  const booked = await staff("POST", "/api/v1/movements", {
    kind: "receive", location: "YARD", reference: "E2E-HOOK", lines: [{ sku: "BRK-ENGB", quantity: "5" }],
  });
  await until("the movement", () => got.some((m) => JSON.parse(m.body).type === "movement.booked"));
  const message = got.find((m) => JSON.parse(m.body).type === "movement.booked");
  assert.equal(message.headers["webhook-id"], String(booked.seq));
  assert.equal(JSON.parse(message.body).data.reference, "E2E-HOOK");
  assert.ok(verify(secret, message.headers["webhook-id"], message.headers["webhook-timestamp"], message.headers["webhook-signature"], message.body), "the movement's signature");

  // The log is written once the receiver answered, a moment after it got
  // the message: the page shows the log as it is when opened.
  const owner = await apiAs(t, OWNER);
  const hook = (await owner("GET", "/api/v1/webhooks")).items.find((w) => w.url === url);
  await until("the delivery logged", async () => {
    const logged = await owner("GET", `/api/v1/webhooks/${hook.id}/deliveries`);
    return logged.items.some((d) => d.event === "movement.booked");
  });
  await row.getByRole("button", { name: "Log" }).click();
  const log = page.locator("#deliveries");
  await waitForText(log.locator("tr"), "movement.booked");
  await waitForText(log.locator("tr"), "webhook.ping");
  await screenshot(page, "admin-webhooks");

  // Cleaned up, so other runs against the same demo start without it.
  page.on("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: "Delete" }).click();
  await waitForText(page.locator(".message"), "deleted");
  const left = await owner("GET", "/api/v1/webhooks");
  assert.ok(!left.items.some((w) => w.url === url));
});
