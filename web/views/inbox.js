// Notifications: the inbox with its unread count, the channels (webhooks and chat apps, with a
// test message and each one's delivery log), the app's phones, and notification settings.
import { api } from "../api.js";
import { L, busy, check, errorBox, field, formatTime, h, showError, toast } from "../ui.js";

/** The unread count on the menu (at most 200 are counted: the API has no count of its own). */
export async function refreshUnread() {
  const badge = document.getElementById("unread");
  if (!badge) return;
  try {
    const unread = await api.get("/notifications", { unread: true, limit: 200 });
    badge.textContent = unread.length >= 200 ? "200+" : String(unread.length);
    badge.hidden = unread.length === 0;
    badge.setAttribute("aria-hidden", "true");
    const spoken = document.getElementById("unread-text");
    if (spoken) spoken.textContent = unread.length ? L(`（${badge.textContent} 条未读）`, ` (${badge.textContent} unread)`) : "";
  } catch {
    badge.hidden = true;
  }
}

/** The channels a notification goes to: each kind, the address it takes, and its help. */
const KINDS = [
  ["webhook", "Webhook", ["https://", "http://"], "https://example.com/hook", "签名的 JSON POST（Standard Webhooks）。", "A signed JSON POST (Standard Webhooks)."],
  ["bark", "Bark (iOS)", ["bark://", "barks://"], "bark://设备 key", "Bark App 里复制的 key；自建服务器：barks://主机/key。加 ?critical=yes 让吃药提醒以重要警告送达。", "The key from the Bark app; your own server: barks://host/key. Add ?critical=yes for critical dose alerts."],
  ["wecombot", "企业微信 WeCom", ["wecombot://"], "wecombot://机器人 key", "群机器人 Webhook 地址里 key= 后面的部分。", "The part after key= in the group bot's webhook address."],
  ["dingtalk", "钉钉 DingTalk", ["dingtalk://"], "dingtalk://加签密钥@access_token", "机器人的 access_token；开启了加签就在前面写上密钥和 @。", "The bot's access_token; with signing on, put the secret and @ before it."],
  ["feishu", "飞书 Feishu", ["feishu://"], "feishu://签名密钥@token", "机器人地址最后的 token；开启了签名校验就在前面写上密钥和 @。", "The token at the end of the bot's address; with signing on, put the secret and @ before it."],
  ["schan", "Server酱", ["schan://"], "schan://SendKey", "Server酱 的 SendKey。", "Your ServerChan SendKey."],
  ["ntfy", "ntfy", ["ntfy://", "ntfys://"], "ntfy://主题", "ntfy.sh 的主题；访问令牌：ntfy://令牌@主题；自建服务器：ntfys://主机/主题。", "An ntfy.sh topic; access token: ntfy://token@topic; your own server: ntfys://host/topic."],
];
/** A kind by name; browsers are added with the button below the form, not by address. */
const kindOf = (name) => (name === "webpush" ? ["webpush", L("浏览器 Web Push", "Browser (Web Push)")] : KINDS.find((k) => k[0] === name) || KINDS[0]);

/** base64url (the server's VAPID key) as the bytes `applicationServerKey` takes. */
function keyBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Resolves once the registration's worker is active. */
function activated(registration) {
  const worker = registration.installing || registration.waiting || registration.active;
  if (!worker || worker.state === "activated") return Promise.resolve();
  return new Promise((resolve) => worker.addEventListener("statechange", () => worker.state === "activated" && resolve()));
}

/** A promise that gives up after `ms` with the message given. */
function within(ms, promise, zh, en) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(L(zh, en))), ms))]);
}

/**
 * Notifications in this browser: the service worker (/assets/sw.js) shows what the server
 * pushes. Subscribing asks the browser's push service (Google's for Chrome, Mozilla's for
 * Firefox, Apple's for Safari), so it needs that service reachable.
 */
