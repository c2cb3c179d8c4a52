// Back office, owners only: webhook endpoints (signed messages to the shop's
// other systems), a ping, pause/resume, secret rotation, replay, the delivery
// log of each endpoint, and the recent events they are made from.
import { api } from "/assets/api.js";
import { busy, clearErrors, h, say, showError, when } from "/assets/ui.js";
import { card, paged, table } from "/assets/admin-kit.js";

/** Shows a secret once, with a button to copy it. */
function secretBox(into, title, secret) {
  const copy = h("button", { type: "button", class: "secondary" }, "Copy");
  const box = h("div", { class: "secret", tabindex: "0" }, secret);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copy.textContent = "Copied";
    } catch {
      getSelection().selectAllChildren(box);
    }
  });
  into.replaceChildren(h("div", { class: "message ok stack" },
    h("strong", {}, title), box, h("div", { class: "actions" }, copy)));
}

function deliveriesCard(main) {
  const title = h("h2", {}, "Delivery log");
  const hint = h("p", { class: "muted" }, "Choose Log on an endpoint to see every attempt to deliver to it.");
  const holder = h("div", {});
  const section = h("section", { class: "card", id: "deliveries" }, title, hint, holder);
  main.append(section);
  return {
    async show(hook) {
      title.textContent = `Delivery log of endpoint ${hook.id}`;
      hint.textContent = hook.url;
      holder.replaceChildren();
      const pager = paged(holder, `/webhooks/${hook.id}/deliveries`, () => ({}), (items) => table([
        ["#", (d) => d.number, { num: true }],
        ["When", (d) => when(d.at)],
        ["Event", (d) => h("span", { class: "mono" }, d.event)],
        ["Seq", (d) => (d.seq ? d.seq : "ping"), { num: true }],
        ["Try", (d) => d.attempt, { num: true }],
        ["Result", (d) => h("span", { class: "badge", dataset: { status: d.ok ? "accepted" : "cancelled" } }, d.ok ? "delivered" : "failed")],
        ["Status", (d) => d.status ?? "—", { num: true }],
        ["Time", (d) => `${d.latency_ms} ms`, { num: true }],
        ["Answer or error", (d) => h("span", { class: "mono" }, d.error ?? d.response ?? "")],
      ], items, { empty: "Nothing sent yet.", caption: "Delivery attempts" }), { limit: 25 });
      await pager.reload();
      section.scrollIntoView({ block: "nearest" });
    },
  };
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
  const ping = act("Ping", "Sending…", async () => {
    const sent = await api(`/webhooks/${hook.id}/ping`, { method: "POST" });
    say(message, sent.ok
      ? `Ping delivered to endpoint ${hook.id}: ${sent.status} in ${sent.latency_ms} ms.`
      : `Ping to endpoint ${hook.id} failed: ${sent.error}`, sent.ok ? "ok" : "error");
    await reload();
    await log.show(hook);
  });
  const toggle = act(hook.enabled ? "Pause" : "Resume", "Saving…", async () => {
    await api(`/webhooks/${hook.id}`, { method: "PATCH", body: { enabled: !hook.enabled } });
    say(message, `Endpoint ${hook.id} ${hook.enabled ? "paused" : "resumed"}.`, "ok");
    await reload();
  });
  const rotate = act("New secret", "Rotating…", async () => {
    if (!confirm(`Give endpoint ${hook.id} a new secret? The old one keeps signing for 24 hours.`)) return;
    const changed = await api(`/webhooks/${hook.id}`, { method: "PATCH", body: { rotate_secret: true } });
    secretBox(message, `Endpoint ${hook.id} has a new secret. Copy it now: it cannot be shown again.`, changed.secret);
    await reload();
  });
  const replay = act("Replay", "Replaying…", async () => {
    const from = prompt("Send the events again from which change-log seq?", String(Math.max(1, hook.delivery.cursor)));
    if (!from) return;
    await api(`/webhooks/${hook.id}/replay`, { method: "POST", body: { from_seq: Number(from) } });
    say(message, `Endpoint ${hook.id} sends again from seq ${from}.`, "ok");
    await reload();
  });
  const remove = act("Delete", "Deleting…", async () => {
    if (!confirm(`Delete endpoint ${hook.id} (${hook.url}) and its delivery log?`)) return;
    await api(`/webhooks/${hook.id}`, { method: "DELETE" });
    say(message, `Endpoint ${hook.id} deleted.`, "ok");
    await reload();
  });
  remove.className = "danger";
  const show = act("Log", "Loading…", () => log.show(hook));
  return h("div", { class: "actions" }, ping, show, toggle, replay, rotate, remove);
}

