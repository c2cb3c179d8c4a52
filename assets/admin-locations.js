// Back office: the places stock is kept. Everyone signed in sees the list;
// staff add locations, rename them and switch them on or off.
import { api } from "/assets/api.js";
import { busy, clearErrors, h, say, showError, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";

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
  if (error.status === 412) error.message = "Someone else changed this location meanwhile; the list has been reloaded, try again.";
  return error;
}

function createForm(onCreated) {
  const message = h("p", { class: "message", role: "status" });
  const submit = h("button", { type: "submit" }, "Add location");
  const form = h("form", { class: "form-grid", novalidate: true },
    h("label", {}, "Code", h("input", { name: "code", required: true, maxlength: "32", autocomplete: "off", class: "mono", placeholder: "WH2-A-01" })),
    h("label", {}, "Name", h("input", { name: "name", required: true, maxlength: "100", autocomplete: "off", placeholder: "Back warehouse, aisle A" })),
    h("div", { class: "actions wide" }, submit),
    h("div", { class: "wide" }, message));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { code: data.get("code").trim(), name: data.get("name").trim() };
    busy(submit, "Adding…", async () => {
      try {
        const created = await api("/locations", { method: "POST", body });
        form.reset();
        clearErrors(form);
        say(message, `Location ${created.code} added.`, "ok");
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
  const show = h("button", { type: "button", class: "secondary" }, "Rename");
  const input = h("input", { name: "name", value: location.name, maxlength: "100", required: true });
  const save = h("button", { type: "submit" }, "Save");
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  const form = h("form", { class: "row", hidden: true },
    h("label", {}, h("span", { class: "visually-hidden" }, `New name for ${location.code}`), input), save, cancel);
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
    busy(save, "Saving…", async () => {
      try {
        await patch(location, { name: input.value.trim() });
        say(message, `${location.code} renamed.`, "ok");
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
  const label = location.active ? "Deactivate" : "Activate";
  const button = h("button", { type: "button", class: location.active ? "secondary" : null }, label);
  button.addEventListener("click", () => busy(button, location.active ? "Deactivating…" : "Activating…", async () => {
    try {
      await patch(location, { active: !location.active });
      say(message, `${location.code} is now ${location.active ? "inactive" : "active"}.`, "ok");
      await reload();
    } catch (error) {
      say(message, explain(error).message, "error");
      if (error.status === 412) await reload();
    }
  }));
  return button;
}

export async function render(main, { staff }) {
  main.append(h("h1", {}, "Locations"));
  const message = h("p", { class: "message", role: "status" });
  const list = card("All locations", message);
  let pager;
  const reload = () => pager.refresh();
  const columns = [
    ["Code", (l) => h("span", { class: "mono" }, l.code)],
    ["Name", (l) => nameCell(l, { staff, message, reload })],
    ["Status", (l) => h("span", { class: "badge", dataset: { status: l.active ? "active" : "inactive" } }, l.active ? "Active" : "Inactive")],
    ["Changed", (l) => when(l.updated_at)],
  ];
  if (staff) columns.push(["", (l) => toggle(l, { message, reload })]);
  pager = paged(list, "/locations", () => ({}), (items) => table(columns, items, { empty: "No locations yet.", caption: "Locations" }));
  main.append(list);
  if (staff) {
    main.append(card("Add a location",
      h("p", { class: "muted" }, "Codes are 1–32 letters, digits, dots, dashes or underscores, kept in capitals."),
      createForm(() => pager.reload())));
  } else {
    list.append(h("p", { class: "muted" }, "You can look but not change: ask an owner for a staff account to add or rename locations."));
  }
  await pager.reload();
}
