// The dashboard's charts, drawn as SVG by Quarry from /api/v1/reports/*:
// stock value at cost per day, movements per day by kind, the products shipped
// most, and quotes by outcome. Each chart scales to its card (a phone too) and
// has its figures as a table beside it, for screen readers and for reading
// exact values.
import { api } from "/assets/api.js";
import { h } from "/assets/ui.js";
import { currentLocale, date, money, number, t } from "/assets/i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const KINDS = ["receive", "ship", "transfer", "adjust", "reserve", "release"];
// Drawn small and scaled up: in a half-width card or on a phone the labels
// stay near the page's text size.
const WIDTH = 420;
const HEIGHT = 200;
const PAD = { left: 52, right: 8, top: 10, bottom: 24 };

/** An SVG element with attributes and children. */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value != null) el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** A round upper bound for an axis, and its ticks. */
function scale(max) {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((st) => max / st <= 5) ?? magnitude * 10;
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v);
  return { top, ticks };
}

/** The frame of a chart: the drawing area, gridlines with their labels. */
function frame(label, max, format) {
  const { top, ticks } = scale(max);
  const inner = { w: WIDTH - PAD.left - PAD.right, h: HEIGHT - PAD.top - PAD.bottom };
  const y = (v) => PAD.top + inner.h - (v / top) * inner.h;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img", "aria-label": label });
  for (const tick of ticks) {
    svg.append(
      s("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick), class: "chart-grid" }),
      s("text", { x: PAD.left - 6, y: y(tick) + 4, class: "chart-axis", "text-anchor": "end" }, format(tick)));
  }
  return { svg, inner, y };
}

/** "7 Dec", "7. Dez.": a day on an axis. */
function shortDay(day) {
  return new Intl.DateTimeFormat(currentLocale(), { day: "numeric", month: "short", timeZone: "UTC" })
    .format(new Date(`${day}T00:00:00Z`));
}

/** Day labels under the x axis: the first, the last and a few between. */
function dayLabels(svg, days, x) {
  const every = Math.max(1, Math.ceil(days.length / 4));
  days.forEach((d, i) => {
    const last = i === days.length - 1;
    if (i % every !== 0 && !last) return;
    if (!last && days.length - 1 - i < every / 2) return;
    const anchor = days.length === 1 ? "middle" : i === 0 ? "start" : last ? "end" : "middle";
    svg.append(s("text", { x: x(i), y: HEIGHT - 6, class: "chart-axis", "text-anchor": anchor }, shortDay(d.day)));
  });
}

/** The figures behind a chart, folded under it. */
function figures(columns, rows) {
  return h("details", { class: "chart-figures" },
    h("summary", {}, t("charts.figures")),
    h("div", { class: "table-wrap" },
      h("table", {},
        h("thead", {}, h("tr", {}, columns.map(([title, , num]) => h("th", { scope: "col", class: num ? "num" : null }, title)))),
        h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell, num]) => h("td", { class: num ? "num" : null }, cell(row)))))))));
}

function valueChart(report) {
  const days = report.days;
  const values = days.map((d) => Number(d.value));
  const currencyShort = (v) => {
    try {
      return number(v, { style: "currency", currency: report.currency, notation: "compact", maximumFractionDigits: 1 });
    } catch {
      return number(v, { notation: "compact" });
    }
  };
  const { svg, inner, y } = frame(t("charts.valueLabel", { days: days.length }), Math.max(...values, 0), currencyShort);
  const x = (i) => PAD.left + (days.length === 1 ? inner.w / 2 : (i / (days.length - 1)) * inner.w);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  svg.append(
    s("polygon", { points: [`${x(0)},${y(0)}`, ...points, `${x(values.length - 1)},${y(0)}`].join(" "), class: "chart-area" }),
    s("polyline", { points: points.join(" "), class: "chart-line" }));
  days.forEach((d, i) => svg.append(s("circle", { cx: x(i), cy: y(values[i]), r: 6, class: "chart-hit" },
    s("title", {}, `${date(d.day)}: ${money(d.value, report.currency)}`))));
  dayLabels(svg, days, x);
  const note = report.products_without_cost
    ? h("p", { class: "muted" }, t("charts.withoutCost", { count: report.products_without_cost }))
    : null;
  return [svg, note, figures([
    [t("charts.day"), (d) => date(d.day)],
    [t("charts.value"), (d) => money(d.value, report.currency), true],
  ], [...days].reverse())];
}

function movementsChart(report) {
  const days = report.days;
  const totals = days.map((d) => KINDS.reduce((sum, k) => sum + d[k], 0));
  const { svg, inner, y } = frame(t("charts.movementsLabel", { days: days.length }), Math.max(...totals, 0), (v) => number(v));
  const band = inner.w / days.length;
  const x = (i) => PAD.left + band * i + band / 2;
  const bar = Math.max(1, band * 0.7);
  days.forEach((d, i) => {
    let base = 0;
    for (const kind of KINDS) {
      if (!d[kind]) continue;
      svg.append(s("rect", {
        x: x(i) - bar / 2, width: bar, y: y(base + d[kind]), height: y(base) - y(base + d[kind]), class: `chart-kind-${kind}`,
      }, s("title", {}, `${date(d.day)}: ${number(d[kind])} × ${t(`kind.${kind}`)}`)));
      base += d[kind];
    }
  });
  dayLabels(svg, days, x);
  const legend = h("ul", { class: "chart-legend" }, KINDS.map((k) =>
    h("li", {}, h("span", { class: `chart-swatch chart-kind-${k}`, "aria-hidden": "true" }), t(`kind.${k}`))));
  return [svg, legend, figures([
    [t("charts.day"), (d) => date(d.day)],
    ...KINDS.map((k) => [t(`kind.${k}`), (d) => number(d[k]), true]),
  ], days.filter((d, i) => totals[i] > 0).reverse())];
}