function browserPush(box, reload) {
  const status = h("p", { class: "muted", role: "status", id: "webpush-status" });
  const button = h("button", { type: "button", class: "secondary", id: "webpush-enable" }, L("在这个浏览器接收通知", "Get notifications in this browser"));
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    status.textContent = L("这个浏览器不支持网页推送。", "This browser does not support Web Push.");
    button.disabled = true;
    return h("div", { class: "card", id: "webpush" }, button, status);
  }
  button.addEventListener("click", () => busy(button, box, async () => {
    status.className = "muted";
    let key;
    try {
      key = (await api.get("/devices/webpush-key")).public_key;
    } catch (err) {
      if (err.code === "webpush_disabled") {
        status.textContent = L("服务器没有开启网页推送（管理员需设置 VAPID 密钥）。", "Web Push is not set up on this server (its administrator sets a VAPID key).");
        return;
      }
      throw err;
    }
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      status.textContent = L("浏览器没有允许通知：请在网站设置里允许后再试。", "The browser did not allow notifications: allow them in the site settings and try again.");
      status.className = "error";
      return;
    }
    // Its scope is /assets/, not this page (`navigator.serviceWorker.ready` waits for a worker
    // of this page's scope): wait for this registration's worker itself.
    const registration = await navigator.serviceWorker.register("/assets/sw.js", { scope: "/assets/" });
    await within(10000, activated(registration), "通知服务没有启动", "the notification worker did not start");
    let subscription;
    try {
      subscription = await within(12000,
        registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }),
        "浏览器的推送服务没有回应", "the browser's push service did not answer");
    } catch (err) {
      status.textContent = L(`无法订阅：${err.message}。浏览器需要能连上它的推送服务。`, `Could not subscribe: ${err.message}. The browser needs to reach its push service.`);
      status.className = "error";
      return;
    }
    const name = navigator.userAgent.includes("Firefox") ? "Firefox" : navigator.userAgent.includes("Edg/") ? "Edge" : navigator.userAgent.includes("Chrome") ? "Chrome" : "Safari";
    await api.post("/devices", { channel: "webpush", subscription: subscription.toJSON(), name });
    status.textContent = L("这个浏览器会收到通知了。", "This browser will get notifications.");
    await reload();
  }));
  return h("div", { class: "card", id: "webpush" }, button, status);
}
const STATUS = { sent: ["已送达", "delivered"], pending: ["等待重试", "waiting to retry"], sending: ["发送中", "sending"], dead: ["已放弃", "given up"] };

/** A channel's delivery log: the last deliveries, each with its tries. */
async function deliveryLog(id, holder) {
  const data = await api.get(`/devices/${id}/deliveries`, { limit: 10 });
  const items = data.deliveries.map((d) => {
    const [zh, en] = STATUS[d.status] || [d.status, d.status];
    const tries = d.attempts.map((a) => `${formatTime(a.at)} ${a.status_code ?? "—"}${a.error ? ` ${a.error}` : ""}`).join("\n");
    return h("li", {}, h("div", { class: "grow" }, h("strong", {}, d.title || d.kind || ""), h("div", { class: `muted status-${d.status}` }, `${L(zh, en)} · ${L(`${d.attempts.length} 次尝试`, `${d.attempts.length} tries`)}`), tries ? h("pre", { class: "muted" }, tries) : null));
  });
  holder.replaceChildren(h("ul", { class: "list" }, items.length ? items : h("li", { class: "muted" }, L("还没有发送记录。", "Nothing sent yet."))));
}

