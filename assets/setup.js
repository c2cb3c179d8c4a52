// First run: creates the owner with the secret after `#` in the setup link.
// The secret never reaches the server's logs: fragments are not sent in URLs.
import { api } from "/assets/api.js";
import { busy, say } from "/assets/ui.js";

const form = document.getElementById("setup");
const message = document.getElementById("message");
const token = decodeURIComponent(location.hash.slice(1));
history.replaceState(null, "", location.pathname);

if (!token) {
  say(message, "This page needs the link `quarry serve` printed (it ends with #…).", "error");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  if (data.get("password") !== data.get("again")) {
    say(message, "The passwords do not match.", "error");
    form.elements.again.focus();
    return;
  }
  say(message, "");
  try {
    await busy(form.querySelector("button"), "Creating…", () => api("/setup", {
      method: "POST",
      body: { token, username: data.get("username"), password: data.get("password") },
    }));
    form.hidden = true;
    document.getElementById("done").hidden = false;
    document.querySelector("#done a").focus();
  } catch (error) {
    say(message, error.message, "error");
  }
});
