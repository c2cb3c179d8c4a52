// Back office: delivery zones (`/admin/delivery`): where the shop delivers, by
// postcode prefix, and what a delivery there costs by the load and the tonne.
// Everyone signed in sees them; catalogue staff add, change and remove them.
// Amounts and tonnes are typed the shop's way ("45,00" in de-DE).
import { api, money } from "/assets/api.js";
import { busy, clearErrors, h, markMissing, readNumbers, say, showError } from "/assets/ui.js";
import { card, table } from "/assets/admin-kit.js";
import { quantity, t, toInput } from "/assets/i18n.js";

/** A number box: typed the shop's way, read by `readNumbers` on saving. */
const NUMBER = { inputmode: "decimal", autocomplete: "off", maxlength: "24" };
const NUMBERS = ["per_load", "per_tonne", "minimum", "vehicle_capacity_t"];

/** The server's refusal in the page's words, for the refusals staff meet most. */
function explain(error, code) {
  const taken = /^(\S+) is in zone (\S+) already\b/.exec(error.message);
  if (taken) error.message = t("zones.prefixTaken", { prefix: taken[1], zone: taken[2] });
  else if (error.code === "duplicate_zone") error.message = t("zones.duplicate", { code });
  else if (error.status === 404) error.message = t("zones.gone", { code });
  return error;
}

/** Postcode prefixes as typed ("AB1, AB2 CD"): one a word. */
function prefixes(text) {
  return text.split(/[\s,;]+/).map((p) => p.trim()).filter(Boolean);
}

/**
 * The form that adds a zone, or changes one when `edit(zone)` was called;
 * `saved(zone, created)` hears each zone saved.
 */
function zoneForm(shop, saved) {
  const message = h("p", { class: "message", role: "alert" });
  const field = (label, name, attrs = {}) => h("label", { class: attrs.wide ? "wide" : null }, label,
    h("input", { name, autocomplete: "off", ...attrs, wide: null }));
  const tax = h("select", { name: "tax_class" }, shop.tax_classes.map((c) => h("option", { value: c }, c)));
  const standard = shop.tax_classes.includes("standard") ? "standard" : shop.tax_classes[0];
  tax.value = standard;
  const submit = h("button", { type: "submit", id: "save-zone" }, t("zones.add"));
  const cancel = h("button", { type: "button", class: "secondary", hidden: true }, t("common.cancel"));
  const form = h("form", { id: "zone-form", class: "form-grid", novalidate: true },
    field(t("zones.code"), "code", { required: true, maxlength: "16", class: "mono", placeholder: "TOWN" }),
    field(t("zones.name"), "name", { required: true, maxlength: "100", placeholder: t("zones.nameExample") }),
    field(t("zones.postcodes"), "postcodes", { required: true, wide: true, maxlength: "6000", class: "mono", placeholder: "AB1, AB2, CD" }),
    h("p", { class: "muted wide" }, t("zones.postcodesRule")),
    field(t("zones.perLoad"), "per_load", { required: true, ...NUMBER }),
    field(t("zones.perTonne"), "per_tonne", NUMBER),
    field(t("zones.minimum"), "minimum", NUMBER),
    field(t("zones.capacity"), "vehicle_capacity_t", { required: true, ...NUMBER }),
    h("label", {}, t("zones.taxClass"), tax),
    h("div", { class: "actions wide" }, submit, cancel),
    h("div", { class: "wide" }, message));
  const heading = h("h2", {}, t("zones.addTitle"));
  const box = h("section", { class: "card", id: "zone-form-card" }, heading, form);
  let editing = null;

  const show = (zone) => {
    editing = zone;
    clearErrors(form);
    say(message, "");
    form.reset();
    tax.value = zone?.tax_class ?? standard;
    heading.textContent = zone ? t("zones.editTitle", { code: zone.code }) : t("zones.addTitle");
    submit.textContent = zone ? t("zones.save") : t("zones.add");
    cancel.hidden = !zone;
    form.elements.code.readOnly = Boolean(zone);
    if (!zone) return;
    form.elements.code.value = zone.code;
    form.elements.name.value = zone.name;
    form.elements.postcodes.value = zone.postcodes.join(", ");
    for (const name of NUMBERS) form.elements[name].value = toInput(zone[name]);
  };
  cancel.addEventListener("click", () => {
    const code = editing?.code;
    show(null);
    // Back to the row's own Edit button.
    (document.querySelector(`button.edit-zone[data-zone="${CSS.escape(code ?? "")}"]`) ?? form.elements.code).focus();
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    if (markMissing(form, message)) return;
    const numbers = readNumbers(form, message, Object.fromEntries(NUMBERS.map((name) => [name, form.elements[name].value])));
    if (!numbers) return;
    const code = editing?.code ?? form.elements.code.value.trim();
    const body = {
      code,
      name: form.elements.name.value.trim(),
      postcodes: prefixes(form.elements.postcodes.value),
      per_load: numbers.per_load,
      per_tonne: numbers.per_tonne,
      minimum: numbers.minimum,
      vehicle_capacity_t: numbers.vehicle_capacity_t,
      tax_class: tax.value,
    };
    const created = !editing;
    busy(submit, t("common.saving"), async () => {
      try {
        const zone = created
          ? await api("/delivery-zones", { method: "POST", body })
          : await api(`/delivery-zones/${encodeURIComponent(code)}`, { method: "PUT", body });
        show(null);
        await saved(zone, created);
      } catch (error) {
        showError(form, message, explain(error, code));
      }
    });
  });

  return {
    box,
    edit(zone) {
      show(zone);
      box.scrollIntoView({ block: "start" });
      form.elements.name.focus();
    },
    /** The zone being changed, if any. */
    editing: () => editing?.code ?? null,
    reset: () => show(null),
  };
}

