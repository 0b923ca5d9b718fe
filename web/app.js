// The console's shell: the menu, the router (#/cabinet, #/today, …) and sign-in.
import { api, logout, onSessionLost, session } from "./api.js";
import { L, busy, check, checks, errorBox, field, h, lang, setLang, setZone, showError } from "./ui.js";
import { cabinetView } from "./views/cabinet.js";
import { todayView } from "./views/today.js";
import { chatView } from "./views/chat.js";
import { plannerView } from "./views/planner.js";
import { inboxView, refreshUnread } from "./views/inbox.js";
import { settingsView } from "./views/settings.js";

const ROUTES = {
  today: { view: todayView, title: () => L("今天", "Today") },
  cabinet: { view: cabinetView, title: () => L("药箱", "Cabinet") },
  chat: { view: chatView, title: () => L("助手", "Assistant") },
  planner: { view: plannerView, title: () => L("日程", "Planner") },
  inbox: { view: inboxView, title: () => L("通知", "Inbox") },
  settings: { view: settingsView, title: () => L("设置", "Settings") },
};

function current() {
  const name = location.hash.replace(/^#\/?/, "").split("?")[0];
  return name || "today";
}

function renderNav(active) {
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", L("主菜单", "Main menu"));
  nav.hidden = !session.get();
  nav.replaceChildren(
    ...Object.entries(ROUTES).map(([name, route]) =>
      h(
        "a",
        { href: `#/${name}`, "aria-current": name === active ? "page" : false, id: `nav-${name}` },
        route.title(),
        name === "inbox" ? h("span", { class: "badge", id: "unread", hidden: true }) : null,
        name === "inbox" ? h("span", { class: "visually-hidden", id: "unread-text" }) : null,
      ),
    ),
  );
}

/** The account's zone and language, once per page load (and again after a sign-in). */
let account = null;
export function loadAccount(force = false) {
  if (!account || force) {
    account = api.get("/users/me").then((me) => {
      setZone(me.timezone);
      if (me.preferences && me.preferences.language) setLang(me.preferences.language);
      return me;
    });
    account.catch(() => (account = null));
  }
  return account;
}

/** Focus the new page's heading, so keyboards and screen readers start there. */
function focusTitle(moved) {
  const title = document.getElementById("view-title");
  if (!moved || !title) return;
  title.tabIndex = -1;
  title.focus({ preventScroll: true });
}

let lastRoute = null;
export async function render() {
  const view = document.getElementById("view");
  const name = current();
  const moved = lastRoute !== null && lastRoute !== name;
  lastRoute = name;
  document.documentElement.lang = lang();
  if (!session.get() || name === "signin") {
    renderNav(null);
    view.replaceChildren(authView());
    document.title = `UniLife · ${L("登录", "Sign in")}`;
    focusTitle(moved);
    return;
  }
  await loadAccount().catch(() => null);
  document.documentElement.lang = lang();
  const route = ROUTES[name] || ROUTES.today;
  renderNav(name in ROUTES ? name : "today");
  document.title = `UniLife · ${route.title()}`;
  const root = h("section", { "aria-labelledby": "view-title" });
  view.replaceChildren(root);
  try {
    await route.view(root);
  } catch (err) {
    const box = errorBox();
    root.append(box);
    showError(box, err);
  }
  focusTitle(moved);
  refreshUnread();
}

/**
 * Sign in or create an account; `onDone(pair)` runs after success. In the dialog over a page
 * (`inDialog`) there is no sign-up, no Apple (it would leave the page) and no re-render.
 */
function authForm(onDone, inDialog = false) {
  let mode = "signin";
  const box = errorBox();
  const userId = h("input", { name: "user_id", autocomplete: "username", required: true, minlength: 3, maxlength: 64 });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : ["Asia/Shanghai"];
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "Asia/Shanghai";
  if (!zones.includes(browserZone)) zones.unshift(browserZone);
  const timezone = h("select", { name: "timezone" }, zones.map((z) => h("option", { value: z, selected: z === browserZone }, z)));
  const zoneField = field(L("时区", "Time zone"), timezone);
  const submit = h("button", { type: "submit", id: "auth-submit" });
  const heading = h("h1", { id: "view-title" });
  const passwordHint = h("small", { class: "hint" });
  const form = h("form", { class: "card", novalidate: true }, heading);
  const tabs = h("div", { class: "tabs", role: "group" });
  const paint = () => {
    heading.textContent = mode === "signin" ? L("登录", "Sign in") : L("注册", "Create an account");
    submit.textContent = mode === "signin" ? L("登录", "Sign in") : L("注册", "Create account");
    zoneField.hidden = mode === "signin";
    password.autocomplete = mode === "signin" ? "current-password" : "new-password";
    passwordHint.textContent = mode === "signup" ? L("至少 8 位，包含字母和数字", "At least 8 characters with a letter and a digit") : "";
    if (inDialog) return;
    tabs.replaceChildren(
      h("button", { type: "button", class: mode === "signin" ? "" : "secondary", id: "tab-signin", "aria-pressed": String(mode === "signin"), onclick: () => ((mode = "signin"), paint()) }, L("登录", "Sign in")),
      h("button", { type: "button", class: mode === "signup" ? "" : "secondary", id: "tab-signup", "aria-pressed": String(mode === "signup"), onclick: () => ((mode = "signup"), paint()) }, L("注册", "Sign up")),
    );
  };
  const apple = h("div", { class: "apple" });
  (inDialog ? Promise.resolve(null) : appleProvider()).then((cfg) => {
    if (!cfg) return;
    const button = h("button", { type: "button", class: "secondary", id: "apple-sign-in" }, L("通过 Apple 登录", "Sign in with Apple"));
    button.addEventListener("click", () => startApple(cfg));
    apple.replaceChildren(button);
  });
  form.append(
    tabs,
    field(L("账号名", "Account name"), userId),
    field(L("密码", "Password"), password),
    passwordHint,
    zoneField,
    box,
    h("div", { class: "row" }, submit, apple, h("button", { type: "button", class: "secondary", onclick: () => { setLang(lang() === "en" ? "zh-CN" : "en"); paint(); if (!inDialog) render(); } }, L("English", "中文"))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = userId.value.trim();
    const signup = mode === "signup";
    const pw = password.value;
    const valid = checks(
      check(userId, name.length >= 3 && name.length <= 64 && !/\s/.test(name), "账号名为 3–64 个字符，不能有空格", "The account name is 3–64 characters without spaces"),
      check(password, signup ? pw.length >= 8 && pw.length <= 128 && /[A-Za-z]/.test(pw) && /[0-9]/.test(pw) : pw.length > 0,
        signup ? "密码至少 8 位，且包含字母和数字" : "请输入密码", signup ? "The password needs at least 8 characters with a letter and a digit" : "Enter the password"),
    );
    if (!valid) return;
    busy(submit, box, async () => {
      const body = { user_id: name, password: pw };
      if (mode === "signup") body.timezone = timezone.value;
      const pair = await api.post(mode === "signin" ? "/auth/login" : "/auth/register", body, { auth: false });
      session.set(pair);
      // The language follows the account: a new one keeps what was chosen here.
      if (mode === "signup") await api.put("/users/me", { preferences: { language: lang() } }).catch(() => {});
      await loadAccount(true).catch(() => null);
      onDone(pair);
    });
  });
  paint();
  return form;
}

function authView() {
  const view = h("div", { class: "auth" }, authForm(() => {
    if (current() === "signin") location.hash = "#/today";
    else render();
  }));
  if (appleFailure) {
    const box = errorBox();
    view.prepend(box);
    showError(box, appleFailure);
    appleFailure = null;
  }
  return view;
}

/*
 * Sign in with Apple on the web, without Apple's script: the browser goes to Apple's authorize
 * page and comes back to this page with the identity token in the fragment
 * (`#state=…&id_token=…`), which is sent to /auth/apple like the app's. `state` and `nonce` are
 * random per attempt and kept in sessionStorage until Apple sends the browser back.
 */
let providers = null;
function appleProvider() {
  if (!providers) providers = api.get("/auth/providers", undefined, { auth: false }).catch(() => null);
  return providers.then((p) => (p && p.apple) || null);
}

function randomToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function startApple(cfg) {
  const state = randomToken();
  const nonce = randomToken();
  sessionStorage.setItem("unilife.apple", JSON.stringify({ state, nonce }));
  const url = new URL(cfg.authorize_url);
  url.search = new URLSearchParams({
    client_id: cfg.client_id,
    redirect_uri: `${location.origin}/`,
    response_type: "code id_token",
    response_mode: "fragment",
    state,
    nonce,
  }).toString();
  location.assign(url.toString());
}

let appleFailure = null;
async function finishApple() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has("id_token") && !params.has("error")) return;
  const expected = JSON.parse(sessionStorage.getItem("unilife.apple") || "null");
  sessionStorage.removeItem("unilife.apple");
  history.replaceState(null, "", "#/signin");
  if (!expected || params.get("state") !== expected.state) {
    appleFailure = { code: "invalid_identity_token" };
    return;
  }
  if (params.has("error")) {
    appleFailure = { code: "invalid_identity_token", serverMessage: params.get("error") === "user_cancelled_authorize" ? L("已取消通过 Apple 登录", "Sign in with Apple was cancelled") : null };
    return;
  }
  try {
    const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const pair = await api.post("/auth/apple", { identity_token: params.get("id_token"), nonce: expected.nonce, timezone }, { auth: false });
    session.set(pair);
    await loadAccount(true).catch(() => null);
    history.replaceState(null, "", "#/today");
  } catch (err) {
    appleFailure = err;
  }
}

