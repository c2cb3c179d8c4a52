// The back office's sign-in page. After signing in it goes where the visitor
// was headed (`?next=`, only ever a back-office path) or to the dashboard.
import { api, me, shop } from "/assets/api.js";
import { brand, busy, say } from "/assets/ui.js";
import { localize, t } from "/assets/i18n.js";

const form = document.getElementById("login");
const message = document.getElementById("message");
const params = new URLSearchParams(location.search);
const wanted = params.get("next") ?? "";
const next = /^\/admin(\/[a-z]+)?(\?[^#\\]*)?$/.test(wanted) ? wanted : "/admin";

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
    await busy(form.querySelector("button"), t("login.signingIn"), () =>
      api("/auth/login", {
        method: "POST",
        body: { username: String(data.get("username")).trim(), password: data.get("password") },
      }));
    location.assign(next);
  } catch (error) {
    form.password.value = "";
    form.password.focus();
    say(message, error.message, "error");
  }
});

await ready;
if (params.has("ended")) say(document.getElementById("notice"), t("login.ended"), "info");
else if (params.has("signed-out")) say(document.getElementById("notice"), t("login.signedOut"), "ok");

// The setup hint only while the shop has no owner yet.
api("/setup").then((setup) => {
  document.getElementById("first-time").hidden = !setup.needed;
}).catch(() => {});
// Already signed in: straight on.
me().then((who) => {
  if (who) location.replace(next);
}).catch(() => {});
