// A password-reset link: sets a new password with the secret after `#`.
// The secret never reaches the server's logs: fragments are not sent in URLs.
import { api, shop } from "/assets/api.js";
import { busy, say } from "/assets/ui.js";
import { localize, t } from "/assets/i18n.js";

const form = document.getElementById("reset");
const message = document.getElementById("message");
const token = decodeURIComponent(location.hash.slice(1));
history.replaceState(null, "", location.pathname);

const ready = shop().catch(() => null).then((info) => localize(info, { scope: "admin" }));

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  await ready;
  if (data.get("password") !== data.get("again")) {
    say(message, t("setup.mismatch"), "error");
    form.elements.again.focus();
    return;
  }
  say(message, "");
  try {
    await busy(form.querySelector("button"), t("reset.setting"), () => api("/auth/reset", {
      method: "POST",
      body: { token, password: data.get("password") },
    }));
    form.hidden = true;
    document.getElementById("done").hidden = false;
    document.querySelector("#done a").focus();
  } catch (error) {
    say(message, error.message, "error");
  }
});

await ready;
if (!token) {
  say(message, t("reset.noToken"), "error");
}
