// A trade contact's invitation link (`/invite#SECRET`): a password, twice,
// sets up their login (or a new password for it) and signs them in; then on
// to their account. The secret never reaches the server's logs: fragments are
// not sent in URLs, only in this page's own request.
import { api, setCsrf, shop } from "/assets/api.js";
import { brand, busy, say } from "/assets/ui.js";
import { localize, t } from "/assets/i18n.js";

const form = document.getElementById("invite");
const message = document.getElementById("message");
const token = decodeURIComponent(location.hash.slice(1));
history.replaceState(null, "", location.pathname);

const ready = shop().catch(() => null).then(async (info) => {
  await localize(info);
  if (info) brand(info);
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  await ready;
  if (!token) {
    say(message, t("invite.noToken"), "error");
    return;
  }
  if (data.get("password") !== data.get("again")) {
    say(message, t("setup.mismatch"), "error");
    form.elements.again.value = "";
    form.elements.again.focus();
    return;
  }
  say(message, "");
  try {
    const answer = await busy(form.querySelector("button"), t("invite.setting"), () => api("/auth/invite", {
      method: "POST",
      body: { token, password: data.get("password") },
    }));
    setCsrf(answer?.csrf_token);
    location.assign("/account");
  } catch (error) {
    // 403: used, expired or mistyped; 422: a weak password; 409: the login
    // belongs to another customer; 429: too many tries. The server says which.
    say(message, error.message, "error");
    if (error.field === "password") {
      form.elements.password.setAttribute("aria-invalid", "true");
      form.elements.password.focus();
    } else {
      form.elements.password.removeAttribute("aria-invalid");
    }
  }
});

await ready;
if (!token) say(message, t("invite.noToken"), "error");
