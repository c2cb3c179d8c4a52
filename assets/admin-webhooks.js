// Back office, owners only: webhook endpoints (signed messages to the shop's
// other systems), a ping, pause/resume, secret rotation, replay, the delivery
// log of each endpoint, and the recent events they are made from.
import { api } from "/assets/api.js";
import { busy, clearErrors, h, say, showError, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";
import { number, t } from "/assets/i18n.js";

/** Shows a secret once, with a button to copy it. */
function secretBox(into, title, secret) {
  const copy = h("button", { type: "button", class: "secondary" }, t("common.copy"));
  const box = h("div", { class: "secret", tabindex: "0" }, secret);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copy.textContent = t("common.copied");
    } catch {
      getSelection().selectAllChildren(box);
    }
  });
  into.replaceChildren(h("div", { class: "message ok stack" },
    h("strong", {}, title), box, h("div", { class: "actions" }, copy)));
}

function deliveriesCard(main) {
  const title = h("h2", {}, t("webhooks.log"));
  const hint = h("p", { class: "muted" }, t("webhooks.logHint"));
  const holder = h("div", {});
  const section = h("section", { class: "card", id: "deliveries" }, title, hint, holder);
  main.append(section);
  return {
    async show(hook) {
      title.textContent = t("webhooks.logOf", { id: String(hook.id) });
      hint.textContent = hook.url;
      holder.replaceChildren();
      const pager = paged(holder, `/webhooks/${hook.id}/deliveries`, () => ({}), (items) => table([
        ["#", (d) => d.number, { num: true }],
        [t("webhooks.when"), (d) => when(d.at)],
        [t("webhooks.event"), (d) => h("span", { class: "mono" }, d.event)],
        [t("webhooks.seq"), (d) => (d.seq ? d.seq : "ping"), { num: true }],
        [t("webhooks.try"), (d) => d.attempt, { num: true }],
        [t("webhooks.result"), (d) => h("span", { class: "badge", dataset: { status: d.ok ? "accepted" : "cancelled" } }, d.ok ? t("webhooks.delivered") : t("webhooks.failed"))],
        [t("webhooks.status"), (d) => d.status ?? "—", { num: true }],
        [t("webhooks.time"), (d) => `${number(d.latency_ms)} ms`, { num: true }],
        [t("webhooks.answer"), (d) => h("span", { class: "mono" }, d.error ?? d.response ?? "")],
      ], items, { empty: t("webhooks.nothingSent"), caption: t("webhooks.attempts") }), { limit: 25 });
      await pager.reload();
      section.scrollIntoView({ block: "nearest" });
    },
  };
}

/** An endpoint's status in words. */
function endpointStatus(status) {
  return {
    active: t("webhooks.statusActive"),
    retrying: t("webhooks.statusRetrying"),
    failing: t("webhooks.statusFailing"),
    paused: t("webhooks.statusPaused"),
  }[status] ?? status;
}

function endpointActions(hook, message, reload, log) {
  const act = (label, progress, run) => {
    const button = h("button", { type: "button", class: "secondary" }, label);
    button.addEventListener("click", () => busy(button, progress, async () => {
      try {
        await run();
      } catch (error) {
        say(message, error.message, "error");
      }
    }));
    return button;
  };
  const id = String(hook.id);
  const ping = act(t("webhooks.ping"), t("webhooks.sending"), async () => {
    const sent = await api(`/webhooks/${hook.id}/ping`, { method: "POST" });
    say(message, sent.ok
      ? t("webhooks.pingDelivered", { id, status: String(sent.status), ms: number(sent.latency_ms) })
      : t("webhooks.pingFailed", { id, error: sent.error }), sent.ok ? "ok" : "error");
    await reload();
    await log.show(hook);
  });
  const toggle = act(hook.enabled ? t("webhooks.pause") : t("webhooks.resume"), t("common.saving"), async () => {
    await api(`/webhooks/${hook.id}`, { method: "PATCH", body: { enabled: !hook.enabled } });
    say(message, hook.enabled ? t("webhooks.paused", { id }) : t("webhooks.resumed", { id }), "ok");
    await reload();
  });
  const rotate = act(t("webhooks.newSecret"), t("webhooks.rotating"), async () => {
    if (!confirm(t("webhooks.rotateConfirm", { id }))) return;
    const changed = await api(`/webhooks/${hook.id}`, { method: "PATCH", body: { rotate_secret: true } });
    secretBox(message, t("webhooks.rotated", { id }), changed.secret);
    await reload();
  });
  const replay = act(t("webhooks.replay"), t("webhooks.replaying"), async () => {
    const from = prompt(t("webhooks.replayFrom"), String(Math.max(1, hook.delivery.cursor)));
    if (!from) return;
    await api(`/webhooks/${hook.id}/replay`, { method: "POST", body: { from_seq: Number(from) } });
    say(message, t("webhooks.replayed", { id, seq: from }), "ok");
    await reload();
  });
  const remove = act(t("webhooks.delete"), t("webhooks.deleting"), async () => {
    if (!confirm(t("webhooks.deleteConfirm", { id, url: hook.url }))) return;
    await api(`/webhooks/${hook.id}`, { method: "DELETE" });
    say(message, t("webhooks.deleted", { id }), "ok");
    await reload();
  });
  remove.className = "danger";
  const show = act(t("webhooks.showLog"), t("common.loading"), () => log.show(hook));
  return h("div", { class: "actions" }, ping, show, toggle, replay, rotate, remove);
}

