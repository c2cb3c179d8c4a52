// Stock: book a receipt, shipment, transfer or count of many lines at once.
// The SKU-or-barcode field works with a USB scanner (it types the code and
// Enter) and, where the browser has BarcodeDetector, with the camera; typed
// words also find products by name, in a list picked from with the keyboard
// (a combobox). Below, the levels per product and location.
import { api, idempotencyKey } from "/assets/api.js";
import { busy, clearErrors, h, readNumbers, say, showError } from "/assets/ui.js";
import { card, kindName, paged, productCell, stockQuantity, table } from "/assets/admin-kit.js";
import { decimal, readNumber, t, toInput } from "/assets/i18n.js";
import { addDecimals } from "/assets/quote-basket.js";
import { named, productCombobox, SEARCH_FROM } from "/assets/product-combobox.js";

/** The kinds of movement, each with what it does. */
const KINDS = () => [
  ["receive", t("stock.kind.receive")],
  ["ship", t("stock.kind.ship")],
  ["transfer", t("stock.kind.transfer")],
  ["adjust", t("stock.kind.adjust")],
  ["reserve", t("stock.kind.reserve")],
  ["release", t("stock.kind.release")],
];

/** Finds a product by SKU, then by barcode. */
async function lookup(code) {
  try {
    return await api(`/products/${encodeURIComponent(code)}`);
  } catch (error) {
    if (error.status !== 404 && error.status !== 400) throw error;
  }
  const found = await api("/products", { query: { barcode: code } }).catch(() => ({ items: [] }));
  return found.items[0] ?? null;
}

