// Back office: data in and out — CSV imports with a row-by-row report (staff),
// downloads of every list as CSV or JSON (anyone), and backups (owners).
import { url, work } from "/assets/api.js";
import { busy, clearErrors, h, meter, say, showError, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";
import { number, t, tx } from "/assets/i18n.js";

/** What each kind of import file holds: its name and a hint. */
const KINDS = () => ({
  products: [t("data.kind.products"), t("data.hint.products")],
  stock: [t("data.kind.stock"), t("data.hint.stock")],
  movements: [t("data.kind.movements"), t("data.hint.movements")],
});

/** What each export holds. */
const EXPORTS = () => ({
  products: t("data.kind.products"),
  stock: t("data.kind.stock"),
  movements: t("data.kind.movements"),
  quotes: t("data.kind.quotes"),
});

function bytes(size) {
  const units = ["B", "kB", "MB", "GB"];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${number(value, { maximumFractionDigits: unit ? 1 : 0 })} ${units[unit]}`;
}

/** What an import did or would do: counts, then its bad rows by row and
 *  column, and where to download all of them (`badRows`, from its job). */
function report(r, badRows) {
  // A check writes nothing, and neither does an import refused for bad rows:
  // their counts say what the good rows would do, not what was done.
  const mode = r.dry_run ? "check" : r.written ? "done" : "refused";
  const word = (done, check, refused) => ({ done, check, refused })[mode];
  // Rows read and refused are always said; the other counts when there are any.
  const counts = [
    [t("data.rowsRead"), r.rows, true],
    [word(t("data.created"), t("data.wouldCreate"), t("data.wouldHaveCreated")), r.created],
    [word(t("data.updated"), t("data.wouldUpdate"), t("data.wouldHaveUpdated")), r.updated],
    [word(t("data.unchanged"), t("data.wouldStay"), t("data.unchanged")), r.unchanged],
    [word(t("data.booked"), t("data.toBook"), t("data.toBookNothing")), r.movements],
    [t("data.rowsRefused"), r.rejected, true],
  ].filter(([, n, always]) => n > 0 || always);
  const verdict = r.dry_run
    ? (r.rejected ? t("data.checkedBad") : t("data.checkedGood"))
    : (r.written ? (r.rejected ? t("data.importedSome") : t("data.imported")) : t("data.nothingWritten"));
  return h("div", { class: "stack" },
    h("p", { class: `message ${r.rejected ? (r.written ? "info" : "error") : "ok"}` }, verdict),
    table([["", ([label]) => label], [t("data.count"), ([, n]) => number(n), { num: true }]], counts, { caption: t("data.counts") }),
    r.locations_created.length
      ? h("p", {}, word(
        t("data.locationsMade", { codes: r.locations_created.join(", ") }),
        t("data.locationsWouldMake", { codes: r.locations_created.join(", ") }),
        t("data.locationsWouldHaveMade", { codes: r.locations_created.join(", ") }))) : null,
    r.errors.length ? h("h3", {}, r.errors.length < r.rejected ? t("data.firstBadRows", { count: r.errors.length }) : t("data.badRows")) : null,
    badRows ? h("p", {}, h("a", { href: badRows, download: "" }, t("data.downloadBad", { count: r.rejected }))) : null,
    r.errors.length ? table([
      [t("data.row"), (e) => String(e.row), { num: true }],
      [t("data.column"), (e) => (e.column ? h("span", { class: "mono" }, e.column) : "—")],
      [t("data.reason"), (e) => e.reason],
    ], r.errors, { caption: t("data.badRows") }) : null);
}

function importer() {
  const message = h("p", { class: "message", role: "status" });
  const progress = meter();
  const out = h("div", { "aria-live": "polite" });
  const kinds = KINDS();
  const kind = h("select", { name: "kind", "aria-describedby": "import-hint" }, Object.entries(kinds).map(([k, [name]]) => h("option", { value: k }, name)));
  const hint = h("span", { class: "muted", id: "import-hint" }, kinds.products[1]);
  const reference = h("label", { hidden: true }, t("data.reference"), h("input", { name: "reference", placeholder: "import", maxlength: "100" }));
  kind.addEventListener("change", () => {
    hint.textContent = kinds[kind.value][1];
    reference.hidden = kind.value !== "stock";
  });
  const check = h("button", { type: "submit", value: "check", class: "secondary" }, t("data.check"));
  const write = h("button", { type: "submit", value: "import" }, t("data.import"));
  const form = h("form", { class: "stack", novalidate: true },
    h("label", {}, t("data.holds"), h("span", { class: "row" }, kind, hint)),
    h("label", {}, t("data.file"), h("input", { name: "file", type: "file", accept: ".csv,text/csv", required: true })),
    reference,
    h("label", { class: "inline" }, h("input", { type: "checkbox", name: "skip_invalid" }), t("data.skipInvalid")),
    h("div", { class: "actions" }, check, write));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const dryRun = event.submitter === check;
    const file = form.elements.file.files[0];
    if (!file) {
      showError(form, message, { field: "file", message: t("data.chooseFile") });
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
    const phase = dryRun ? t("data.checkingRows") : t("data.importing");
    let last = null;
    const other = event.submitter === check ? write : check;
    other.disabled = true;
    busy(event.submitter ?? write, dryRun ? t("data.checking") : t("data.importing"), async () => {
      try {
        const onUpload = (sent, total) => progress.show(t("data.uploading"), sent, total);
        const answer = await work(`/imports/${kind.value}`, { method: "POST", body, query, onUpload }, (job) => {
          last = job;
          progress.show(job.state === "running" ? phase : t("data.done"), job.progress.done, job.progress.total);
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
  return card(t("data.importTitle"), form, progress.el, message, out);
}

function exporter() {
  const names = EXPORTS();
  const link = (kind, format) => h("a", { class: "button secondary", href: url(`/exports/${kind}`, { format }), download: "" },
    format.toUpperCase(), h("span", { class: "visually-hidden" }, ` ${t("data.of", { what: names[kind] })}`));
  return card(t("data.exportTitle"),
    h("p", { class: "muted" }, t("data.exportNote")),
    table([
      [t("data.what"), (kind) => names[kind]],
      [t("data.download"), (kind) => h("div", { class: "actions" }, link(kind, "csv"), link(kind, "json"))],
    ], Object.keys(names), { caption: t("data.exports") }));
}

function backups(main, owner) {
  if (!owner) {
    main.append(card(t("data.backups"), h("p", { class: "muted" }, t("data.backupsOwnersOnly"))));
    return null;
  }
  const message = h("p", { class: "message", role: "status" });
  const progress = meter();
  const now = h("button", { type: "button" }, t("data.backUpNow"));
  const section = card(t("data.backups"),
    h("p", { class: "muted" }, ...tx("data.backupNote", { command: h("code", {}, "quarry restore FILE") })),
    h("div", { class: "toolbar" }, now), progress.el, message);
  const pager = paged(section, "/backups", () => ({}), (items) => table([
    [t("data.fileName"), (b) => h("a", { href: url(`/backups/${encodeURIComponent(b.name)}`), download: "", class: "mono" }, b.name)],
    [t("data.taken"), (b) => when(b.created_at)],
    [t("data.size"), (b) => bytes(b.size), { num: true }],
    [t("data.lastChange"), (b) => String(b.last_seq), { num: true }],
    [t("data.madeBy"), (b) => (b.scheduled ? t("data.bySchedule") : t("data.byHand"))],
    ["SHA-256", (b) => h("span", { class: "mono", title: b.sha256 }, `${b.sha256.slice(0, 12)}…`)],
  ], items, { empty: t("data.noBackups"), caption: t("data.backups") }));
  now.addEventListener("click", () => busy(now, t("data.backingUp"), async () => {
    try {
      const made = await work("/backups", { method: "POST" }, (job) => progress.show(t("data.copying"), job.progress.done, job.progress.total));
      say(message, t("data.backupTaken", { name: made.name, size: bytes(made.size) }), "ok");
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
  main.append(h("h1", {}, t("data.title")));
  if (staff) main.append(importer());
  else main.append(card(t("data.importTitle"), h("p", { class: "muted" }, t("data.importStaffOnly"))));
  main.append(exporter());
  await backups(main, owner);
}
