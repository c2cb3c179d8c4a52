// Product photos: staff upload them in the back office (the file picker and
// the drop zone), describe them, choose the main one and remove them; the
// storefront shows them on the product page, in search results and in the
// quote list; a file that is not a photo is refused in words. Each test
// removes the photos it added, so the shop is left as it was.
import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32, deflateSync } from "node:zlib";
import { request } from "playwright-core";
import { BASE, DESKTOP, PHONE, STAFF, TIMEOUT, apiAs, openPage, screenshot, signIn, waitForText } from "./support.mjs";

/** A PNG of `width`×`height` pixels: a gradient from `from` to `to` (RGB),
 *  so photos of different colours are different files. */
function png(width, height, from, to) {
  const row = width * 3 + 1;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const share = (x + y) / (width + height - 2);
      for (let c = 0; c < 3; c += 1) raw[y * row + 1 + x * 3 + c] = Math.round(from[c] + (to[c] - from[c]) * share);
    }
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits a channel, RGB, no interlacing
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const RED = { name: "red-gravel.png", mimeType: "image/png", buffer: png(160, 120, [200, 40, 30], [250, 180, 60]) };
const BLUE = { name: "blue-gravel.png", mimeType: "image/png", buffer: png(120, 160, [20, 60, 200], [120, 220, 250]) };
/** Text, named like a photo: the server judges by content. */
const NOT_A_PHOTO = { name: "delivery-note.jpg", mimeType: "image/jpeg", buffer: Buffer.from("Delivery note: 20 t of gravel, Tuesday.\n") };

/**
 * A member of staff's API session, answering raw responses (a DELETE has no
 * body): `send(method, path, options)`, options as playwright's `fetch`;
 * `send.dispose()` ends it.
 */
async function staffApi() {
  const api = await request.newContext({ baseURL: BASE, extraHTTPHeaders: { origin: BASE } });
  const login = await api.post("/api/v1/auth/login", { data: STAFF });
  assert.equal(login.status(), 200, `signing in: ${await login.text()}`);
  const { csrf_token: csrf } = await login.json();
  const send = (method, path, options = {}) => api.fetch(path, { method, ...options, headers: { "x-csrf-token": csrf, ...options.headers } });
  send.dispose = () => api.dispose();
  return send;
}

async function json(response) {
  assert.ok(response.ok(), `${response.url()} answered ${response.status()}: ${await response.text()}`);
  return response.json();
}

/**
 * A product of the demo for these tests (a gravel, which no other test
 * changes), its photos as they were, and a clean-up that removes every photo
 * added since, whatever became of the test.
 */
async function gravel(t) {
  const send = await staffApi();
  const found = await json(await send("GET", "/api/v1/search?q=gravel&limit=1"));
  const sku = found.hits[0]?.sku ?? assert.fail("the demo has no gravel");
  const images = () => send("GET", `/api/v1/products/${encodeURIComponent(sku)}/images`).then(json);
  const before = await images();
  // Hooks run in the order they were added: this one ends the session itself.
  t.after(async () => {
    try {
      for (const image of await images()) {
        if (before.some((b) => b.id === image.id)) continue;
        const gone = await send("DELETE", `/api/v1/products/${encodeURIComponent(sku)}/images/${image.id}`);
        assert.equal(gone.status(), 204, `removing photo ${image.id} of ${sku}`);
      }
    } finally {
      await send.dispose();
    }
  });
  return { sku, send, images, before };
}

/** Brings the image `locator` finds into view (a lazy one loads only then)
 *  and answers its width in pixels once it has loaded (0: it did not). */
async function loaded(locator) {
  await locator.scrollIntoViewIfNeeded();
  return locator.evaluate((img, timeout) => (img.complete ? img.naturalWidth : new Promise((done) => {
    const finish = () => done(img.naturalWidth);
    img.addEventListener("load", finish, { once: true });
    img.addEventListener("error", finish, { once: true });
    setTimeout(finish, timeout);
  })), TIMEOUT);
}