function movementForm(locations, staff) {
  const options = () => locations.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`));
  const kind = h("select", { name: "kind" }, KINDS().map(([v, label]) => h("option", { value: v }, label)));
  const location = h("select", { name: "location" }, options());
  const to = h("select", { name: "to" }, options());
  const toLabel = h("label", { hidden: true }, t("stock.to"), to);
  const locationLabel = h("label", {}, h("span", {}, t("stock.location")), location);
  const scan = h("input", {
    id: "scan", name: "scan", autocomplete: "off", maxlength: "64", placeholder: t("stock.scanPlaceholder"), enterkeyhint: "enter",
    role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "scan-options",
  });
  const choices = h("ul", { id: "scan-options", role: "listbox", "aria-labelledby": "scan-label", hidden: true });
  // Says how many products match, for those who cannot see the list open.
  const matches = h("p", { class: "visually-hidden", role: "status" });
  const add = h("button", { type: "button", class: "secondary" }, t("stock.addLine"));
  const camera = h("button", { type: "button", class: "secondary", hidden: !("BarcodeDetector" in window) }, t("stock.camera"));
  const video = h("video", { class: "scanner", hidden: true, muted: true, playsinline: true });
  const tbody = h("tbody");
  const lines = h("table", { id: "movement-lines" },
    h("thead", {}, h("tr", {}, h("th", {}, t("stock.product")), h("th", {}, t("stock.quantity")), h("th", {}, t("stock.unit")), h("th", { class: "adjust-only" }, t("stock.reason")), h("th", {}, h("span", { class: "visually-hidden" }, t("stock.remove"))))),
    tbody);
  const empty = h("p", { class: "muted" }, t("stock.noLines"));
  const message = h("p", { id: "movement-message", class: "message", role: "alert" });
  const book = h("button", { type: "submit", id: "book" }, t("stock.book"));
  const form = h("form", { id: "movement", class: "stack", novalidate: true },
    h("div", { class: "form-grid" },
      h("label", {}, t("stock.movement"), kind),
      locationLabel, toLabel,
      h("label", {}, t("stock.reference"), h("input", { name: "reference", maxlength: "255", placeholder: t("stock.referenceExample") })),
      h("label", {}, t("stock.note"), h("input", { name: "note", maxlength: "2000" }))),
    h("div", { class: "row" },
      h("div", { class: "combo" }, h("label", {}, h("span", { id: "scan-label" }, t("stock.scan")), scan), choices, matches),
      add, camera),
    video,
    h("div", { class: "table-wrap" }, lines),
    empty,
    message,
    h("div", { class: "actions" }, book));
  if (!staff) {
    form.replaceChildren(h("p", { class: "muted" }, t("stock.viewersOnly")));
    return form;
  }
  let key = idempotencyKey();

  const adjusting = () => kind.value === "adjust";
  function renumber() {
    [...tbody.children].forEach((tr, i) => {
      for (const el of tr.querySelectorAll("[data-field]")) el.name = `lines[${i}].${el.dataset.field}`;
    });
    lines.hidden = tbody.children.length === 0;
    empty.hidden = !lines.hidden;
  }
  function showKind() {
    const transfer = kind.value === "transfer";
    toLabel.hidden = !transfer;
    locationLabel.firstChild.textContent = transfer ? t("stock.from") : t("stock.location");
    for (const el of form.querySelectorAll(".adjust-only")) el.hidden = !adjusting();
  }
  kind.addEventListener("change", () => {
    showKind();
    localStorage.setItem("quarry.movement-kind", kind.value);
  });
  location.addEventListener("change", () => localStorage.setItem("quarry.movement-location", location.value));
  // The yard books the same kind at the same place all day: start from the last one.
  kind.value = localStorage.getItem("quarry.movement-kind") ?? "receive";
  if (!kind.value) kind.value = "receive";
  const lastPlace = localStorage.getItem("quarry.movement-location");
  if (locations.some((l) => l.code === lastPlace)) location.value = lastPlace;

  async function addLine(raw) {
    const code = raw.trim();
    if (!code) return;
    say(message, t("stock.lookingUp", { code }), "info");
    let product;
    try {
      product = await lookup(code);
    } catch (error) {
      say(message, error.message, "error");
      return;
    }
    if (!product) {
      await offerNamed(code);
      return;
    }
    const existing = [...tbody.children].find((tr) => tr.dataset.sku === product.sku);
    if (existing) {
      const quantity = existing.querySelector('[data-field="quantity"]');
      // Counted the shop's way: "2,5" and one more is "3,5".
      const read = readNumber(quantity.value);
      const more = read.error ? "1" : addDecimals(read.value, "1") ?? String(Number(read.value) + 1);
      quantity.value = toInput(more);
      say(message, t("stock.oneMore", { sku: product.sku, quantity: decimal(more) }), "ok");
      return;
    }
    const units = [product.unit, ...(product.packs ?? []).map((p) => p.name)];
    const remove = h("button", { type: "button", class: "secondary", "aria-label": t("stock.removeOne", { sku: product.sku }) }, t("stock.remove"));
    const tr = h("tr", { dataset: { sku: product.sku } },
      h("td", {}, h("strong", {}, product.sku), h("div", { class: "muted" }, product.name)),
      h("td", {}, h("div", { class: "row nowrap" },
        h("select", { dataset: { field: "mode" }, class: "adjust-only", "aria-label": t("stock.mode"), hidden: !adjusting() },
          h("option", { value: "quantity" }, t("stock.changeBy")), h("option", { value: "counted" }, t("stock.counted"))),
        h("input", { class: "qty", dataset: { field: "quantity" }, value: "1", inputmode: "decimal", maxlength: "24", "aria-label": t("stock.quantityOf", { sku: product.sku }) }))),
      h("td", {}, h("select", { dataset: { field: "unit" }, "aria-label": t("stock.unitFor", { sku: product.sku }) }, units.map((u) => h("option", { value: u }, u)))),
      h("td", { class: "adjust-only", hidden: !adjusting() }, h("input", { dataset: { field: "reason" }, maxlength: "2000", "aria-label": t("stock.reasonFor", { sku: product.sku }), placeholder: t("stock.reasonExample") })),
      h("td", {}, remove));
    remove.addEventListener("click", () => {
      tr.remove();
      renumber();
      // The button is gone with its line: carry on where lines are added.
      scan.focus();
    });
    tbody.append(tr);
    renumber();
    say(message, t("stock.added", { sku: product.sku, name: product.name }), "ok");
  }

  /**
   * No product has `code` as its SKU or barcode: offer the products named
   * like it in the list, when the box is free to show them, or say there are none.
   */
  async function offerNamed(code) {
    let hits = [];
    if (code.length >= SEARCH_FROM) {
      // Typing, a scan or a pick since (each a new generation) wins.
      const asked = combo.generation();
      hits = await named(code).catch(() => []);
      // Only in a box still empty and in use: not over what is typed since,
      // nor under a box left for the camera.
      if (hits.length > 0 && asked === combo.generation() && scan.value === "" && document.activeElement === scan) {
        scan.value = code;
        combo.show(hits);
        say(message, t("stock.pickByName", { code }), "info");
        return;
      }
    }
    say(message, t(hits.length > 0 ? "stock.unknownCode" : "stock.unknownCodeOrName", { code }), "error");
  }

  // The list of products named like what is typed (product-combobox.js): Enter
  // with nothing highlighted takes what is typed as a SKU or barcode at once.
  const combo = productCombobox({
    input: scan, listbox: choices, status: matches, optionId: "scan-option",
    matches: (count) => t("stock.matches", { count }),
    onPick: addLine,
    // A USB scanner types the code and presses Enter, or a SKU was typed
    // whole: add the line at once and stay here. A lookup by name still
    // waiting must not open the list after the line is added.
    onEnter: () => combo.take(scan.value),
  });
  // Enter in any other field goes back to scanning instead of booking: a
  // scanner that reads a delivery note into Reference, or a quantity typed
  // and entered, must not book half a delivery. Book is its own button.
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target === scan || event.target.tagName !== "INPUT") return;
    event.preventDefault();
    scan.focus();
  });
  add.addEventListener("click", () => {
    scan.focus();
    combo.take(scan.value);
  });
  camera.addEventListener("click", () => scanWithCamera(video, camera, addLine, message));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const text = (name) => String(data.get(name) ?? "").trim() || null;
    // The lines' quantities, read the shop's way ("2,5" in de-DE).
    const quantities = readNumbers(form, message, Object.fromEntries(
      [...tbody.querySelectorAll('[data-field="quantity"]')].map((el) => [el.name, el.value])));
    if (!quantities) return;
    const body = {
      kind: kind.value,
      reference: text("reference"),
      note: text("note"),
      lines: [...tbody.children].map((tr) => {
        const field = (name) => tr.querySelector(`[data-field="${name}"]`)?.value.trim() || null;
        const counted = adjusting() && field("mode") === "counted";
        return {
          sku: tr.dataset.sku,
          [counted ? "counted" : "quantity"]: quantities[tr.querySelector('[data-field="quantity"]').name] ?? field("quantity"),
          unit: field("unit"),
          reason: adjusting() ? field("reason") : null,
        };
      }),
    };
    if (kind.value === "transfer") Object.assign(body, { from: location.value, to: to.value });
    else body.location = location.value;
    if (body.lines.length === 0) {
      say(message, t("stock.noLinesToBook"), "error");
      scan.focus();
      return;
    }
    try {
      const movement = await busy(book, t("stock.booking"), () =>
        api("/movements", { method: "POST", body, headers: { "idempotency-key": key } }));
      key = idempotencyKey();
      tbody.replaceChildren();
      form.elements.reference.value = "";
      form.elements.note.value = "";
      say(message, t("stock.booked", { id: String(movement.id), kind: kindName(movement.kind), count: movement.lines.length }), "ok");
      form.dispatchEvent(new CustomEvent("booked", { detail: movement }));
      scan.focus();
    } catch (error) {
      showError(form, message, error);
    }
  });
  showKind();
  renumber();
  // Opened from a product's page: its movement, location and product set
  // (`?book=receive&at=YARD&add=SAND-04`).
  const asked = new URLSearchParams(window.location.search);
  if (KINDS().some(([value]) => value === asked.get("book"))) {
    kind.value = asked.get("book");
    kind.dispatchEvent(new Event("change"));
  }
  if (locations.some((l) => l.code === asked.get("at"))) location.value = asked.get("at");
  if (asked.get("add")) addLine(asked.get("add"));
  return form;
}

let stream = null;

/** Reads codes from the camera with the browser's BarcodeDetector. */
async function scanWithCamera(video, button, found, message) {
  if (stream) {
    for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.hidden = true;
    button.textContent = t("stock.camera");
    return;
  }
  try {
    const detector = new BarcodeDetector();
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    button.textContent = t("stock.stopCamera");
    let last = "";
    let lastAt = 0;
    const tick = async () => {
      if (!stream) return;
      const codes = await detector.detect(video).catch(() => []);
      const code = codes[0]?.rawValue;
      // The same code seen again within two seconds is the same item.
      if (code && (code !== last || Date.now() - lastAt > 2000)) {
        last = code;
        lastAt = Date.now();
        found(code);
      }
      setTimeout(tick, 250);
    };
    tick();
  } catch (error) {
    stream = null;
    video.hidden = true;
    say(message, t("stock.cameraFailed", { error: error.message }), "error");
  }
}

function levels(locations) {
  const params = new URLSearchParams(location.search);
  const sku = h("input", { name: "sku", value: params.get("sku") ?? "", maxlength: "64" });
  const where = h("select", { name: "location" }, h("option", { value: "" }, t("stock.all")), locations.map((l) => h("option", { value: l.code }, l.code)));
  const low = h("input", { type: "checkbox", name: "low", checked: params.get("low") === "true" });
  // Shelf labels for everything the chosen location holds (admin-labels.js).
  const labels = h("a", { class: "button secondary", id: "location-labels", hidden: true });
  const filters = h("form", { class: "toolbar" },
    h("label", {}, t("stock.sku"), sku), h("label", {}, t("stock.location"), where),
    h("label", { class: "inline" }, low, t("stock.lowOnly")),
    h("button", { type: "submit", class: "secondary" }, t("stock.show")),
    labels);
  const showLabels = () => {
    labels.hidden = !where.value;
    labels.href = `/admin/labels?${new URLSearchParams({ location: where.value })}`;
    labels.textContent = t("stock.locationLabels", { location: where.value });
  };
  const list = h("div", { id: "levels" });
  const box = card(t("stock.levels"), filters, list);
  const pages = paged(list, "/stock", () => ({ sku: sku.value.trim().toUpperCase(), location: where.value, low: low.checked ? "true" : "" }),
    (rows) => table([
      [t("stock.product"), (r) => productCell(r.sku, r.name)],
      [t("stock.location"), (r) => r.location],
      [t("stock.onHand"), (r) => stockQuantity(r.on_hand, r.unit, r.packs), { num: true }],
      [t("stock.reserved"), (r) => stockQuantity(r.reserved, r.unit), { num: true }],
      [t("stock.available"), (r) => stockQuantity(r.available, r.unit), { num: true }],
      ["", (r) => (r.low ? h("span", { class: "badge", dataset: { status: "low" } }, t("stock.low")) : "")],
    ], rows, { empty: t("stock.noMatch") }), { limit: 25 });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    pages.reload();
  });
  low.addEventListener("change", () => pages.reload());
  where.addEventListener("change", () => {
    showLabels();
    pages.reload();
  });
  showLabels();
  pages.reload();
  return { box, refresh: () => pages.refresh() };
}

export async function render(main, { staff }) {
  const locations = (await api("/locations", { query: { limit: 200 } })).items.filter((l) => l.active);
  const form = movementForm(locations, staff);
  const stock = levels(locations);
  form.addEventListener("booked", stock.refresh);
  main.append(h("h1", {}, t("stock.title")), card(t("stock.bookTitle"), form), stock.box);
  form.querySelector("#scan")?.focus();
}
