// The back office's sign-in page. After signing in it goes where the visitor
// was headed (`?next=`, only ever a back-office path or a delivery note) or to
// the dashboard.
// A forgotten password: a link to set a new one is e-mailed to the user's
// address, and the page says the same whether or not that user exists.
// A trade contact (who signs in with an e-mail address) goes to /account, or
// to the delivery note they were opening.
import { api, me, shop } from "/assets/api.js";
import { brand, busy, h, say } from "/assets/ui.js";
import { localize, t, tx } from "/assets/i18n.js";

const form = document.getElementById("login");
const message = document.getElementById("message");
const params = new URLSearchParams(location.search);
const wanted = params.get("next") ?? "";
/** A printable delivery note (`/delivery-notes/Q-2026-0001/2`), which staff and the customer's contacts may open. */
const NOTE = /^\/delivery-notes\/[A-Za-z0-9-]+\/\d+(\?paper=(?:a4|80mm))?$/;
const next = /^\/admin(\/[a-z]+(?:-[a-z]+)*)?(\?[^#\\]*)?$/.test(wanted) || NOTE.test(wanted) ? wanted : "/admin";

// The back office's words: the language chosen in this browser, or the shop's.
const ready = shop().catch(() => null).then(async (info) => {
  await localize(info, { scope: "admin" });
  if (info) brand(info);
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  await ready;
  say(message, "");
  try {
    const answer = await busy(form.querySelector("button"), t("login.signingIn"), () =>
      api("/auth/login", {
        method: "POST",
        body: { username: String(data.get("username")).trim(), password: data.get("password") },
      }));
    // A trade contact's login (an e-mail address) opens their account (or
    // the delivery note they were opening), not the back office.
    location.assign(answer?.contact && !answer.user ? (NOTE.test(next) ? next : "/account") : next);
  } catch (error) {
    form.password.value = "";
    form.password.focus();
    say(message, error.message, "error");
  }
});

// "Forgot your password?": opened, it takes the username typed above.
const forgot = document.getElementById("forgot");
const forgotForm = document.getElementById("forgot-form");
const forgotMessage = document.getElementById("forgot-message");
forgot.addEventListener("toggle", () => {
  if (!forgot.open) return;
  if (!forgotForm.username.value) forgotForm.username.value = form.username.value.trim();
  forgotForm.username.focus();
});
forgotForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  await ready;
  const username = forgotForm.username.value.trim();
  if (!username) {
    say(forgotMessage, t("login.forgotWho"), "error");
    forgotForm.username.focus();
    return;
  }
  say(forgotMessage, "");
  try {
    await busy(forgotForm.querySelector("button"), t("login.forgotSending"), () =>
      api("/auth/forgot", { method: "POST", body: { username } }));
    // The same words for every username: whether it exists, has an address,
    // or the shop sends mail at all is not said.
    say(forgotMessage, t("login.forgotSent", { username }), "ok");
  } catch (error) {
    say(forgotMessage, error.message, "error");
  }
});

await ready;
if (params.has("ended")) say(document.getElementById("notice"), t("login.ended"), "info");
else if (params.has("signed-out")) say(document.getElementById("notice"), t("login.signedOut"), "ok");

// The setup hint only while the shop has no owner yet.
api("/setup").then((setup) => {
  document.getElementById("first-time").hidden = !setup.needed;
}).catch(() => {});
// Already signed in: straight on. A trade contact's session does not open the
// back office (the server sends them here again): they are told, and may sign
// in with a staff login instead.
me().then(async (who) => {
  if (!who) return;
  if (who.role !== "contact") {
    location.replace(next);
    return;
  }
  await ready;
  const notice = document.getElementById("notice");
  notice.replaceChildren(...tx("login.contactSession", {
    account: h("a", { href: "/account", id: "to-account" }, t("login.contactAccount")),
  }));
  notice.className = "message info";
}).catch(() => {});
