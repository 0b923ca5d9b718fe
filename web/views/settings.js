// Settings: time zone, language, expiry warning days; sign out.
import { api } from "../api.js";
import { loadAccount, signOut, render } from "../app.js";
import { L, busy, errorBox, field, h, lang, setLang, toast } from "../ui.js";

export async function settingsView(root) {
  const me = await api.get("/users/me");
  const box = errorBox();
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [me.timezone];
  if (!zones.includes(me.timezone)) zones.unshift(me.timezone);
  const timezone = h("select", { name: "timezone" }, zones.map((z) => h("option", { value: z, selected: z === me.timezone }, z)));
  const language = h("select", { name: "language" }, h("option", { value: "zh-CN", selected: lang() === "zh-CN" }, "中文"), h("option", { value: "en", selected: lang() === "en" }, "English"));
  const warn = h("input", { name: "expiry_warning_days", type: "number", min: 0, max: 3650, value: me.preferences.expiry_warning_days ?? 30 });
  const submit = h("button", { type: "submit" }, L("保存", "Save"));
  const form = h("form", { class: "card", id: "settings-form", novalidate: true },
    field(L("时区", "Time zone"), timezone),
    field(L("语言", "Language"), language),
    field(L("提前几天提醒过期", "Warn this many days before expiry"), warn, L("0–3650 天", "0–3650 days")),
    box, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, box, async () => {
      const days = Number(warn.value);
      if (!Number.isInteger(days) || days < 0 || days > 3650) {
        throw { code: "validation_error", serverMessage: L("提醒天数应为 0 到 3650 的整数", "Warning days must be a whole number from 0 to 3650") };
      }
      await api.put("/users/me", { timezone: timezone.value, preferences: { expiry_warning_days: days, language: language.value } });
      setLang(language.value);
      await loadAccount(true).catch(() => null);
      toast(L("已保存", "Saved"));
      render();
    });
  });
  const out = h("button", { type: "button", class: "danger", id: "sign-out" }, L("退出登录", "Sign out"));
  out.addEventListener("click", signOut);
  root.append(h("h1", { id: "view-title" }, L("设置", "Settings")), h("p", { class: "muted" }, `${L("账号", "Account")}: ${me.user_id}`), form, out);
}
