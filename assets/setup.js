// First run: creates the owner with the secret after `#` in the setup link.
// The secret never reaches the server's logs: fragments are not sent in URLs.
const form = document.getElementById("setup");
const message = document.getElementById("message");
const token = decodeURIComponent(location.hash.slice(1));
history.replaceState(null, "", location.pathname);

if (!token) {
  message.textContent = "This page needs the link `quarry serve` printed (it ends with #…).";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  if (data.get("password") !== data.get("again")) {
    message.textContent = "The passwords do not match.";
    return;
  }
  message.textContent = "Creating…";
  const response = await fetch("/api/v1/setup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      token,
      username: data.get("username"),
      password: data.get("password"),
    }),
  });
  if (response.ok) {
    form.hidden = true;
    document.getElementById("done").hidden = false;
    return;
  }
  const body = await response.json().catch(() => null);
  message.textContent = body?.error?.message ?? `Setup failed (${response.status}).`;
});