async function channels(root) {
  const list = h("ul", { class: "list", id: "channels" });
  const box = errorBox();
  const kind = h("select", { name: "channel" }, KINDS.map(([value, label]) => h("option", { value }, label)));
  const url = h("input", { name: "url", type: "text", inputmode: "url", autocomplete: "off", spellcheck: "false", maxlength: 2048 });
  const name = h("input", { name: "name", maxlength: 100 });
  const hint = h("small", { class: "hint", id: "channel-hint" });
  const secret = h("p", { class: "hint", id: "webhook-secret" });
  const submit = h("button", { type: "submit", id: "add-channel" }, L("添加", "Add"));
  const describe = () => {
    const [, , , placeholder, zh, en] = kindOf(kind.value);
    url.placeholder = placeholder;
    hint.textContent = L(zh, en);
  };
  kind.addEventListener("change", describe);
  describe();
  const load = async () => {
    const data = await api.get("/devices", { channel: "channels" });
    list.replaceChildren(...data.devices.map((d) => {
      const label = d.name || kindOf(d.channel)[1];
      const result = h("div", { class: "muted", role: "status" });
      const log = h("div", {});
      const test = h("button", { type: "button", class: "secondary", "aria-label": `${L("测试", "Test")} ${label}` }, L("测试", "Test"));
      test.addEventListener("click", () => busy(test, box, async () => {
        const r = await api.post(`/devices/${d.id}/test`);
        result.textContent = r.ok
          ? L(`测试消息已送达（${r.status_code}，${r.duration_ms} 毫秒）`, `Test message delivered (${r.status_code}, ${r.duration_ms} ms)`)
          : L(`没有送达：${r.error}`, `Not delivered: ${r.error}`);
        result.className = r.ok ? "muted" : "error";
      }));
      const history = h("button", { type: "button", class: "secondary", "aria-label": `${L("发送记录", "Log")} ${label}` }, L("记录", "Log"));
      history.addEventListener("click", () => busy(history, box, () => (log.childElementCount ? (log.replaceChildren(), Promise.resolve()) : deliveryLog(d.id, log))));
      const del = h("button", { type: "button", class: "danger", "aria-label": `${L("删除", "Delete")} ${label}` }, L("删除", "Delete"));
      del.addEventListener("click", () => busy(del, box, async () => { await api.del(`/devices/${d.id}`); await load(); }));
      const shown = d.url ?? L("（无法读取，请删除后重新添加）", "(unreadable: delete and add again)");
      return h("li", { class: "channel" }, h("div", { class: "grow" }, h("strong", {}, label), h("div", { class: "muted" }, `${kindOf(d.channel)[1]} · ${shown}`), result, log), test, history, del);
    }));
    if (!data.devices.length) list.replaceChildren(h("li", { class: "muted" }, L("还没有推送渠道。", "No channels yet.")));
  };
  const form = h("form", { class: "card", id: "channel-form", novalidate: true },
    h("div", { class: "row" }, field(L("渠道", "Channel"), kind), field(L("地址", "Address"), url), field(L("名称", "Name"), name)), hint, box, submit, secret);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const [value, , prefixes] = kindOf(kind.value);
    const text = url.value.trim();
    const lower = text.toLowerCase();
    const shape = prefixes.some((p) => lower.startsWith(p) && text.length > p.length) && !/\s/.test(text) && text.length <= 2048;
    const zhList = prefixes.join(" 或 ");
    const enList = prefixes.join(" or ");
    if (!check(url, shape, `请填写以 ${zhList} 开头的地址`, `Enter an address starting with ${enList}`)) return;
    busy(submit, box, async () => {
      const body = { channel: value, url: text };
      if (name.value.trim()) body.name = name.value.trim();
      const made = await api.post("/devices", body);
      secret.textContent = made.secret ? L(`签名密钥（只显示这一次）：${made.secret}`, `Signing secret (shown once): ${made.secret}`) : "";
      url.value = "";
      name.value = "";
      await load();
    });
  });
  root.append(h("h2", {}, L("推送渠道", "Channels")), list, form, browserPush(box, load));
  await load();
}

/** The phones signed up for push by the app: listed here to see and remove. */
async function phones(root) {
  const list = h("ul", { class: "list", id: "phones" });
  const box = errorBox();
  const load = async () => {
    const data = await api.get("/devices");
    list.replaceChildren(...data.devices.map((d) => {
      const del = h("button", { type: "button", class: "danger", "aria-label": `${L("删除", "Remove")} ${d.device_name || d.platform}` }, L("删除", "Remove"));
      del.addEventListener("click", () => busy(del, box, async () => { await api.del(`/devices/${d.id}`); await load(); }));
      const seen = d.last_used_at ? ` · ${L("最近使用", "last used")} ${formatTime(d.last_used_at)}` : "";
      return h("li", {}, h("div", { class: "grow" }, h("strong", {}, d.device_name || d.device_model || d.platform), h("div", { class: "muted" }, `${d.platform}${d.is_active ? "" : L(" · 已停用", " · inactive")}${seen}`)), del);
    }));
    if (!data.devices.length) list.replaceChildren(h("li", { class: "muted" }, L("还没有登记的手机。在 UniLife App 里开启通知即可。", "No phones yet. Turn on notifications in the UniLife app.")));
  };
  root.append(h("h2", {}, L("手机", "Phones")), box, list);
  await load();
}

