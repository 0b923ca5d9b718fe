// Notifications: the inbox with its unread count, webhook channels, and notification settings.
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

async function channels(root) {
  const list = h("ul", { class: "list", id: "channels" });
  const box = errorBox();
  const url = h("input", { name: "url", type: "url", maxlength: 2048, placeholder: "https://…" });
  const name = h("input", { name: "name", maxlength: 100 });
  const secret = h("p", { class: "hint", id: "webhook-secret" });
  const submit = h("button", { type: "submit", id: "add-channel" }, L("添加", "Add"));
  const load = async () => {
    const data = await api.get("/devices", { channel: "webhook" });
    list.replaceChildren(...data.devices.map((d) => {
      const del = h("button", { type: "button", class: "danger" }, L("删除", "Delete"));
      del.addEventListener("click", () => busy(del, box, async () => { await api.del(`/devices/${d.id}`); await load(); }));
      return h("li", {}, h("div", { class: "grow" }, h("strong", {}, d.name || "webhook"), h("div", { class: "muted" }, d.url)), del);
    }));
    if (!data.devices.length) list.replaceChildren(h("li", { class: "muted" }, L("还没有推送渠道。", "No channels yet.")));
  };
  const form = h("form", { class: "card", id: "channel-form", novalidate: true }, h("div", { class: "row" }, field(L("Webhook 地址", "Webhook URL"), url), field(L("名称", "Name"), name)), box, submit, secret);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!check(url, /^https?:\/\/[^\s]+$/i.test(url.value.trim()) && url.value.trim().length <= 2048, "请填写以 http:// 或 https:// 开头的地址", "Enter an address starting with http:// or https://")) return;
    busy(submit, box, async () => {
      const body = { channel: "webhook", url: url.value.trim() };
      if (name.value.trim()) body.name = name.value.trim();
      const made = await api.post("/devices", body);
      secret.textContent = L(`签名密钥（只显示这一次）：${made.secret}`, `Signing secret (shown once): ${made.secret}`);
      url.value = "";
      name.value = "";
      await load();
    });
  });
  root.append(h("h2", {}, L("推送渠道", "Channels")), list, form);
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
