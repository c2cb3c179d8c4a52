// Pieces the back office's pages share: a titled card, tables, and a pager for
// the API's cursor lists.
import { api } from "/assets/api.js";
import { h, say } from "/assets/ui.js";
import { currentLanguage, decimal, t } from "/assets/i18n.js";

/** A card with a heading. */
export function card(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

/** `count word`, the count as the shop's locale writes it, with an English
 *  plural on English pages: "1 bag", "8 bags", "2 boxes". A pack's name is the
 *  shop's own word, in whatever language it wrote it: other languages leave it as it is. */
export function counted(count, word) {
  const shown = decimal(count);
  if (currentLanguage() !== "en" || Number(count) === 1 || !/[a-z]$/i.test(word)) return `${shown} ${word}`;
  return `${shown} ${word}${/(s|x|z|ch|sh)$/i.test(word) ? "es" : "s"}`;
}

/** A stock quantity in the product's unit, and in packs when it has them: "8 bags (200 kg)". */
export function stockQuantity(value, unit, packs) {
  const plain = unit ? `${decimal(value)} ${unit}` : decimal(value);
  return packs ? `${counted(packs.count, packs.pack)} (${plain})` : plain;
}

/** A movement's kind in words ("receive", "Wareneingang"). */
export function kindName(kind) {
  return {
    receive: t("kind.receive"),
    ship: t("kind.ship"),
    transfer: t("kind.transfer"),
    adjust: t("kind.adjust"),
    reserve: t("kind.reserve"),
    release: t("kind.release"),
  }[kind] ?? kind;
}

/** A quote's status in words ("open", "offen"). */
export function quoteStatusName(status) {
  return {
    open: t("quoteStatus.open"),
    accepted: t("quoteStatus.accepted"),
    fulfilled: t("quoteStatus.fulfilled"),
    expired: t("quoteStatus.expired"),
    cancelled: t("quoteStatus.cancelled"),
  }[status] ?? status;
}

/** A role in words. */
export function roleName(role) {
  return { owner: t("role.owner"), staff: t("role.staff"), viewer: t("role.viewer") }[role] ?? role;
}

/** A product named for people, its SKU underneath, linking to its page. */
export function productCell(sku, name) {
  const link = h("a", { href: `/admin/product?sku=${encodeURIComponent(sku)}` }, name ?? sku);
  return name ? h("span", {}, link, h("div", { class: "muted" }, sku)) : link;
}

/** A table: `columns` are `[header, (row) => cell, { num }]`. */
export function table(columns, rows, { empty, caption } = {}) {
  if (rows.length === 0) return h("p", { class: "muted" }, empty ?? t("common.nothingYet"));
  return h("div", { class: "table-wrap" },
    h("table", {},
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([title, , opts]) => h("th", { class: opts?.num ? "num" : null, scope: "col" }, title)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell, opts]) => {
        const value = cell(row);
        return h("td", { class: opts?.num ? "num" : null }, value ?? "");
      }))))));
}

/**
 * A paginated list of an API path: shows `render(items)` in `into`, with
 * Previous/Next buttons that follow the cursors, shown when there is more than
 * one page (`render` also gets the whole answer). `query()` gives the current
 * filters; call `reload()` after they change. `items` names the answer's
 * list (`hits` for search) and `total(answer)` may describe its size.
 */
export function paged(into, path, query, render, { limit = 50, items = "items", total } = {}) {
  const message = h("p", { class: "message", role: "alert" });
  const previous = h("button", { type: "button", class: "secondary" }, t("pager.previous"));
  const next = h("button", { type: "button", class: "secondary" }, t("pager.next"));
  const where = h("span", { class: "muted" });
  const pager = h("div", { class: "pager" }, previous, next, where);
  const body = h("div", { "aria-live": "polite" });
  into.append(message, body, pager);
  const cursors = [null];
  let page = 0;
  let nextCursor = null;

  async function load() {
    body.setAttribute("aria-busy", "true");
    previous.disabled = true;
    next.disabled = true;
    try {
      const answer = await api(path, { query: { ...query(), limit, cursor: cursors[page] ?? "" } });
      nextCursor = answer.next_cursor;
      body.replaceChildren(render(answer[items], answer));
      say(message, "");
      // One page only: no page number, and no Previous/Next to press.
      const only = page === 0 && !nextCursor;
      where.textContent = [only ? null : t("pager.page", { page: page + 1 }), total ? total(answer) : null].filter(Boolean).join(" · ");
      previous.hidden = only;
      next.hidden = only;
      pager.hidden = only && !where.textContent;
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      body.removeAttribute("aria-busy");
      previous.disabled = page === 0;
      next.disabled = !nextCursor;
    }
  }
  previous.addEventListener("click", () => {
    page = Math.max(0, page - 1);
    load();
  });
  next.addEventListener("click", () => {
    cursors[page + 1] = nextCursor;
    page += 1;
    load();
  });
  return {
    reload() {
      cursors.length = 1;
      page = 0;
      return load();
    },
    refresh: load,
  };
}
