// Back office: data in and out — CSV imports with a row-by-row report (staff),
// downloads of every list as CSV or JSON (anyone), and backups (owners).
import { url, work } from "/assets/api.js";
import { busy, clearErrors, h, meter, say, showError, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";

const KINDS = {
  products: "Products, created or replaced by SKU: the columns of a product export.",
  stock: "Counted stock: sku, location, quantity (booked as adjustments to the counted level).",
  movements: "Movements: one row per line; consecutive rows with the same movement cell are one movement.",
};

function bytes(size) {
  const units = ["B", "kB", "MB", "GB"];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toLocaleString(undefined, { maximumFractionDigits: unit ? 1 : 0 })} ${units[unit]}`;
}

/** What an import did or would do: counts, then its bad rows by row and
 *  column, and where to download all of them (`badRows`, from its job). */
function report(r, badRows) {
  // A check writes nothing, and neither does an import refused for bad rows:
  // their counts say what the good rows would do, not what was done.
  const mode = r.dry_run ? "check" : r.written ? "done" : "refused";
  const word = (done, check, refused) => ({ done, check, refused })[mode];
  const counts = [
    ["Rows read", r.rows],
    [word("Created", "Would create", "Would have created (nothing created)"), r.created],
    [word("Updated", "Would update", "Would have updated (nothing updated)"), r.updated],
    [word("Unchanged", "Would stay unchanged", "Unchanged"), r.unchanged],
    [word("Movements booked", "Movements to book", "Movements to book (nothing booked)"), r.movements],
    ["Rows refused", r.rejected],
  ].filter(([label, n]) => n > 0 || label === "Rows read" || label === "Rows refused");
  const verdict = r.dry_run
    ? (r.rejected ? "Checked: fix the rows below, or import with “write the good rows”." : "Checked: every row is good. Nothing was written yet.")
    : (r.written ? (r.rejected ? "Imported the good rows; the rows below were refused." : "Imported.") : "Nothing was written: the rows below are bad.");
  return h("div", { class: "stack" },
    h("p", { class: `message ${r.rejected ? (r.written ? "info" : "error") : "ok"}` }, verdict),
    table([["", ([label]) => label], ["Count", ([, n]) => String(n), { num: true }]], counts, { caption: "Counts" }),
    r.locations_created.length
      ? h("p", {}, word(
        `New locations made (rename them on the Locations page): ${r.locations_created.join(", ")}.`,
        `New locations the import would make: ${r.locations_created.join(", ")}.`,
        `New locations it would have made (none made): ${r.locations_created.join(", ")}.`)) : null,
    r.errors.length ? h("h3", {}, r.errors.length < r.rejected ? `The first ${r.errors.length} bad rows` : "Bad rows") : null,
    badRows ? h("p", {}, h("a", { href: badRows, download: "" }, `Download all ${r.rejected} bad rows (CSV)`)) : null,
    r.errors.length ? table([
      ["Row", (e) => String(e.row), { num: true }],
      ["Column", (e) => (e.column ? h("span", { class: "mono" }, e.column) : "—")],
      ["Reason", (e) => e.reason],
    ], r.errors, { caption: "Bad rows" }) : null);
}

function importer() {
  const message = h("p", { class: "message", role: "status" });
  const progress = meter();
  const out = h("div", { "aria-live": "polite" });
  const kind = h("select", { name: "kind", "aria-describedby": "import-hint" }, Object.keys(KINDS).map((k) => h("option", { value: k }, k[0].toUpperCase() + k.slice(1))));
  const hint = h("span", { class: "muted", id: "import-hint" }, KINDS.products);
  const reference = h("label", { hidden: true }, "Reference for the counts", h("input", { name: "reference", placeholder: "import", maxlength: "100" }));
  kind.addEventListener("change", () => {
    hint.textContent = KINDS[kind.value];
    reference.hidden = kind.value !== "stock";
  });
  const check = h("button", { type: "submit", value: "check", class: "secondary" }, "Check file");
  const write = h("button", { type: "submit", value: "import" }, "Import");
  const form = h("form", { class: "stack", novalidate: true },
    h("label", {}, "What the file holds", h("span", { class: "row" }, kind, hint)),
    h("label", {}, "CSV file", h("input", { name: "file", type: "file", accept: ".csv,text/csv", required: true })),
    reference,
    h("label", { class: "inline" }, h("input", { type: "checkbox", name: "skip_invalid" }), "Write the good rows even when some are bad"),
    h("div", { class: "actions" }, check, write));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const dryRun = event.submitter === check;
    const file = form.elements.file.files[0];
    if (!file) {
      showError(form, message, { field: "file", message: "Choose a CSV file first." });
      return;
    }
    const body = new FormData();
    body.append("file", file);
    const query = {
      dry_run: dryRun,
      skip_invalid: form.elements.skip_invalid.checked,
      reference: kind.value === "stock" ? form.elements.reference.value.trim() : "",
    };
    clearErrors(form);
    say(message, "");
    out.replaceChildren();
    const phase = dryRun ? "Checking rows…" : "Importing…";
    let last = null;
    const other = event.submitter === check ? write : check;
    other.disabled = true;
    busy(event.submitter ?? write, dryRun ? "Checking…" : "Importing…", async () => {
      try {
        const onUpload = (sent, total) => progress.show("Uploading…", sent, total);
        const answer = await work(`/imports/${kind.value}`, { method: "POST", body, query, onUpload }, (job) => {
          last = job;
          progress.show(job.state === "running" ? phase : "Done.", job.progress.done, job.progress.total);
        });
        out.replaceChildren(report(answer, last?.bad_rows));
        if (answer.written) form.elements.file.value = "";
      } catch (error) {
        // Bad rows (422) come with the whole report, which says it all.
        if (error.body?.report) out.replaceChildren(report(error.body.report, last?.bad_rows));
        else showError(form, message, error);
      } finally {
        progress.hide();
        other.disabled = false;
      }
    });
  });
  return card("Import", form, progress.el, message, out);
}

function exporter() {
  const link = (kind, format) => h("a", { class: "button secondary", href: url(`/exports/${kind}`, { format }), download: "" },
    format.toUpperCase(), h("span", { class: "visually-hidden" }, ` of ${kind}`));
  return card("Export",
    h("p", { class: "muted" }, "Each file is one consistent snapshot, taken when you click."),
    table([
      ["What", (kind) => kind[0].toUpperCase() + kind.slice(1)],
      ["Download", (kind) => h("div", { class: "actions" }, link(kind, "csv"), link(kind, "json"))],
    ], ["products", "stock", "movements", "quotes"], { caption: "Exports" }));
}

function backups(main, owner) {
  if (!owner) {
    main.append(card("Backups", h("p", { class: "muted" }, "Only owners can take and download backups.")));
    return null;
  }
  const message = h("p", { class: "message", role: "status" });
  const progress = meter();
  const now = h("button", { type: "button" }, "Back up now");
  const section = card("Backups",
    h("p", { class: "muted" }, "A backup is a consistent copy of everything, taken while work goes on. Restore one with ",
      h("code", {}, "quarry restore FILE"), "."),
    h("div", { class: "toolbar" }, now), progress.el, message);
  const pager = paged(section, "/backups", () => ({}), (items) => table([
    ["File", (b) => h("a", { href: url(`/backups/${encodeURIComponent(b.name)}`), download: "", class: "mono" }, b.name)],
    ["Taken", (b) => when(b.created_at)],
    ["Size", (b) => bytes(b.size), { num: true }],
    ["Last change", (b) => String(b.last_seq), { num: true }],
    ["Made by", (b) => (b.scheduled ? "schedule" : "hand")],
    ["SHA-256", (b) => h("span", { class: "mono", title: b.sha256 }, `${b.sha256.slice(0, 12)}…`)],
  ], items, { empty: "No backups yet.", caption: "Backups" }));
  now.addEventListener("click", () => busy(now, "Backing up…", async () => {
    try {
      const made = await work("/backups", { method: "POST" }, (job) => progress.show("Copying…", job.progress.done, job.progress.total));
      say(message, `Backup ${made.name} taken (${bytes(made.size)}).`, "ok");
      await pager.reload();
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      progress.hide();
    }
  }));
  main.append(section);
  return pager.reload();
}

export async function render(main, { owner, staff }) {
  main.append(h("h1", {}, "Data"));
  if (staff) main.append(importer());
  else main.append(card("Import", h("p", { class: "muted" }, "Only staff and owners can import files.")));
  main.append(exporter());
  await backups(main, owner);
}
