// The dashboard: stock value at cost, low stock, open quotes, and a feed of
// movements as they are booked (from the live event stream).
import { api, live, me, money } from "/assets/api.js";
import { day, debounce, h, when } from "/assets/ui.js";
import { card, kindName, productCell, stockQuantity, table } from "/assets/admin-kit.js";
import { quantity, t } from "/assets/i18n.js";
import { charts } from "/assets/admin-charts.js";

const FEED_LENGTH = 30;

/** Product names by SKU, from the movement listings seen so far. */
const names = new Map();

/** Where a movement was booked and its lines: "at YARD: Washed sand — 2 t". */
function describe(movement) {
  const lines = movement.lines.map((l) => `${names.get(l.sku) ?? l.sku} — ${quantity(l.quantity, l.unit)}`).join(", ");
  const place = movement.location ?? `${movement.from} → ${movement.to}`;
  return t("dashboard.feedLine", { place, lines });
}

function feedItem(movement, fresh) {
  return h("li", { class: fresh ? "new" : null },
    h("strong", {}, kindName(movement.kind)), " ",
    h("span", {}, describe(movement)),
    h("div", { class: "muted" }, `${when(movement.at)} · ${movement.actor}${movement.reference ? ` · ${movement.reference}` : ""} · #${movement.id}`));
}

/** Tells owners of webhook endpoints that are failing or retrying. */
async function webhookTrouble(main) {
  try {
    const hooks = (await api("/webhooks")).items.filter((w) => w.status === "failing" || w.status === "retrying");
    if (hooks.length === 0) return;
    const failing = hooks.filter((w) => w.status === "failing").length;
    main.querySelector("h1").after(h("p", { class: "message error", role: "alert", id: "webhook-trouble" },
      failing
        ? t("dashboard.hooksFailing", { count: failing })
        : t("dashboard.hooksRetrying", { count: hooks.length }),
      " ",
      h("a", { href: "/admin/webhooks" }, t("dashboard.seeHooks"))));
  } catch {
    // Not shown: the rest of the dashboard matters more.
  }
}

export async function render(main, { owner } = {}) {
  const value = h("p", { class: "dash-figure", id: "stock-value" }, "…");
  const valueNote = h("p", { class: "muted" });
  const low = h("div", {}, h("p", { class: "muted" }, t("common.loading")));
  const quotes = h("div", {}, h("p", { class: "muted" }, t("common.loading")));
  const feed = h("ul", { class: "feed", id: "feed", "aria-live": "polite" });
  const feedState = h("span", { class: "muted" });
  main.append(
    h("h1", {}, t("dashboard.title")),
    h("div", { class: "grid" },
      card(t("dashboard.value"), value, valueNote),
      card(t("dashboard.openQuotes"), quotes, h("p", {}, h("a", { href: "/admin/quotes?status=open" }, t("dashboard.allOpenQuotes"))))),
    h("div", { class: "grid" },
      card(t("dashboard.lowStock"), low, h("p", {}, h("a", { href: "/admin/stock?low=true" }, t("dashboard.allLowStock")))),
      card(t("dashboard.movements"), feedState, feed, h("p", {}, h("a", { href: "/admin/history" }, t("dashboard.fullHistory"))))),
  );
  const trends = charts();
  main.append(trends.section);

  async function loadValue() {
    try {
      const v = await api("/stock/value");
      value.textContent = money(v.value, v.currency);
      valueNote.textContent = [
        t("dashboard.inStock", { count: v.products_in_stock }),
        v.products_without_cost ? t("dashboard.withoutCost", { count: v.products_without_cost }) : null,
      ].filter(Boolean).join(", ") + ` · ${t("dashboard.lowLevels", { count: v.low_levels })}`;
    } catch (error) {
      value.textContent = "—";
      valueNote.textContent = error.message;
    }
  }

  async function loadLow() {
    try {
      const rows = (await api("/stock", { query: { low: true, limit: 10 } })).items;
      low.replaceChildren(table([
        [t("dashboard.product"), (r) => productCell(r.sku, r.name)],
        [t("dashboard.location"), (r) => r.location],
        [t("dashboard.available"), (r) => stockQuantity(r.available, r.unit), { num: true }],
      ], rows, { empty: t("dashboard.noLowStock") }));
    } catch (error) {
      low.replaceChildren(h("p", { class: "message error" }, error.message));
    }
  }

  async function loadQuotes() {
    try {
      const items = (await api("/quotes", { query: { status: "open", limit: 10 } })).items;
      quotes.replaceChildren(table([
        [t("dashboard.quote"), (q) => h("a", { href: `/admin/quote?number=${encodeURIComponent(q.number)}` }, q.number)],
        [t("dashboard.for"), (q) => q.contact.name],
        [t("dashboard.total"), (q) => money(q.totals.gross, q.currency), { num: true }],
        [t("dashboard.validUntil"), (q) => day(q.valid_until)],
      ], items, { empty: t("dashboard.noOpenQuotes") }));
    } catch (error) {
      quotes.replaceChildren(h("p", { class: "message error" }, error.message));
    }
  }

  async function loadFeed() {
    try {
      const answer = await api("/movements", { query: { limit: 10 } });
      for (const [sku, p] of Object.entries(answer.products ?? {})) names.set(sku, p.name);
      const items = answer.items;
      feed.replaceChildren(...items.map((m) => feedItem(m, false)));
    } catch (error) {
      feed.replaceChildren(h("li", { class: "message error" }, error.message));
    }
  }

  await Promise.all([loadValue(), loadLow(), loadQuotes(), loadFeed(), trends.load(), owner ? webhookTrouble(main) : null]);
  const refresh = debounce(() => {
    loadValue();
    loadLow();
  }, 1000);
  live({
    "movement.booked": async (movement) => {
      const unknown = [...new Set(movement.lines.map((l) => l.sku))].filter((sku) => !names.has(sku));
      await Promise.all(unknown.map((sku) => api(`/products/${encodeURIComponent(sku)}`)
        .then((p) => names.set(sku, p.name), () => names.set(sku, sku))));
      feed.prepend(feedItem(movement, true));
      while (feed.children.length > FEED_LENGTH) feed.lastChild.remove();
      refresh();
    },
    "product.updated": refresh,
  }, {
    onState: async (state) => {
      feedState.textContent = { live: t("live.live"), reconnecting: t("live.reconnecting"), closed: t("live.closed") }[state];
      // A stream that reconnects without a session carries only public events:
      // say the session ended rather than go quiet.
      if (state === "reconnecting" && !(await me().catch(() => true))) {
        dispatchEvent(new CustomEvent("quarry:unauthenticated"));
      }
    },
  });
}
