// Back office: saved quotes, newest first, filtered by status; each opens its
// own page (`/admin/quote?number=…`).
import { money } from "/assets/api.js";
import { h, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";

const STATUSES = ["open", "accepted", "fulfilled", "expired", "cancelled"];

/** A quote's status as a coloured badge. */
export function statusBadge(status) {
  return h("span", { class: "badge", dataset: { status } }, status);
}

/** The customer's name with email and phone under it. */
export function contactCell(contact) {
  return h("div", {},
    contact.name,
    contact.email ? h("div", { class: "muted" }, contact.email) : null,
    contact.phone ? h("div", { class: "muted" }, contact.phone) : null);
}

export async function render(main) {
  const initial = new URLSearchParams(location.search).get("status") ?? "";
  const status = h("select", { name: "status" },
    h("option", { value: "" }, "All"),
    STATUSES.map((s) => h("option", { value: s, selected: s === initial }, s[0].toUpperCase() + s.slice(1))));
  const filters = h("form", { class: "toolbar", role: "search" }, h("label", {}, "Status", status));
  filters.addEventListener("submit", (event) => event.preventDefault());

  const columns = [
    ["Number", (q) => h("a", { href: `/admin/quote?${new URLSearchParams({ number: q.number })}`, class: "mono" }, q.number)],
    ["Status", (q) => statusBadge(q.status)],
    ["Customer", (q) => contactCell(q.contact)],
    ["Total", (q) => money(q.totals.gross, q.currency), { num: true }],
    ["Created", (q) => when(q.created_at)],
    ["Valid until", (q) => when(q.valid_until)],
  ];
  const list = card("Quotes", filters);
  main.append(h("h1", {}, "Quotes"), list);
  const pager = paged(list, "/quotes", () => ({ status: status.value }),
    (items) => table(columns, items, {
      empty: status.value ? `No ${status.value} quotes.` : "No quotes yet: they appear here when customers or staff save one.",
      caption: "Quotes",
    }));
  status.addEventListener("change", () => {
    // Keep the filter in the address, so Back from a quote returns to it.
    const search = status.value ? `?${new URLSearchParams({ status: status.value })}` : "";
    history.replaceState(null, "", location.pathname + search);
    pager.reload();
  });
  await pager.reload();
}
