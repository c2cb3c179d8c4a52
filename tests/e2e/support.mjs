// Shared plumbing for Quarry's browser tests: one headless Chromium per test file,
// a fresh context and page per test that fails the test on a CSP violation or an
// uncaught error, sign-in helpers for the browser and the API, full-page
// screenshots, and a demo shop of other settings (another locale) for the tests
// that need one. scripts/e2e starts the demo shop and sets QUARRY_URL.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { after } from "node:test";
import { chromium, request } from "playwright-core";

export const BASE = process.env.QUARRY_URL ?? assert.fail("QUARRY_URL is not set: run the tests with scripts/e2e");
export const OUT = path.resolve(process.env.E2E_OUT ?? "target/e2e");
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };
/** The logins `quarry demo` seeds. */
export const OWNER = { username: "owner", password: "quarry-demo-owner" };
export const STAFF = { username: "yard", password: "quarry-demo-staff" };
/** How long any one wait may take: pages answer a local server in well under this. */
export const TIMEOUT = 10_000;

let browser;
// Registered at the top level, so it runs once this file's tests are done.
after(() => browser?.close());

/**
 * A page of its own (new context: no cookies, no storage) at `viewport`, on the
 * demo shop (or the shop at `base`), drawn at `scale` device pixels a CSS pixel.
 * Closed when the test ends, failing the test if the page logged a CSP
 * violation or threw.
 */
export async function openPage(t, { viewport = DESKTOP, base = BASE, scale = 1 } = {}) {
  browser ??= await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const context = await browser.newContext({ baseURL: base, viewport, deviceScaleFactor: scale });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content[- ]Security[- ]Policy/i.test(message.text())) {
      problems.push(`CSP violation on ${page.url()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`uncaught error on ${page.url()}: ${error.message}`));
  t.after(async () => {
    await context.close();
    assert.deepEqual(problems, [], "the page reported problems");
  });
  return page;
}

/** Signs in through `/admin/login` and waits until the browser has left it. */
export async function signIn(page, { username, password }, next) {
  await page.goto(next ? `/admin/login?next=${encodeURIComponent(next)}` : "/admin/login");
  const form = page.locator("#login");
  await form.locator("[name=username]").fill(username);
  await form.locator("[name=password]").fill(password);
  await form.locator("[type=submit]").click();
  await page.waitForURL((url) => url.pathname !== "/admin/login");
}

/**
 * An API client signed in as `user` with a browser session (on the demo shop,
 * or the shop at `base`): `call(method, path, body)` sends the CSRF token and
 * the shop's own origin, and returns the parsed JSON, failing on any error status.
 */
export async function apiAs(t, { username, password }, { base = BASE } = {}) {
  const api = await request.newContext({ baseURL: base, extraHTTPHeaders: { origin: base } });
  t.after(() => api.dispose());
  const login = await api.post("/api/v1/auth/login", { data: { username, password } });
  assert.equal(login.status(), 200, `signing in as ${username}: ${await login.text()}`);
  const { csrf_token: csrf } = await login.json();
  return async function call(method, url, body) {
    const response = await api.fetch(url, { method, data: body, headers: { "x-csrf-token": csrf } });
    assert.ok(response.ok(), `${method} ${url} answered ${response.status()}: ${await response.text()}`);
    return response.json();
  };
}

/** Sets a form field to `value`, whether it is typed (input, textarea) or chosen (select). */
export async function setField(field, value) {
  if (await field.evaluate((element) => element.tagName === "SELECT")) await field.selectOption(value);
  else await field.fill(value);
}

/** Saves a full-page screenshot as `OUT/{name}-{width}.png`. */
export async function screenshot(page, name) {
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${name}-${page.viewportSize().width}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits until one element `locator` matches contains `text`; fails showing what they do contain. */
export async function waitForText(locator, text) {
  try {
    await locator.filter({ hasText: text }).first().waitFor();
  } catch {
    const shown = await locator.allTextContents().catch(() => []);
    assert.fail(`${locator} never showed ${JSON.stringify(String(text))}; it shows ${JSON.stringify(shown)}`);
  }
}

/**
 * Starts `quarry demo` on a free port with `settings` (QUARRY_* variables) as
 * its only configuration, its log in OUT/`name`.log; answers its address and
 * a function that stops it (SIGTERM: the demo removes its data directory).
 */
export async function startDemo(name, settings) {
  const bin = process.env.QUARRY_BIN ?? assert.fail("QUARRY_BIN is not set: run the tests with scripts/e2e");
  // Quarry reads every QUARRY_* variable as configuration and rejects unknown
  // ones: this shop gets none of the test run's (QUARRY_URL, QUARRY_BIN).
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("QUARRY_")));
  const child = spawn(bin, ["demo", "--listen", "127.0.0.1:0"], { env: { ...env, ...settings }, stdio: ["ignore", "pipe", "pipe"] });
  mkdirSync(OUT, { recursive: true });
  const log = createWriteStream(path.join(OUT, `${name}.log`));
  let seen = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${name} shop did not print its address within 60 s:\n${seen}`)), 60_000);
    const read = (chunk) => {
      log.write(chunk);
      seen += chunk;
      const address = /^Quarry demo: (http:\/\/[0-9.:]+)/m.exec(seen)?.[1];
      if (address) {
        clearTimeout(timer);
        resolve(address);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${name} shop exited (${code}) before it was ready:\n${seen}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    log.end();
  };
  return { url, stop };
}