/*
 * A session that cannot be refreshed: sign in again in a dialog over the page, then the request
 * is sent again and the page stays as it was. Only the same account carries on; another one
 * (a shared screen) starts from a fresh page, so nothing meant for the first lands with it.
 * An account without a password (Apple) signs out from here and signs in again.
 */
let pending = null;
onSessionLost((who) => {
  if (pending) return pending;
  pending = new Promise((resolve) => {
    const dialog = h("dialog", { id: "reauth", "aria-labelledby": "reauth-title" });
    const note = h("p", { id: "reauth-title" }, L("登录已失效，请重新登录；页面上填写的内容会保留。", "Your session has ended. Sign in again; what you typed stays on the page."));
    const leave = h("button", { type: "button", class: "secondary", onclick: () => { location.hash = "#/signin"; location.reload(); } },
      L("退出并重新登录（如通过 Apple 登录）", "Sign out and sign in again (e.g. with Apple)"));
    dialog.append(note, authForm((pair) => {
      if (who && pair.user_id !== who) {
        location.hash = "#/today";
        location.reload();
        return;
      }
      dialog.close();
      dialog.remove();
      pending = null;
      resolve();
    }, true), leave);
    dialog.addEventListener("cancel", (e) => e.preventDefault());
    document.body.append(dialog);
    dialog.showModal();
  });
  return pending;
});

export async function signOut() {
  await logout();
  account = null;
  if (location.hash === "#/signin") render();
  else location.hash = "#/signin";
}

window.addEventListener("hashchange", render);
finishApple().finally(render);
