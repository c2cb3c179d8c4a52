// Labels: shelf and bin labels for chosen products (?skus=A,B, from the
// Products list or typed here) or for a location's stock (?location=YARD),
// drawn by POST /api/v1/labels and laid out for printing: an A4 sheet of
// 3×8 labels of 70×37 mm, or one 62×40 mm label a page for a label-printer
// roll. quarry.css sizes everything in millimetres and names the pages
// (`@page label-a4`, `@page label-roll`), so the printout is the preview.
import { api } from "/assets/api.js";
import { clearErrors, h, say, showError } from "/assets/ui.js";
import { card } from "/assets/admin-kit.js";
import { decimal, money, t } from "/assets/i18n.js";

/** The layouts: labels a page, the page's width and the barcode's (inside
 *  the label's margins), in millimetres, as quarry.css lays them out. */
const LAYOUTS = {
  a4: { perPage: 24, pageWidth: 210, barsWidth: 64 },
  roll: { perPage: 1, pageWidth: 62, barsWidth: 58 },
};
/** What the API takes at once. */
const MAX_SKUS = 1000;
const MAX_COPIES = 100;
/** The most labels laid out at once (100 A4 sheets): more would stall the page. */
const MAX_LABELS = 2400;
/** CSS pixels a millimetre: the preview scales a sheet down from its size on paper. */
const MM = 96 / 25.4;
/** The narrowest bar a scanner reliably reads, in millimetres. */
const THINNEST_BAR = 0.25;
const SVG_NS = "http://www.w3.org/2000/svg";
/** What a barcode or QR drawing may hold: shapes, nothing that runs or links. */
const SVG_ELEMENTS = new Set(["svg", "g", "rect", "path"]);

/** The SKUs in what was typed or pasted: separated by spaces, commas,
 *  semicolons or lines; upper-cased as Quarry keeps them; each once. */
function readSkus(text) {
  const seen = new Set();
  for (const raw of String(text ?? "").split(/[\s,;]+/)) {
    const sku = raw.trim().toUpperCase();
    if (sku) seen.add(sku);
  }
  return [...seen];
}

/**
 * One of Quarry's SVG drawings as a node of this page: parsed as SVG (never
 * as HTML), and kept only if it is an <svg> of shapes, with no scripts,
 * event handlers or links. Answers null for anything else.
 */
function drawing(text, className, label) {
  if (!text) return null;
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = doc.documentElement;
  if (root.namespaceURI !== SVG_NS || root.localName !== "svg" || doc.getElementsByTagName("parsererror").length) return null;
  for (const el of [root, ...root.querySelectorAll("*")]) {
    if (el.namespaceURI !== SVG_NS || !SVG_ELEMENTS.has(el.localName)) {
      el.remove();
      continue;
    }
    for (const attribute of [...el.attributes]) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on") || name.endsWith("href") || name === "style") el.removeAttribute(attribute.name);
    }
  }
  const svg = document.importNode(root, true);
  svg.setAttribute("class", className);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("focusable", "false");
  return svg;
}

/** The modules across a barcode drawing (its viewBox's width), or 0. */
function modules(svg) {
  return svg?.viewBox?.baseVal?.width ?? 0;
}

/** "€8.50 / bag (25 kg)": the price in the shop's currency and locale, per its unit or pack. */
function priceText(label, currency) {
  const per = label.pack
    ? t("labels.pack", { pack: label.per, quantity: decimal(label.pack.quantity), unit: label.pack.unit })
    : label.per;
  return t("format.perUnit", { price: money(label.price, currency), unit: per });
}

