// Back office, owners only: the mail the shop sends (customers' quote links,
// password-reset links, the low-stock digest, test messages), newest first,
// each with its state, attempts and last error; older messages a page at a
// time. While a message waits to be sent the list looks again every few
// seconds. A test message checks the mail settings; a shop without them is
// told how to turn mail on.
import { api } from "/assets/api.js";
import { busy, clearErrors, h, say, showError, when } from "/assets/ui.js";
import { card, table } from "/assets/admin-kit.js";
import { number, t, tx } from "/assets/i18n.js";

/** How often the list looks again while a message is queued. */
const REFRESH_MS = 4000;
const PAGE = 25;

/** What a message is, in words. */
function kindName(kind) {
  return {
    quote_link: t("mail.kindQuoteLink"),
    password_reset: t("mail.kindPasswordReset"),
    low_stock: t("mail.kindLowStock"),
    test: t("mail.kindTest"),
  }[kind] ?? kind;
}

/** A message's state as a badge: queued, sent, or given up. */
function stateBadge(state) {
  const look = { queued: "open", sent: "accepted", failed: "cancelled" }[state] ?? state;
  const words = { queued: t("mail.stateQueued"), sent: t("mail.stateSent"), failed: t("mail.stateFailed") }[state] ?? state;
  return h("span", { class: "badge", dataset: { status: look, state } }, words);
}

/** When it was sent, or when it is tried next. */
function sentOrNext(m) {
  if (m.state === "sent") return when(m.sent_at);
  if (m.state === "queued") return m.next_attempt_at ? t("mail.nextAttempt", { when: when(m.next_attempt_at) }) : t("mail.soon");
  return t("mail.gaveUp");
}

/** Why mail is off and how to turn it on, with the settings' names as code. */
function mailOff() {
  const code = (text) => h("code", {}, text);
  return h("div", { class: "message info stack", id: "mail-off", role: "status" },
    h("strong", {}, t("mail.offTitle")),
    h("span", {}, t("mail.offWhat")),
    h("span", {}, ...tx("mail.offHow", {
      section: code("[mail]"), url: code("smtp_url"), from: code("from"),
      urlEnv: code("QUARRY_MAIL_SMTP_URL"), fromEnv: code("QUARRY_MAIL_FROM"),
    })));
}

/**
 * The outbox: a page of messages at a time, newest first, "Older" following
 * the answer's cursor and "Newest" going back to the start. `onAnswer` hears
 * every answer (whether mail is on).
 */
function outbox(into, onAnswer) {
  const message = h("p", { class: "message", role: "alert" });
  const body = h("div", { id: "outbox" });
  const newest = h("button", { type: "button", class: "secondary" }, t("mail.newest"));
  const older = h("button", { type: "button", class: "secondary", id: "mail-older" }, t("mail.older"));
  const where = h("span", { class: "muted", "aria-live": "polite" });
  const pager = h("div", { class: "pager", hidden: true }, newest, older, where);
  into.append(message, body, pager);
  const cursors = [null];
  let page = 0;
  let nextCursor = null;
  let timer = null;
  let shown = null;

  const draw = (items) => table([
    [t("mail.to"), (m) => h("span", { class: "email" }, m.to)],
    [t("mail.subject"), (m) => h("span", {}, m.subject, m.reference ? h("div", { class: "muted mono" }, m.reference) : null)],
    [t("mail.kind"), (m) => kindName(m.kind)],
    [t("mail.state"), (m) => stateBadge(m.state)],
    [t("mail.attempts"), (m) => number(m.attempts), { num: true }],
    [t("mail.lastError"), (m) => (m.last_error ? h("span", { class: "mono" }, m.last_error) : "")],
    [t("mail.created"), (m) => when(m.created_at)],
    [t("mail.sentOrNext"), sentOrNext],
  ], items, { empty: page === 0 ? t("mail.nothing") : t("mail.noOlder"), caption: t("mail.outbox") });

  async function load({ quiet = false } = {}) {
    clearTimeout(timer);
    if (!quiet) body.setAttribute("aria-busy", "true");
    newest.disabled = true;
    older.disabled = true;
    let answer = null;
    try {
      answer = await api("/mail", { query: { limit: PAGE, cursor: cursors[page] ?? "" } });
      nextCursor = answer.next_cursor;
      // Looked at again with nothing changed: the table is left as it is.
      const seen = JSON.stringify(answer.items);
      if (seen !== shown) {
        body.replaceChildren(draw(answer.items));
        shown = seen;
      }
      say(message, "");
      pager.hidden = page === 0 && !nextCursor;
      newest.hidden = page === 0;
      where.textContent = page === 0 ? "" : t("pager.page", { page: page + 1 });
      onAnswer(answer);
    } catch (error) {
      say(message, error.message, "error");
    } finally {
      body.removeAttribute("aria-busy");
      newest.disabled = page === 0;
      older.disabled = !nextCursor;
    }
    // Queued mail is sent or tried again soon: its state is looked at again.
    if (answer?.items.some((m) => m.state === "queued")) timer = setTimeout(() => load({ quiet: true }), REFRESH_MS);
  }
  older.addEventListener("click", () => {
    cursors[page + 1] = nextCursor;
    page += 1;
    load();
  });
  newest.addEventListener("click", () => {
    page = 0;
    cursors.length = 1;
    load();
  });
  return {
    reload() {
      page = 0;
      cursors.length = 1;
      return load();
    },
  };
}

/** The test message's form: to an address typed, queued like any other. */
function testForm(list) {
  const message = h("p", { class: "message", role: "status" });
  const submit = h("button", { type: "submit" }, t("mail.sendTest"));
  const form = h("form", { class: "form-grid", id: "mail-test", novalidate: true },
    h("label", {}, t("mail.testTo"), h("input", { name: "to", type: "email", required: true, autocomplete: "email", maxlength: "254" })),
    h("div", { class: "actions wide" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const to = form.elements.to.value.trim();
    if (!to) {
      showError(form, message, { field: "to", message: t("mail.testWho") });
      return;
    }
    busy(submit, t("mail.sendingTest"), async () => {
      try {
        const sent = await api("/mail/test", { method: "POST", body: { to } });
        clearErrors(form);
        say(message, t("mail.testQueued", { to: sent.to }), "ok");
        await list.reload();
      } catch (error) {
        showError(form, message, error.code === "mail_not_configured" ? { ...error, message: t("mail.offTitle") } : error);
      }
    });
  });
  return card(t("mail.testTitle"), h("p", { class: "muted" }, t("mail.testHint")), form, message);
}

export async function render(main, { owner }) {
  main.append(h("h1", {}, t("mail.title")));
  if (!owner) {
    main.append(h("p", { class: "message info", role: "status" }, t("mail.ownersOnly")));
    return;
  }
  const notice = h("div", {});
  const section = card(t("mail.outbox"), h("p", { class: "muted" }, t("mail.outboxHint")));
  const test = h("div", {});
  main.append(notice, section, test);
  let enabled = null;
  const list = outbox(section, (answer) => {
    if (answer.enabled === enabled) return;
    enabled = answer.enabled;
    notice.replaceChildren(enabled ? "" : mailOff());
    test.replaceChildren(enabled ? testForm(list) : "");
  });
  await list.reload();
}