/** Polls `check` until it answers true (the search index follows the catalogue a moment later). */
async function eventually(what, check) {
  const end = Date.now() + TIMEOUT;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what} did not happen within ${TIMEOUT} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test("staff upload photos; the product page, search results and quote list show them; the main one changes; they are removed", async (t) => {
  const { sku, send, images, before } = await gravel(t);
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/product?sku=${encodeURIComponent(sku)}`);
  await page.locator("#photos #photo-drop").waitFor();

  // Two files at once, through the file picker.
  await page.locator("#photo-files").setInputFiles([RED, BLUE]);
  const uploads = page.locator("#photo-uploads li");
  await waitForText(uploads.filter({ hasText: RED.name }), "Added.");
  await waitForText(uploads.filter({ hasText: BLUE.name }), "Added.");
  const added = (await images()).filter((image) => !before.some((b) => b.id === image.id));
  assert.equal(added.length, 2, "two photos were not added");
  const [red, blue] = added;
  assert.equal(red.alt, blue.alt, "the photos are not described alike by default");
  for (const image of added) {
    assert.ok(await loaded(page.locator(`#photo-list li[data-id="${image.id}"] img`)) > 0, `the thumbnail of ${image.id} does not load`);
  }
  assert.equal(await page.locator("#photo-list li").count(), before.length + 2);

  // The blue one made the main photo, and described.
  const blueItem = page.locator(`#photo-list li[data-id="${blue.id}"]`);
  await blueItem.locator(".make-main").click();
  await page.locator(`#photo-list li:first-child[data-id="${blue.id}"]`).waitFor();
  await waitForText(blueItem.locator(".badge"), "Main photo");
  assert.ok(await blueItem.locator(".make-main").isHidden(), "the main photo offers to be made main");
  assert.equal((await images())[0].id, blue.id);
  const alt = "Blue gravel in a heap, seen from above";
  await blueItem.locator("input[name=alt]").fill(alt);
  await blueItem.locator("button[type=submit]").click();
  await waitForText(blueItem.locator(".message"), "Text saved.");
  assert.equal((await images())[0].alt, alt);
  await screenshot(page, "admin-photos");

  // The product's form is still saved as the newest version, photos and all.
  await page.locator("#save-product").click();
  await page.locator("#product-message.ok").waitFor();
  assert.equal((await images()).length, before.length + 2, "saving the form lost photos");

  // The product page: the main photo large, every photo a button that shows it.
  const shop = await openPage(t);
  await shop.goto(`/p/${encodeURIComponent(sku)}`);
  const photo = shop.locator("#gallery #photo");
  await shop.locator(`#photo[src="${blue.url}"]`).waitFor();
  assert.ok(await loaded(photo) > 0, "the main photo does not load");
  assert.equal(await photo.getAttribute("alt"), alt);
  const choices = shop.locator("#photo-choices button");
  assert.equal(await choices.count(), before.length + 2);
  assert.equal(await choices.first().getAttribute("aria-pressed"), "true");
  // Chosen from the keyboard.
  const redChoice = shop.locator(`#photo-choices button:has(img[src="${red.thumb_url}"])`);
  await redChoice.focus();
  await shop.keyboard.press("Enter");
  await shop.locator(`#photo[src="${red.url}"]`).waitFor();
  assert.ok(await loaded(photo) > 0, "the other photo does not load");
  assert.equal(await redChoice.getAttribute("aria-pressed"), "true");
  assert.equal(await choices.first().getAttribute("aria-pressed"), "false");
  await screenshot(shop, "product-photos");

  // Added to the quote list, the line keeps the main photo's thumbnail.
  await shop.locator("#add-to-quote").click();
  await waitForText(shop.locator("#basket-count"), "1");
  await shop.goto("/quote");
  const lineThumb = shop.locator("#lines tr.line .line-photo img");
  assert.equal(await lineThumb.getAttribute("src"), blue.thumb_url);
  assert.ok(await loaded(lineThumb) > 0, "the quote list's thumbnail does not load");
  await screenshot(shop, "quote-list-photo");

  // Search results: the hit shows the main photo's thumbnail with its text.
  await eventually("the search hit's thumbnail", async () => {
    const found = await json(await send("GET", `/api/v1/search?q=${encodeURIComponent(sku)}`));
    return found.hits.find((hit) => hit.sku === sku)?.image?.thumb_url === blue.thumb_url;
  });
  await shop.goto(`/?q=${encodeURIComponent(sku)}`);
  const hitThumb = shop.locator(`#results li.hit[data-sku="${sku}"] .hit-photo img`);
  await hitThumb.waitFor();
  assert.equal(await hitThumb.getAttribute("src"), blue.thumb_url);
  assert.equal(await hitThumb.getAttribute("alt"), alt);
  assert.equal(await hitThumb.getAttribute("loading"), "lazy");
  assert.ok(await loaded(hitThumb) > 0, "the search result's thumbnail does not load");
  await screenshot(shop, "storefront-photo");

  // Both removed, each after saying yes.
  page.on("dialog", (dialog) => dialog.accept());
  for (const image of [red, blue]) {
    await page.locator(`#photo-list li[data-id="${image.id}"] .remove-photo`).click();
    await page.locator(`#photo-list li[data-id="${image.id}"]`).waitFor({ state: "detached" });
  }
  await waitForText(page.locator("#photos-status"), "Photo removed.");
  assert.deepEqual((await images()).map((i) => i.id), before.map((i) => i.id));
  // And the form is still saved as the newest version.
  await page.locator("#save-product").click();
  await page.locator("#product-message.ok").waitFor();
});

