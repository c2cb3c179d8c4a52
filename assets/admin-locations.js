// Back office: the places stock is kept. Everyone signed in sees the list;
// staff add locations, rename them and switch them on or off.
import { api } from "/assets/api.js";
import { busy, clearErrors, h, say, showError, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";
import { t } from "/assets/i18n.js";

/** A PATCH that fails if someone else changed the location since it was read. */
function patch(location, body) {
  return api(`/locations/${encodeURIComponent(location.code)}`, {
    method: "PATCH",
    body,
    headers: { "if-match": `"${location.version}"` },
  });
}

/** The message of a failed change, with a hint when the list was stale. */
function explain(error) {
  if (error.status === 412) error.message = t("locations.conflict");
  return error;
}

function createForm(onCreated) {
  const message = h("p", { class: "message", role: "status" });
  const submit = h("button", { type: "submit" }, t("locations.add"));
  const form = h("form", { class: "form-grid", novalidate: true },
    h("label", {}, t("locations.code"), h("input", { name: "code", required: true, maxlength: "32", autocomplete: "off", class: "mono", placeholder: "WH2-A-01" })),
    h("label", {}, t("locations.name"), h("input", { name: "name", required: true, maxlength: "100", autocomplete: "off", placeholder: t("locations.nameExample") })),
    h("div", { class: "actions wide" }, submit),
    h("div", { class: "wide" }, message));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { code: data.get("code").trim(), name: data.get("name").trim() };
    busy(submit, t("common.adding"), async () => {
      try {
        const created = await api("/locations", { method: "POST", body });
        form.reset();
        clearErrors(form);
        say(message, t("locations.added", { code: created.code }), "ok");
        onCreated();
      } catch (error) {
        showError(form, message, error);
      }
    });
  });
  return form;
}

/** The name cell: the name, or for staff a small rename form on demand. */
function nameCell(location, { staff, message, reload }) {
  const cell = h("div", {}, location.name);
  if (!staff) return cell;
  const show = h("button", { type: "button", class: "secondary" }, t("locations.rename"));
  const input = h("input", { name: "name", value: location.name, maxlength: "100", required: true });
  const save = h("button", { type: "submit" }, t("common.save"));
  const cancel = h("button", { type: "button", class: "secondary" }, t("common.cancel"));
  const form = h("form", { class: "row", hidden: true },
    h("label", {}, h("span", { class: "visually-hidden" }, t("locations.newName", { code: location.code })), input), save, cancel);
  show.addEventListener("click", () => {
    form.hidden = false;
    show.hidden = true;
    input.focus();
  });
  cancel.addEventListener("click", () => {
    form.hidden = true;
    show.hidden = false;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, t("common.saving"), async () => {
      try {
        await patch(location, { name: input.value.trim() });
        say(message, t("locations.renamed", { code: location.code }), "ok");
        await reload();
      } catch (error) {
        showError(form, message, explain(error));
        if (error.status === 412) await reload();
      }
    });
  });
  cell.append(" ", show, form);
  return cell;
}

function toggle(location, { message, reload }) {
  const label = location.active ? t("locations.deactivate") : t("locations.activate");
  const button = h("button", { type: "button", class: location.active ? "secondary" : null }, label);
  button.addEventListener("click", () => busy(button, location.active ? t("locations.deactivating") : t("locations.activating"), async () => {
    try {
      await patch(location, { active: !location.active });
      say(message, location.active ? t("locations.nowInactive", { code: location.code }) : t("locations.nowActive", { code: location.code }), "ok");
      await reload();
    } catch (error) {
      say(message, explain(error).message, "error");
      if (error.status === 412) await reload();
    }
  }));
  return button;
}

export async function render(main, { staff }) {
  main.append(h("h1", {}, t("locations.title")));
  const message = h("p", { class: "message", role: "status" });
  const list = card(t("locations.all"), message);
  let pager;
  const reload = () => pager.refresh();
  const columns = [
    [t("locations.code"), (l) => h("span", { class: "mono" }, l.code)],
    [t("locations.name"), (l) => nameCell(l, { staff, message, reload })],
    [t("locations.status"), (l) => h("span", { class: "badge", dataset: { status: l.active ? "active" : "inactive" } }, l.active ? t("locations.active") : t("locations.inactive"))],
    [t("locations.changed"), (l) => when(l.updated_at)],
    // Shelf labels for what the location holds (admin-labels.js).
    ["", (l) => (l.active ? h("a", { href: `/admin/labels?${new URLSearchParams({ location: l.code })}`, class: "location-labels" }, t("locations.labels")) : "")],
  ];
  if (staff) columns.push(["", (l) => toggle(l, { message, reload })]);
  pager = paged(list, "/locations", () => ({}), (items) => table(columns, items, { empty: t("locations.none"), caption: t("locations.title") }));
  main.append(list);
  if (staff) {
    main.append(card(t("locations.addTitle"),
      h("p", { class: "muted" }, t("locations.codeRule")),
      createForm(() => pager.reload())));
  } else {
    list.append(h("p", { class: "muted" }, t("locations.viewersOnly")));
  }
  await pager.reload();
}
