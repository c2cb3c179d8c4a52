// The back office's shell: who is signed in, the navigation, a graceful end
// of session, and the section of the page, each a module `admin-{section}.js`
// exporting `render(main, context)`.
import { api, me, setCsrf, shop } from "/assets/api.js";
import { brand, h, stackTables } from "/assets/ui.js";
import { roleName } from "/assets/admin-kit.js";
import { LANGUAGES, chooseLanguage, currentLanguage, localize, t } from "/assets/i18n.js";

const main = document.getElementById("main");
const section = location.pathname.split("/")[2] ?? "";
const ended = document.getElementById("session-ended");

function toLogin(reason) {
  const next = location.pathname + location.search;
  location.assign(`/admin/login?${new URLSearchParams({ next, [reason]: "1" })}`);
}

// A request answered 401: the session ended (expiry, sign-out elsewhere).
// Keep the page and what was typed; offer to sign in again in another tab.
let started = false;
let focusBefore = null;
addEventListener("quarry:unauthenticated", () => {
  // Before the page is shown, start() sends the visitor to the sign-in page.
  if (!started) return;
  if (ended.hidden) focusBefore = document.activeElement;
  ended.hidden = false;
  document.getElementById("relogin").href = `/admin/login?${new URLSearchParams({ next: location.pathname + location.search })}`;
});
/** Checks for a session again (`me()` also takes its new CSRF token). */
async function resume({ quiet = false } = {}) {
  const who = await me().catch(() => null);
  const status = document.getElementById("session-status");
  if (!who) {
    if (!quiet) status.textContent = t("admin.stillSignedOut");
    return;
  }
  status.textContent = "";
  ended.hidden = true;
  // Back to where the work was (the retry button is hidden now).
  (focusBefore?.isConnected && focusBefore !== document.body ? focusBefore : main).focus();
  focusBefore = null;
}
document.getElementById("retry-session").addEventListener("click", () => resume());
// Coming back from the other tab is the usual sign that it is done.
addEventListener("focus", () => {
  if (!ended.hidden) resume({ quiet: true });
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !ended.hidden) resume({ quiet: true });
});

// On a phone the menu folds behind a button (quarry.css); Escape folds it again.
const topbar = document.getElementById("topbar");
const menuButton = document.getElementById("menu-button");
function showMenu(open) {
  topbar.classList.toggle("open", open);
  menuButton.setAttribute("aria-expanded", String(open));
}
menuButton.addEventListener("click", () => showMenu(!topbar.classList.contains("open")));
topbar.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !topbar.classList.contains("open")) return;
  showMenu(false);
  menuButton.focus();
});

// Tables fold into labelled cards on a phone.
stackTables(main);

document.getElementById("logout").addEventListener("click", async () => {
  try {
    await api("/auth/logout", { method: "POST" });
  } catch {
    // Signed out already: the page goes to the sign-in page either way.
  }
  setCsrf(null);
  toLogin("signed-out");
});

/** The back office's language picker: the choice is kept in this browser. */
function languagePicker() {
  const picker = document.getElementById("language");
  picker.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, lang: code }, name)));
  picker.value = currentLanguage();
  picker.addEventListener("change", () => {
    chooseLanguage(picker.value);
    // Every word on the page was written in the language before: draw it again.
    location.reload();
  });
}

async function start() {
  const [who, info] = await Promise.all([me(), shop()]);
  // A trade contact's session is no way into the back office (the server
  // sends them to the sign-in page before this page loads, too).
  if (!who || who.role === "contact") {
    toLogin("ended");
    return;
  }
  await localize(info, { scope: "admin" });
  languagePicker();
  started = true;
  brand(info);
  document.getElementById("who").textContent = `${who.username ?? who.actor} (${roleName(who.role)})`;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.role === "owner" && who.role !== "owner") link.remove();
    else if (link.dataset.section.split(" ").includes(section)) link.setAttribute("aria-current", "page");
  }
  const context = {
    me: who,
    shop: info,
    owner: who.role === "owner",
    staff: who.role === "owner" || who.role === "staff",
  };
  try {
    const page = await import(`/assets/admin-${section || "dashboard"}.js`);
    main.replaceChildren();
    await page.render(main, context);
  } catch (error) {
    main.replaceChildren(h("p", { class: "message error", role: "alert" }, t("admin.pageFailed", { error: error.message })));
  }
}

start();