export async function render(main, { shop, staff }) {
  const currency = shop.currency;
  const amount = (value) => money(value, currency);
  const message = h("p", { class: "message", role: "status", id: "zones-message" });
  const body = h("div", { "aria-live": "polite" });
  const list = card(t("zones.all"), message, body);
  list.id = "zones";
  main.append(h("h1", {}, t("zones.title")), h("p", { class: "muted" }, t("zones.intro")), list);

  let form = null;
  const remove = (zone, button) => {
    if (!confirm(t("zones.removeConfirm", { code: zone.code, name: zone.name }))) return;
    busy(button, t("zones.removing"), async () => {
      try {
        await api(`/delivery-zones/${encodeURIComponent(zone.code)}`, { method: "DELETE" });
        if (form.editing() === zone.code) form.reset();
        await load();
        say(message, t("zones.removed", { code: zone.code }), "ok");
      } catch (error) {
        say(message, explain(error, zone.code).message, "error");
        if (error.status === 404) await load();
      }
    });
  };
  const columns = [
    [t("zones.code"), (z) => h("span", { class: "mono" }, z.code)],
    [t("zones.name"), (z) => z.name],
    [t("zones.postcodesShort"), (z) => h("span", { class: "mono postcodes" }, z.postcodes.join(", "))],
    [t("zones.perLoad"), (z) => amount(z.per_load), { num: true }],
    [t("zones.perTonne"), (z) => amount(z.per_tonne), { num: true }],
    [t("zones.minimum"), (z) => amount(z.minimum), { num: true }],
    [t("zones.capacityShort"), (z) => quantity(z.vehicle_capacity_t, "t"), { num: true }],
    [t("zones.taxClass"), (z) => z.tax_class],
  ];
  if (staff) {
    columns.push(["", (z) => {
      const edit = h("button", { type: "button", class: "secondary edit-zone", dataset: { zone: z.code }, "aria-label": t("zones.editOne", { code: z.code }) }, t("zones.edit"));
      edit.addEventListener("click", () => form.edit(z));
      const drop = h("button", { type: "button", class: "danger remove-zone", dataset: { zone: z.code }, "aria-label": t("zones.removeOne", { code: z.code }) }, t("zones.remove"));
      drop.addEventListener("click", () => remove(z, drop));
      return h("div", { class: "actions" }, edit, drop);
    }]);
  }

  async function load() {
    body.setAttribute("aria-busy", "true");
    try {
      const { items } = await api("/delivery-zones");
      body.replaceChildren(table(columns, items, { empty: t("zones.none"), caption: t("zones.title") }));
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  if (staff) {
    form = zoneForm(shop, async (zone, created) => {
      await load();
      say(message, created ? t("zones.added", { code: zone.code }) : t("zones.saved", { code: zone.code }), "ok");
    });
    main.append(form.box);
  } else {
    list.append(h("p", { class: "muted" }, t("zones.viewersOnly")));
  }
  await load();
}