test("a file that is not a photo is refused with the server's reason, in English and in German", async (t) => {
  const { sku, send, images, before } = await gravel(t);
  // What the server says of it.
  const refused = await send("POST", `/api/v1/products/${encodeURIComponent(sku)}/images`, { multipart: { file: NOT_A_PHOTO } });
  assert.equal(refused.status(), 422);
  const { error } = await refused.json();
  assert.equal(error.code, "unsupported_image");

  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/product?sku=${encodeURIComponent(sku)}`);
  await page.locator("#photo-files").setInputFiles([NOT_A_PHOTO, RED]);
  const line = page.locator("#photo-uploads li").filter({ hasText: NOT_A_PHOTO.name });
  await page.locator("#photo-uploads li[data-state=error]").waitFor();
  // Its words, as the page puts them (capitalised).
  await waitForText(line, error.message);
  // The other file of the same choice is added all the same.
  await waitForText(page.locator("#photo-uploads li").filter({ hasText: RED.name }), "Added.");
  assert.equal((await images()).length, before.length + 1);
  await screenshot(page, "admin-photo-refused");

  // The back office in German says so in German.
  await page.evaluate(() => localStorage.setItem("quarry.language", "de"));
  await page.reload();
  await page.locator("#photo-files").setInputFiles([NOT_A_PHOTO]);
  await waitForText(page.locator("#photo-uploads li[data-state=error]"), "kein JPEG-, PNG- oder WebP-Bild");
});

test("photos dropped on the drop zone are uploaded", async (t) => {
  const { sku, images, before } = await gravel(t);
  const page = await openPage(t);
  await signIn(page, STAFF, `/admin/product?sku=${encodeURIComponent(sku)}`);
  const zone = page.locator("#photo-drop");
  await zone.waitFor();
  // A photo drawn in the page, dropped as a file.
  const dropped = await page.evaluateHandle(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 200;
    canvas.height = 150;
    const g = canvas.getContext("2d");
    g.fillStyle = "#7a6a4f";
    g.fillRect(0, 0, 200, 150);
    g.fillStyle = "#c9b98f";
    g.beginPath();
    g.arc(100, 110, 70, Math.PI, 0);
    g.fill();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], "heap.png", { type: "image/png" }));
    return transfer;
  });
  await zone.dispatchEvent("dragenter", { dataTransfer: dropped });
  assert.ok(await zone.evaluate((el) => el.classList.contains("over")), "the drop zone does not light up");
  await zone.dispatchEvent("drop", { dataTransfer: dropped });
  await waitForText(page.locator("#photo-uploads li").filter({ hasText: "heap.png" }), "Added.");
  const now = await images();
  assert.equal(now.length, before.length + 1);
  await page.locator(`#photo-list li[data-id="${now.at(-1).id}"] img`).waitFor();
  assert.ok(!(await zone.evaluate((el) => el.classList.contains("over"))), "the drop zone stays lit");
});

for (const viewport of [DESKTOP, PHONE]) {
  test(`search results at ${viewport.width} px keep a box of one shape for each product's photo, or its placeholder`, async (t) => {
    const page = await openPage(t, { viewport });
    await page.goto("/?q=gravel");
    const boxes = page.locator("#results li.hit .hit-photo .photo-box");
    await boxes.first().waitFor();
    const sizes = await boxes.evaluateAll((all) => all.map((box) => {
      const { width, height } = box.getBoundingClientRect();
      return { width, height, empty: box.classList.contains("empty"), picture: Boolean(box.querySelector("svg, img")) };
    }));
    for (const size of sizes) {
      assert.ok(size.picture, "a result has neither photo nor placeholder");
      assert.ok(size.width > 40, `a photo box is ${size.width} px wide`);
      assert.ok(Math.abs(size.width / size.height - 4 / 3) < 0.05, `a photo box is ${size.width}×${size.height}`);
    }
    await screenshot(page, "storefront-photos");
  });
}

test("a quote shows each line's photo: on the customer's page and on its back-office page", async (t) => {
  const api = await apiAs(t, STAFF);
  const made = await api("POST", "/api/v1/quotes", {
    lines: [{ sku: "SAND-04", quantity: "2", unit: "t" }, { sku: "CEM-425", quantity: "4", unit: "bag" }],
    contact: { name: "E2E Photo", email: "photo@example.com" },
  });
  const { photos } = await api("GET", `/api/v1/quotes/${made.number}`);
  assert.ok(photos?.["SAND-04"]?.thumb_url, `the demo's sand has a photo: ${JSON.stringify(photos)}`);
  const loaded = (selector) => (page) => page.waitForFunction((css) => {
    const images = [...document.querySelectorAll(css)];
    return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
  }, selector, { timeout: TIMEOUT });

  const customer = await openPage(t);
  await customer.goto(new URL(made.link).pathname);
  await loaded("main.quote img.thumb")(customer);
  const shown = await customer.locator("main.quote img.thumb").evaluateAll((images) => images.map((img) => img.getAttribute("src")));
  assert.equal(shown.length, Object.keys(photos).length, `one photo per line that has one: ${shown}`);
  assert.ok(shown.includes(photos["SAND-04"].thumb_url), `photos on the page: ${shown}`);
  await screenshot(customer, "quote-page-photos");

  const staff = await openPage(t);
  await signIn(staff, STAFF, `/admin/quote?number=${made.number}`);
  await loaded("main .line-photo img")(staff);
  const inOffice = await staff.locator("main .line-photo img").evaluateAll((images) => images.map((img) => img.getAttribute("src")));
  assert.ok(inOffice.includes(photos["SAND-04"].thumb_url), `photos in the back office: ${inOffice}`);
});