/** One label's drawing, made once and copied for each copy of it. */
function labelElement(label, sheet) {
  const barcodeName = label.barcode.symbology === "ean13" ? "EAN-13" : "Code 128";
  const barcode = drawing(label.barcode.svg, "label-barcode-svg", `${barcodeName} ${label.barcode.text}`);
  const qr = drawing(label.qr_svg, "label-qr-svg", t("labels.qrFor", { url: label.url }));
  // Code 128 of the SKU prints the SKU under its bars: it is not said twice.
  const skuIsBarcode = label.barcode.text === label.sku;
  return {
    modules: modules(barcode),
    element: h("article", { class: "label", dataset: { sku: label.sku, symbology: label.barcode.symbology } },
      h("div", { class: "label-top" },
        h("div", { class: "label-text" },
          h("p", { class: "label-name" }, label.name),
          label.brand ? h("p", { class: "label-brand" }, label.brand) : null,
          h("p", { class: "label-price" }, priceText(label, sheet.currency)),
          h("p", { class: "label-tax" }, sheet.prices_include_tax ? t("labels.inclTax") : t("labels.exclTax"))),
        h("div", { class: "label-qr" },
          qr ?? h("span", { class: "label-missing" }, "QR"),
          skuIsBarcode ? null : h("p", { class: "label-sku" }, label.sku))),
      h("div", { class: "label-barcode" }, barcode ?? h("span", { class: "label-missing" }, label.barcode.text)),
      h("p", { class: "label-digits" }, label.barcode.text)),
  };
}

/**
 * The printed pages: for each label `copies` copies in the API's order,
 * after `skip` empty places on an A4 sheet (a sheet partly used before),
 * 24 to a sheet; on a roll one to a page.
 */
function pages(drawn, { layout, copies, skip }) {
  const cells = [];
  if (layout === "a4") for (let i = 0; i < skip; i += 1) cells.push(h("div", { class: "label label-skipped", "aria-hidden": "true" }));
  for (const { element } of drawn) {
    for (let i = 0; i < copies; i += 1) cells.push(element.cloneNode(true));
  }
  const { perPage } = LAYOUTS[layout];
  const out = [];
  for (let at = 0; at < cells.length; at += perPage) {
    const index = out.length + 1;
    out.push(h("div", { class: `label-sheet ${layout}`, role: "group", "aria-label": t("labels.pageN", { page: index }) },
      cells.slice(at, at + perPage)));
  }
  return out;
}

