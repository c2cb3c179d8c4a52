// Sign in and out with a browser session. The session cookie is HttpOnly;
// changes send the CSRF token from login or /auth/me in X-CSRF-Token.
const login = document.getElementById("login");
const signedIn = document.getElementById("signed-in");
const message = document.getElementById("message");
let csrf = null;

function show(me) {
  csrf = me?.csrf_token ?? null;
  login.hidden = Boolean(me);
  signedIn.hidden = !me;
  if (me) {
    document.getElementById("who").textContent = me.username ?? me.user?.username;
    document.getElementById("role").textContent = me.role ?? me.user?.role;
  }
}

async function errorOf(response) {
  const body = await response.json().catch(() => null);
  return body?.error?.message ?? `Request failed (${response.status}).`;
}

login.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(login);
  message.textContent = "";
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: data.get("username"), password: data.get("password") }),
  });
  if (!response.ok) {
    message.textContent = await errorOf(response);
    return;
  }
  login.reset();
  const session = await response.json();
  show({ username: session.user.username, role: session.user.role, csrf_token: session.csrf_token });
});

document.getElementById("logout").addEventListener("click", async () => {
  const response = await fetch("/api/v1/auth/logout", {
    method: "POST",
    headers: { "x-csrf-token": csrf ?? "" },
  });
  if (response.ok || response.status === 401) {
    show(null);
    message.textContent = "Signed out.";
  } else {
    message.textContent = await errorOf(response);
  }
});

const me = await fetch("/api/v1/auth/me");
show(me.ok ? await me.json() : null);
