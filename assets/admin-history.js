// Movement history: newest first, filtered by product, location, kind,
// reference and time, with "Reverse" for a movement booked by mistake.
import { api, idempotencyKey } from "/assets/api.js";
import { h, say, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";

const KINDS = ["", "receive", "ship", "transfer", "adjust", "reserve", "release"];

/** Product names and units by SKU, from the listings' `products`. */
const products = new Map();

function lines(movement) {
  return h("ul", { class: "stack" }, movement.lines.map((l) =>
    h("li", {}, h("a", { href: `/admin/product?sku=${encodeURIComponent(l.sku)}` }, products.get(l.sku)?.name ?? l.sku),
      ` — ${l.quantity} ${l.unit} `, products.has(l.sku) ? h("span", { class: "muted" }, l.sku) : null,
      l.entered ? h("span", { class: "muted" }, ` (entered ${l.entered.quantity} ${l.entered.unit})`) : null,
      l.counted ? h("span", { class: "muted" }, ` (counted ${l.counted})`) : null,
      l.reason ? h("span", { class: "muted" }, ` — ${l.reason}`) : null)));
}

export async function render(main, { staff }) {
  const params = new URLSearchParams(location.search);
  const field = (label, name, attrs = {}) => h("label", {}, label, h("input", { name, value: params.get(name) ?? "", maxlength: "64", ...attrs }));
  const kind = h("select", { name: "kind" }, KINDS.map((k) => h("option", { value: k }, k || "All")));
  kind.value = params.get("kind") ?? "";
  const filters = h("form", { class: "toolbar", id: "history-filters" },
    field("SKU", "sku"), field("Location", "location"), h("label", {}, "Kind", kind), field("Reference", "reference", { maxlength: "255" }),
    field("From", "from", { type: "date" }), field("Until", "until", { type: "date" }),
    h("button", { type: "submit", class: "secondary" }, "Show"));
  const message = h("p", { class: "message", role: "alert" });
  const list = h("div", { id: "history" });
  main.append(h("h1", {}, "History"), card("Movements", filters, message, list));

  const day = (value, end) => (value ? new Date(`${value}T${end ? "23:59:59.999" : "00:00:00"}`).toISOString() : "");
  const query = () => {
    const data = new FormData(filters);
    const text = (name) => String(data.get(name) ?? "").trim();
    return {
      sku: text("sku").toUpperCase(), location: text("location").toUpperCase(), kind: text("kind"), reference: text("reference"),
      from: day(text("from"), false), until: day(text("until"), true),
    };
  };

  async function reverse(movement, button) {
    if (!confirm(`Reverse movement #${movement.id} (${movement.kind})? A new movement undoes it; both stay in the history.`)) return;
    button.disabled = true;
    try {
      const undo = await api(`/movements/${movement.id}/reverse`, { method: "POST", headers: { "idempotency-key": idempotencyKey() } });
      say(message, `Reversed #${movement.id} with movement #${undo.id}.`, "ok");
      pages.refresh();
    } catch (error) {
      button.disabled = false;
      say(message, error.message, "error");
    }
  }

  const rows = (items, answer) => {
    for (const [sku, p] of Object.entries(answer?.products ?? {})) products.set(sku, p);
    return table([
    ["#", (m) => String(m.id)],
    ["When", (m) => when(m.at)],
    ["Kind", (m) => h("span", {}, m.kind, m.reverses ? h("div", { class: "muted" }, `reverses #${m.reverses}`) : null, m.reversed_by ? h("div", { class: "muted" }, `reversed by #${m.reversed_by}`) : null)],
    ["Where", (m) => m.location ?? `${m.from} → ${m.to}`],
    ["Lines", lines],
    ["Reference", (m) => [m.reference ?? "", m.note ? h("div", { class: "muted" }, m.note) : null]],
    ["By", (m) => m.actor],
    ["", (m) => {
      if (!staff || m.reversed_by || m.reverses) return "";
      const button = h("button", { type: "button", class: "secondary" }, "Reverse");
      button.addEventListener("click", () => reverse(m, button));
      return button;
    }],
  ], items, { empty: "No movements match." });
  };
  const pages = paged(list, "/movements", query, rows);
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const address = new URLSearchParams(Object.entries(Object.fromEntries(new FormData(filters))).filter(([, v]) => v));
    history.replaceState(null, "", `?${address}`);
    pages.reload();
  });
  await pages.reload();
}