function endpoints(main, events) {
  const message = h("div", { class: "message", role: "status" });
  const list = card(t("webhooks.endpoints"), message);
  const log = deliveriesCard(main);
  const pager = paged(list, "/webhooks", () => ({}), (items) => table([
    ["#", (w) => w.id, { num: true }],
    [t("webhooks.sendsTo"), (w) => h("div", {}, h("span", { class: "mono" }, w.url), w.description ? h("div", { class: "muted" }, w.description) : null)],
    [t("webhooks.events"), (w) => w.events.join(", ")],
    [t("webhooks.status"), (w) => h("span", { class: "badge", dataset: { status: { active: "accepted", retrying: "open", failing: "cancelled", paused: "expired" }[w.status] } }, endpointStatus(w.status))],
    [t("webhooks.behind"), (w) => number(w.behind), { num: true }],
    [t("webhooks.lastDelivered"), (w) => when(w.delivery.last_delivered_at)],
    [t("webhooks.lastError"), (w) => w.delivery.last_error ?? ""],
    ["", (w) => endpointActions(w, message, () => pager.refresh(), log)],
  ], items, { empty: t("webhooks.noEndpoints"), caption: t("webhooks.endpointsCaption") }));

  const createMessage = h("p", { class: "message", role: "status" });
  const secret = h("div", { role: "status" });
  const submit = h("button", { type: "submit" }, t("webhooks.add"));
  const create = h("form", { class: "form-grid", novalidate: true },
    h("label", { class: "wide" }, t("webhooks.url"), h("input", { name: "url", type: "url", required: true, placeholder: "https://accounts.example.com/hooks/quarry", autocomplete: "off" })),
    h("label", { class: "wide" }, t("webhooks.description"), h("input", { name: "description", maxlength: "500", placeholder: t("webhooks.descriptionExample") })),
    h("fieldset", { class: "wide" }, h("legend", {}, t("webhooks.events")),
      h("label", { class: "inline" }, h("input", { type: "checkbox", name: "events", value: "*" }), t("webhooks.everything")),
      h("div", { class: "row" }, events.map((e) =>
        h("label", { class: "inline", title: e.description }, h("input", { type: "checkbox", name: "events", value: e.name }), e.name)))),
    h("label", { class: "inline wide" }, h("input", { type: "checkbox", name: "trusted" }), t("webhooks.trusted")),
    h("div", { class: "actions wide" }, submit));
  create.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, t("common.adding"), async () => {
      const data = new FormData(create);
      try {
        const made = await api("/webhooks", { method: "POST", body: {
          url: data.get("url").trim(),
          events: data.getAll("events"),
          description: data.get("description").trim(),
          trusted: data.get("trusted") === "on",
        } });
        clearErrors(create);
        create.reset();
        say(createMessage, "");
        secretBox(secret, t("webhooks.added", { id: String(made.webhook.id) }), made.secret);
        await pager.reload();
      } catch (error) {
        showError(create, createMessage, error);
      }
    });
  });
  main.prepend(list);
  list.after(card(t("webhooks.addTitle"),
    h("p", { class: "muted" }, t("webhooks.howItWorks")),
    create, createMessage, secret));
  return pager.reload();
}

function recentEvents(main) {
  const section = card(t("webhooks.recent"));
  section.append(h("p", { class: "muted" }, t("webhooks.recentNote")));
  main.append(section);
  const families = ["movement", "product", "quote", "location", "backup", "import"];
  const pager = paged(section, "/audit", () => ({}), (items) => table([
    [t("webhooks.seq"), (e) => e.seq, { num: true }],
    [t("webhooks.when"), (e) => when(e.at)],
    [t("webhooks.event"), (e) => h("span", { class: "mono" }, e.kind)],
    [t("webhooks.what"), (e) => e.key],
    [t("webhooks.by"), (e) => e.actor],
  ], items.filter((e) => families.includes(e.kind.split(".")[0])), { empty: t("webhooks.noEvents"), caption: t("webhooks.recent") }), { limit: 20 });
  return pager.reload();
}

export async function render(main, { owner }) {
  if (!owner) {
    main.append(h("h1", {}, t("webhooks.title")),
      h("p", { class: "message info", role: "status" }, t("webhooks.ownersOnly")));
    return;
  }
  const events = await api("/webhooks/events");
  const body = h("div", {});
  main.append(h("h1", {}, t("webhooks.title")), body);
  await endpoints(body, events);
  await recentEvents(main);
}