/** A whole number from a box, kept within `min`…`max` (anything else: `fallback`). */
function whole(value, min, max, fallback) {
  const n = Number.parseInt(String(value ?? "").trim(), 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

function saved(name, fallback) {
  try {
    return localStorage.getItem(`quarry.labels-${name}`) ?? fallback;
  } catch {
    return fallback;
  }
}

function keep(name, value) {
  try {
    localStorage.setItem(`quarry.labels-${name}`, value);
  } catch {
    // No storage: the choice lasts as long as the page.
  }
}

export async function render(main) {
  const params = new URLSearchParams(location.search);
  const locations = (await api("/locations", { query: { limit: 200 } }).catch(() => ({ items: [] }))).items.filter((l) => l.active);

  // What to label: SKUs typed or pasted, or a location's stock.
  const skus = h("textarea", {
    name: "skus", id: "label-skus", rows: "3", autocomplete: "off", spellcheck: "false", class: "mono",
    placeholder: t("labels.skusExample"),
  });
  skus.value = readSkus(params.get("skus")).join("\n");
  const place = h("select", { name: "location", id: "label-location" },
    h("option", { value: "" }, t("labels.noLocation")),
    locations.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`)));
  const wanted = (params.get("location") ?? "").trim().toUpperCase();
  if (wanted && !locations.some((l) => l.code === wanted)) place.append(h("option", { value: wanted }, wanted));
  place.value = wanted;
  const show = h("button", { type: "submit", id: "show-labels" }, t("labels.show"));
  const choice = h("form", { id: "label-choice", class: "form-grid", novalidate: true },
    h("label", {}, t("labels.skus"), skus, h("span", { class: "muted hint" }, t("labels.skusHint"))),
    h("label", {}, t("labels.location"), place, h("span", { class: "muted hint" }, t("labels.locationHint"))),
    h("div", { class: "actions wide" }, show));

  // How to print them.
  const layout = h("select", { name: "layout", id: "label-layout" },
    h("option", { value: "a4" }, t("labels.layoutA4")),
    h("option", { value: "roll" }, t("labels.layoutRoll")));
  layout.value = LAYOUTS[params.get("layout")] ? params.get("layout") : saved("layout", "a4");
  if (!LAYOUTS[layout.value]) layout.value = "a4";
  const copies = h("input", { name: "copies", id: "label-copies", type: "number", min: "1", max: String(MAX_COPIES), step: "1", inputmode: "numeric", value: String(whole(params.get("copies"), 1, MAX_COPIES, 1)) });
  const skip = h("input", { name: "skip", id: "label-skip", type: "number", min: "0", max: "23", step: "1", inputmode: "numeric", value: String(whole(params.get("skip"), 0, 23, 0)) });
  const skipLabel = h("label", {}, t("labels.skip"), skip, h("span", { class: "muted hint" }, t("labels.skipHint")));
  const print = h("button", { type: "button", id: "print-labels", disabled: true }, t("labels.print"));
  const summary = h("p", { id: "label-summary", class: "muted", "aria-live": "polite" });
  const density = h("p", { id: "label-density", class: "message info", role: "status", hidden: true });
  const options = h("form", { id: "label-options", class: "form-grid", novalidate: true },
    h("label", { class: "wide" }, t("labels.layout"), layout),
    h("label", {}, t("labels.copies"), copies),
    skipLabel,
    h("div", { class: "actions wide label-actions" }, print, summary),
    h("div", { class: "wide" }, density));
  options.addEventListener("submit", (event) => event.preventDefault());

  const message = h("p", { id: "label-message", class: "message", role: "alert" });
  const preview = h("div", { id: "label-preview", class: "label-preview", "aria-live": "polite" });
  main.append(
    h("h1", {}, t("labels.title")),
    card(t("labels.what"), choice, message),
    card(t("labels.how"), options),
    preview,
  );
  // Printing shows the sheets alone (quarry.css, @media print).
  document.documentElement.classList.add("printing-labels");

  /** The last answer, drawn once; laid out again when an option changes. */
  let sheet = null;
  let drawn = [];
  /** Which request is the latest: an answer to an earlier one is dropped. */
  let asked = 0;

  /** The choice in the address, so a reload or a link shows the same. */
  function address(count, empty) {
    const query = new URLSearchParams();
    const typed = readSkus(skus.value);
    if (place.value) query.set("location", place.value);
    else if (typed.length) query.set("skus", typed.join(","));
    query.set("layout", layout.value);
    if (count !== 1) query.set("copies", String(count));
    if (layout.value === "a4" && empty !== 0) query.set("skip", String(empty));
    history.replaceState(null, "", `?${query}`);
  }

  /** Scales the sheets down to the width there is (never up). */
  function fit() {
    const width = preview.clientWidth;
    const page = LAYOUTS[layout.value].pageWidth * MM;
    const scale = width > 0 ? Math.min(1, width / page) : 1;
    preview.style.setProperty("--label-scale", String(Math.floor(scale * 1000) / 1000));
  }
  new ResizeObserver(fit).observe(preview);

  function layOut() {
    const kind = layout.value;
    skipLabel.hidden = kind !== "a4";
    const count = whole(copies.value, 1, MAX_COPIES, 1);
    const empty = whole(skip.value, 0, 23, 0);
    address(count, empty);
    if (!sheet) return;
    if (drawn.length === 0) {
      print.disabled = true;
      summary.textContent = "";
      density.hidden = true;
      preview.replaceChildren(h("p", { class: "muted", id: "label-empty" },
        place.value ? t("labels.noStock", { location: place.value }) : t("labels.nothing")));
      return;
    }
    if (drawn.length * count > MAX_LABELS) {
      print.disabled = true;
      summary.textContent = "";
      density.hidden = true;
      preview.replaceChildren(h("p", { class: "message error", id: "label-empty" },
        t("labels.tooManyLabels", { count: drawn.length * count, max: MAX_LABELS })));
      return;
    }
    const made = pages(drawn, { layout: kind, copies: count, skip: empty });
    preview.replaceChildren(...made);
    fit();
    print.disabled = false;
    const labels = drawn.length * count;
    summary.textContent = kind === "a4"
      ? t("labels.summaryA4", { count: labels, sheets: t("labels.sheets", { count: made.length }) })
      : t("labels.summaryRoll", { count: labels });
    // A bar thinner than a scanner reads: said, not printed.
    const { barsWidth } = LAYOUTS[kind];
    const dense = drawn.filter((d) => d.modules > 0 && barsWidth / d.modules < THINNEST_BAR).map((d) => d.sku);
    density.hidden = dense.length === 0;
    density.textContent = dense.length ? t("labels.tooDense", { count: dense.length, skus: dense.slice(0, 5).join(", ") }) : "";
  }

  async function load() {
    const mine = ++asked;
    clearErrors(choice);
    say(message, "");
    const typed = readSkus(skus.value);
    if (place.value && typed.length) {
      showError(choice, message, { field: "location", message: t("labels.eitherOr") });
      return;
    }
    if (!place.value && typed.length === 0) {
      sheet = null;
      drawn = [];
      print.disabled = true;
      summary.textContent = "";
      preview.replaceChildren(h("p", { class: "muted", id: "label-empty" }, t("labels.chooseFirst")));
      layOut();
      return;
    }
    if (typed.length > MAX_SKUS) {
      showError(choice, message, { field: "skus", message: t("labels.tooMany", { max: MAX_SKUS, count: typed.length }) });
      return;
    }
    skus.value = typed.join("\n");
    sheet = null;
    drawn = [];
    layOut();
    const body = place.value ? { location: place.value } : { skus: typed };
    preview.setAttribute("aria-busy", "true");
    show.disabled = true;
    show.textContent = t("labels.loadingShort");
    print.disabled = true;
    summary.textContent = "";
    preview.replaceChildren(h("p", { class: "muted", id: "label-loading" }, t("labels.loading")));
    try {
      const answer = await api("/labels", { method: "POST", body });
      if (mine !== asked) return;
      sheet = answer;
      drawn = sheet.labels.map((label) => ({ sku: label.sku, ...labelElement(label, sheet) }));
      layOut();
    } catch (error) {
      if (mine !== asked) return;
      sheet = null;
      drawn = [];
      summary.textContent = "";
      preview.replaceChildren();
      if (error.status === 404 && body.location) error.message = t("labels.unknownLocation", { location: body.location });
      else if (error.status !== 401) error.message = t("labels.failed", { error: error.message });
      showError(choice, message, error);
    } finally {
      if (mine === asked) {
        preview.removeAttribute("aria-busy");
        show.disabled = false;
        show.textContent = t("labels.show");
      }
    }
  }

  choice.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  // A location chosen replaces typed SKUs, and SKUs typed the location.
  place.addEventListener("change", () => {
    if (place.value) skus.value = "";
    load();
  });
  skus.addEventListener("input", () => {
    if (skus.value.trim()) place.value = "";
  });
  layout.addEventListener("change", () => {
    keep("layout", layout.value);
    layOut();
  });
  for (const box of [copies, skip]) {
    box.addEventListener("input", () => {
      if (box.value.trim() !== "") layOut();
    });
    // Out of range or left empty: put back within range when leaving it.
    box.addEventListener("change", () => {
      box.value = String(whole(box.value, Number(box.min), Number(box.max), Number(box.min)));
      layOut();
    });
  }
  print.addEventListener("click", () => window.print());
  layOut();
  await load();
}
