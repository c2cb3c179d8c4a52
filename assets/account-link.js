// The storefront's way to the trade account: a "Trade account" link in the top
// bar (`#account-link`), which, while a trade contact is signed in, names them
// and their company instead ("Dave Marsh · Harbour Groundworks Ltd"). Only a
// browser that signed a contact in (the account page notes it here) asks the
// server who is signed in: anonymous visitors' pages send no extra request.
import { api } from "/assets/api.js";
import { t, tx } from "/assets/i18n.js";
import { h } from "/assets/ui.js";

const KEY = "quarry.trade-account";

/** Notes in this browser that a contact is signed in (`account`: GET /account's answer), or that none is (null). */
export function rememberAccount(account) {
  try {
    if (account) localStorage.setItem(KEY, JSON.stringify({ name: account.contact.name, customer: account.customer.name }));
    else localStorage.removeItem(KEY);
  } catch {
    // No storage (private mode): the link says "Trade account".
  }
}

function remembered() {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? "null");
  } catch {
    return null;
  }
}

/** Shows who is signed in on the link (`who`: `{ name, customer }`, or null for "Trade account"). */
export function showAccountLink(who) {
  const link = document.getElementById("account-link");
  if (!link) return;
  if (who?.name) {
    // On a phone only the name shows (quarry.css: what follows it is
    // hidden), so the top bar stays short.
    const name = h("span", { class: "who-name" }, who.name);
    const parts = tx("nav.signedIn", { name, customer: who.customer });
    const at = parts.indexOf(name) + 1;
    link.replaceChildren(...parts.slice(0, at), h("span", { class: "who-customer" }, ...parts.slice(at)));
    link.title = t("nav.accountOf", { customer: who.customer });
    link.classList.add("signed-in");
  } else {
    link.textContent = t("nav.account");
    link.removeAttribute("title");
    link.classList.remove("signed-in");
  }
}

/**
 * Fills the top bar's account link (after the page is localized): at once
 * from what this browser remembers, then as the server says. Answers the
 * signed-in contact's account (GET /account), or null.
 */
export async function accountLink() {
  const hint = remembered();
  showAccountLink(hint);
  if (!hint) return null;
  try {
    const account = await api("/account");
    rememberAccount(account);
    showAccountLink({ name: account.contact.name, customer: account.customer.name });
    return account;
  } catch (error) {
    // Signed out, or ended (401), or a staff login now (403): no contact.
    if (error.status === 401 || error.status === 403) {
      rememberAccount(null);
      showAccountLink(null);
    }
    return null;
  }
}