async function settings(root) {
  const box = errorBox();
  const s = await api.get("/users/me/notification-settings");
  const wake = h("input", { name: "wake_time", type: "time", value: s.wake_time });
  const sleep = h("input", { name: "sleep_time", type: "time", value: s.sleep_time });
  const minutes = h("input", { name: "event_reminder_minutes", type: "number", min: 0, max: 120, value: s.event_reminder_minutes });
  const switches = [
    ["morning_briefing_enabled", "早间简报", "Morning briefing"],
    ["afternoon_checkin_enabled", "下午问候", "Afternoon check-in"],
    ["evening_switch_enabled", "傍晚切换", "Evening switch"],
    ["closing_ritual_enabled", "睡前回顾", "Closing ritual"],
    ["event_reminders_enabled", "日程提醒", "Event reminders"],
  ].map(([key, zh, en]) => [key, h("input", { type: "checkbox", name: key, checked: s[key] }), L(zh, en)]);
  const submit = h("button", { type: "submit" }, L("保存", "Save"));
  const form = h("form", { class: "card", novalidate: true },
    h("div", { class: "row" }, field(L("起床时间", "Wake time"), wake), field(L("睡觉时间", "Sleep time"), sleep), field(L("提前提醒（分钟）", "Remind before (min)"), minutes)),
    h("div", { class: "row" }, switches.map(([, input, text]) => h("label", {}, input, text))), box, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const ok = [
      check(wake, !!wake.value, "请填写起床时间", "Enter the wake time"),
      check(sleep, !!sleep.value, "请填写睡觉时间", "Enter the sleep time"),
      check(minutes, minutes.value !== "" && Number(minutes.value) >= 0 && Number(minutes.value) <= 120, "提前 0–120 分钟", "0–120 minutes before"),
    ].every(Boolean);
    if (!ok) return;
    busy(submit, box, async () => {
      const body = { wake_time: wake.value, sleep_time: sleep.value, event_reminder_minutes: Number(minutes.value) };
      for (const [key, input] of switches) body[key] = input.checked;
      await api.put("/users/me/notification-settings", body);
      toast(L("已保存", "Saved"));
    });
  });
  root.append(h("h2", {}, L("通知设置", "Notification settings")), form);
}

export async function inboxView(root) {
  const list = h("ul", { class: "list", id: "notifications" });
  const box = errorBox();
  const only = h("input", { type: "checkbox", name: "unread" });
  const load = async () => {
    showError(box, null);
    try {
      const items = await api.get("/notifications", { unread: only.checked || null, limit: 50 });
      list.replaceChildren(...items.map((n) => {
        const read = h("button", { type: "button", class: "secondary", hidden: n.read }, L("标为已读", "Mark read"));
        read.addEventListener("click", () => busy(read, box, async () => { await api.post(`/notifications/${n.id}/read`); await load(); refreshUnread(); document.getElementById("view-title").focus(); }));
        return h("li", { class: n.read ? "" : "status-expiring" }, h("div", { class: "grow" }, h("strong", {}, n.title), h("div", {}, n.body), h("div", { class: "muted" }, formatTime(n.created_at))), read);
      }));
      if (!items.length) list.replaceChildren(h("li", { class: "muted" }, L("没有通知。", "No notifications.")));
    } catch (err) {
      showError(box, err);
    }
  };
  only.addEventListener("change", load);
  root.append(h("h1", { id: "view-title" }, L("通知", "Inbox")), h("label", {}, only, L("只看未读", "Unread only")), box, list);
  await load();
  const rest = h("div", {});
  root.append(rest);
  const failed = (err) => {
    const b = errorBox();
    rest.append(b);
    showError(b, err);
  };
  await channels(rest).catch(failed);
  await phones(rest).catch(failed);
  await settings(rest).catch(failed);
}