function endpoints(main, events) {
  const message = h("div", { class: "message", role: "status" });
  const list = card("Endpoints", message);
  const log = deliveriesCard(main);
  const pager = paged(list, "/webhooks", () => ({}), (items) => table([
    ["#", (w) => w.id, { num: true }],
    ["Sends to", (w) => h("div", {}, h("span", { class: "mono" }, w.url), w.description ? h("div", { class: "muted" }, w.description) : null)],
    ["Events", (w) => w.events.join(", ")],
    ["Status", (w) => h("span", { class: "badge", dataset: { status: { active: "accepted", retrying: "open", failing: "cancelled", paused: "expired" }[w.status] } }, w.status)],
    ["Behind", (w) => w.behind, { num: true }],
    ["Last delivered", (w) => when(w.delivery.last_delivered_at)],
    ["Last error", (w) => w.delivery.last_error ?? ""],
    ["", (w) => endpointActions(w, message, () => pager.refresh(), log)],
  ], items, { empty: "No endpoints yet: add one below.", caption: "Webhook endpoints" }));

  const createMessage = h("p", { class: "message", role: "status" });
  const secret = h("div", { role: "status" });
  const submit = h("button", { type: "submit" }, "Add endpoint");
  const create = h("form", { class: "form-grid", novalidate: true },
    h("label", { class: "wide" }, "URL", h("input", { name: "url", type: "url", required: true, placeholder: "https://accounts.example.com/hooks/quarry", autocomplete: "off" })),
    h("label", { class: "wide" }, "Description", h("input", { name: "description", maxlength: "500", placeholder: "Accounting" })),
    h("fieldset", { class: "wide" }, h("legend", {}, "Events"),
      h("label", { class: "inline" }, h("input", { type: "checkbox", name: "events", value: "*" }), "Everything"),
      h("div", { class: "row" }, events.map((e) =>
        h("label", { class: "inline", title: e.description }, h("input", { type: "checkbox", name: "events", value: e.name }), e.name)))),
    h("label", { class: "inline wide" }, h("input", { type: "checkbox", name: "trusted" }),
      "Trusted: send staff-only fields (costs, customers' contact details, who booked a movement)"),
    h("div", { class: "actions wide" }, submit));
  create.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, "Adding…", async () => {
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
        secretBox(secret, `Endpoint ${made.webhook.id} added. Copy its signing secret now: it cannot be shown again. Then press Ping to send it a signed test message.`, made.secret);
        await pager.reload();
      } catch (error) {
        showError(create, createMessage, error);
      }
    });
  });
  main.prepend(list);
  list.after(card("Add an endpoint",
    h("p", { class: "muted" }, "Quarry POSTs each event as JSON, signed the Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature headers), in order, and retries for up to three days when the receiver fails. Receivers check the signature: see OPERATIONS.md or run quarry webhook verify."),
    create, createMessage, secret));
  return pager.reload();
}

function recentEvents(main) {
  const section = card("Recent events");
  section.append(h("p", { class: "muted" }, "What endpoints are sent comes from the change log; its seq is each message's id."));
  main.append(section);
  const families = ["movement", "product", "quote", "location", "backup", "import"];
  const pager = paged(section, "/audit", () => ({}), (items) => table([
    ["Seq", (e) => e.seq, { num: true }],
    ["When", (e) => when(e.at)],
    ["Event", (e) => h("span", { class: "mono" }, e.kind)],
    ["What", (e) => e.key],
    ["By", (e) => e.actor],
  ], items.filter((e) => families.includes(e.kind.split(".")[0])), { empty: "No events on this page.", caption: "Recent events" }), { limit: 20 });
  return pager.reload();
}

export async function render(main, { owner }) {
  if (!owner) {
    main.append(h("h1", {}, "Webhooks"),
      h("p", { class: "message info", role: "status" }, "Only owners manage webhooks. Ask an owner."));
    return;
  }
  const events = await api("/webhooks/events");
  const body = h("div", {});
  main.append(h("h1", {}, "Webhooks"), body);
  await endpoints(body, events);
  await recentEvents(main);
}