/** Horizontal bars, one per row, labelled inside the chart. */
function barList(label, rows, valueOf, labelOf, format, classOf = () => "chart-bar") {
  const height = 24 * rows.length + 6;
  const left = 150;
  const width = WIDTH - left - 80;
  const max = Math.max(...rows.map(valueOf), 0) || 1;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "chart", role: "img", "aria-label": label });
  rows.forEach((row, i) => {
    const top = 6 + i * 24;
    const w = (valueOf(row) / max) * width;
    const name = labelOf(row);
    svg.append(
      s("text", { x: left - 6, y: top + 13, class: "chart-axis", "text-anchor": "end" }, name.length > 24 ? `${name.slice(0, 23)}…` : name, s("title", {}, name)),
      s("rect", { x: left, y: top, width: Math.max(w, valueOf(row) > 0 ? 2 : 0), height: 18, class: classOf(row) }, s("title", {}, `${name}: ${format(row)}`)),
      s("text", { x: left + w + 4, y: top + 13, class: "chart-axis" }, format(row)));
  });
  return svg;
}

function topChart(report) {
  const items = report.items;
  if (items.length === 0) return [h("p", { class: "muted" }, t("charts.nothingShipped"))];
  const shipped = (p) => `${number(Number(p.shipped))} ${p.unit ?? ""}`.trim();
  return [
    barList(t("charts.topLabel"), items, (p) => Number(p.shipped), (p) => p.name ?? p.sku, shipped),
    h("p", { class: "muted" }, t("charts.topNote")),
    figures([
      [t("charts.product"), (p) => `${p.name ?? p.sku} (${p.sku})`],
      [t("charts.shipped"), shipped, true],
      [t("charts.shipments"), (p) => number(p.shipments), true],
    ], items),
  ];
}

function quotesChart(report) {
  const rows = report.statuses;
  const label = (r) => t(`charts.status.${r.status}`);
  const format = (r) => `${number(r.count)} · ${money(r.gross, report.currency)}`;
  return [
    barList(t("charts.quotesLabel"), rows, (r) => r.count, label, format, (r) => `chart-bar chart-status-${r.status}`),
    h("p", {}, t("charts.wonLost", { won: report.won, lost: report.lost })),
    figures([
      [t("charts.status"), label],
      [t("charts.count"), (r) => number(r.count), true],
      [t("charts.gross"), (r) => money(r.gross, report.currency), true],
    ], rows),
  ];
}

/**
 * The charts section: a period picker and the four charts, each loaded on its
 * own (one failing does not hide the others).
 */
export function charts() {
  const period = h("select", { id: "chart-days", "aria-label": t("charts.period") },
    [30, 90, 365].map((d) => h("option", { value: String(d) }, t("charts.lastDays", { count: d }))));
  period.value = "90";
  const boxes = {
    value: h("div", { class: "chart-box", id: "chart-value" }),
    movements: h("div", { class: "chart-box", id: "chart-movements" }),
    top: h("div", { class: "chart-box", id: "chart-top" }),
    quotes: h("div", { class: "chart-box", id: "chart-quotes" }),
  };
  const section = h("section", { class: "charts", "aria-labelledby": "charts-title" },
    h("div", { class: "row nowrap" }, h("h2", { id: "charts-title" }, t("charts.title")), period),
    h("div", { class: "grid" },
      h("section", { class: "card" }, h("h3", {}, t("charts.valueTitle")), boxes.value),
      h("section", { class: "card" }, h("h3", {}, t("charts.movementsTitle")), boxes.movements)),
    h("div", { class: "grid" },
      h("section", { class: "card" }, h("h3", {}, t("charts.topTitle")), boxes.top),
      h("section", { class: "card" }, h("h3", {}, t("charts.quotesTitle")), boxes.quotes)));

  async function show(box, path, draw) {
    box.setAttribute("aria-busy", "true");
    try {
      const report = await api(path, { query: { days: period.value } });
      box.replaceChildren(...draw(report).filter(Boolean));
    } catch (error) {
      box.replaceChildren(h("p", { class: "message error" }, error.message));
    } finally {
      box.removeAttribute("aria-busy");
    }
  }
  function load() {
    return Promise.all([
      show(boxes.value, "/reports/stock-value", valueChart),
      show(boxes.movements, "/reports/movements", movementsChart),
      show(boxes.top, "/reports/top-products", topChart),
      show(boxes.quotes, "/reports/quotes", quotesChart),
    ]);
  }
  period.addEventListener("change", load);
  return { section, load };
}
