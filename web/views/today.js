// Today: doses due with taken / skipped / snooze and the stock left; plans made and edited;
// adherence over a chosen range.
import { api } from "../api.js";
import { L, addDays, busy, check, checks, errorBox, field, h, showError, toast, todayIn } from "../ui.js";

const STATUS = {
  due: ["待服", "due"],
  taken: ["已服", "taken"],
  skipped: ["已跳过", "skipped"],
  snoozed: ["稍后提醒", "snoozed"],
  missed: ["错过", "missed"],
};
const WEEKDAYS = [
  [1, "一", "Mon"], [2, "二", "Tue"], [3, "三", "Wed"], [4, "四", "Thu"], [5, "五", "Fri"], [6, "六", "Sat"], [7, "日", "Sun"],
];

function stockText(plan) {
  if (!plan || plan.stock == null) return "";
  const text = L(`剩余 ${plan.stock}${plan.dose.unit}`, `${plan.stock} ${plan.dose.unit} left`);
  return plan.low_stock ? `${text} · ${L("库存不足", "running low")}` : text;
}

function doseItem(dose, plan, reload) {
  const actions = h("div", { class: "row" });
  const act = (what, label, body) => {
    const b = h("button", { type: "button", class: what === "taken" ? "" : "secondary", dataset: { action: what } }, label);
    b.addEventListener("click", () =>
      busy(b, null, async () => {
        await api.post(`/doses/${encodeURIComponent(dose.id)}/${what}`, body);
        toast(L("已记录", "Recorded"));
        await reload();
        // Keep the keyboard where it was: on the same action of the same dose.
        const again = document.querySelector(`[data-dose="${CSS.escape(dose.id)}"] [data-action="${what}"]`);
        if (again) again.focus();
      }),
    );
    return b;
  };
  actions.append(
    act("taken", L("已服用", "Taken")),
    act("skipped", L("跳过", "Skip")),
    act("snooze", L("10 分钟后提醒", "Snooze 10 min"), { minutes: 10 }),
  );
  const [zh, en] = STATUS[dose.status] || [dose.status, dose.status];
  return h(
    "li",
    { class: dose.status === "taken" ? "status-ok" : dose.status === "missed" ? "status-expired" : "status-unknown", dataset: { dose: dose.id } },
    h(
      "div",
      { class: "grow" },
      h("strong", {}, `${dose.local_time} ${dose.drug_name}`),
      " ",
      h("span", { class: "pill", dataset: { status: dose.status } }, L(zh, en)),
      h("div", { class: "muted" }, `${dose.amount}${dose.unit}`, plan ? h("span", { class: "stock", dataset: { plan: plan.id } }, ` · ${stockText(plan)}`) : null),
      actions,
    ),
  );
}

/** The plan form: times, weekdays or every N days, start/end, stock, taper phases. */
function planForm(drugs, plan, onSaved) {
  const box = errorBox();
  const drug = h("select", { name: "drug_id", required: true }, drugs.map((d) => h("option", { value: d.id, selected: plan && plan.drug_id === d.id }, d.name)));
  const amount = h("input", { name: "amount", type: "number", step: "any", min: 0, value: plan ? plan.dose.amount : 1 });
  const unit = h("input", { name: "unit", value: plan ? plan.dose.unit : L("片", "tablet"), maxlength: 20 });
  const times = h("input", { name: "times", value: plan ? plan.schedule.times.join(", ") : "08:00", placeholder: "08:00, 20:00" });
  const kind = h(
    "select",
    { name: "repeat" },
    h("option", { value: "daily" }, L("每天", "Every day")),
    h("option", { value: "weekdays", selected: !!(plan && plan.schedule.days_of_week) }, L("每周几天", "Some weekdays")),
    h("option", { value: "every", selected: !!(plan && plan.schedule.every_n_days > 1) }, L("每隔几天", "Every N days")),
  );
  const days = h("fieldset", { class: "row" }, h("legend", {}, L("星期", "Weekdays")),
    WEEKDAYS.map(([n, zh, en]) => h("label", {}, h("input", { type: "checkbox", name: "dow", value: n, checked: !!(plan && (plan.schedule.days_of_week || []).includes(n)) }), L(`周${zh}`, en))));
  const every = h("input", { name: "every_n_days", type: "number", min: 1, max: 365, value: plan && plan.schedule.every_n_days ? plan.schedule.every_n_days : 2 });
  const everyField = field(L("间隔天数", "Every how many days"), every);
  const start = h("input", { name: "start_date", type: "date", value: plan ? plan.schedule.start_date : todayIn() });
  const end = h("input", { name: "end_date", type: "date", value: plan && plan.schedule.end_date ? plan.schedule.end_date : "" });
  const stock = h("input", { name: "stock", type: "number", step: "any", min: 0, value: plan && plan.stock != null ? plan.stock : "" });
  const low = h("input", { name: "low_stock_threshold", type: "number", step: "any", min: 0, value: plan && plan.low_stock_threshold != null ? plan.low_stock_threshold : "" });
  const phases = h("input", { name: "phases", value: plan && plan.phases ? plan.phases.map((p) => `${p.days}:${p.amount}`).join(", ") : "", placeholder: "3:2, 3:1" });
  const paint = () => {
    days.hidden = kind.value !== "weekdays";
    everyField.hidden = kind.value !== "every";
  };
  kind.addEventListener("change", paint);
  paint();
  const submit = h("button", { type: "submit" }, plan ? L("保存计划", "Save plan") : L("创建计划", "Create plan"));
  const form = h(
    "form",
    { class: "card plan-form", novalidate: true },
    h("div", { class: "grid" },
      field(L("药品", "Medicine"), drug),
      field(L("每次用量", "Amount per dose"), amount),
      field(L("单位", "Unit"), unit),
      field(L("服药时间（逗号分隔）", "Times (comma separated)"), times),
      field(L("重复", "Repeat"), kind),
      everyField,
      field(L("开始日期", "Start date"), start),
      field(L("结束日期（可选）", "End date (optional)"), end),
      field(L("库存（可选）", "Stock (optional)"), stock),
      field(L("库存提醒阈值", "Low-stock threshold"), low),
      field(L("减量阶段：天数:用量（可选）", "Taper phases days:amount (optional)"), phases)),
    days,
    box,
    submit,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const timeList = times.value.split(/[,，\s]+/).filter(Boolean);
    const phaseList = phases.value.split(/[,，\s]+/).filter(Boolean);
    const valid = checks(
      check(amount, !amount.validity.badInput && Number(amount.value) > 0 && Number(amount.value) <= 10000, "每次用量应大于 0", "The amount must be more than 0"),
      kind.value !== "every" || check(every, Number.isInteger(Number(every.value)) && Number(every.value) >= 1 && Number(every.value) <= 365, "间隔为 1–365 天", "Every 1–365 days"),
      check(stock, !stock.validity.badInput && (stock.value === "" || (Number(stock.value) >= 0 && Number(stock.value) <= 1000000)), "库存应为 0 到 1000000 的数字", "The stock is a number from 0 to 1,000,000"),
      check(low, !low.validity.badInput && (low.value === "" || Number(low.value) >= 0), "阈值应为不小于 0 的数字", "The threshold is a number of 0 or more"),
      check(unit, unit.value.trim().length > 0, "请填写单位", "Enter the unit"),
      check(times, timeList.length > 0 && timeList.length <= 12 && timeList.every((t) => /^([01]?\d|2[0-3]):[0-5]\d$/.test(t)), "时间格式为 08:00，多个用逗号分隔", "Times look like 08:00, separated by commas"),
      check(start, !!start.value, "请选择开始日期", "Choose the start date"),
      check(end, !end.value || end.value >= start.value, "结束日期不能早于开始日期", "The end date cannot be before the start"),
      kind.value !== "weekdays" || check(days, days.querySelectorAll("input:checked").length > 0, "至少选一天", "Choose at least one day"),
      check(phases, phaseList.length <= 20 && phaseList.every((p) => /^\d+:\d+(\.\d+)?$/.test(p) && Number(p.split(":")[0]) >= 1 && Number(p.split(":")[1]) > 0), "减量阶段写成 天数:用量，如 3:2（天数至少 1）", "Phases look like days:amount, e.g. 3:2 (at least 1 day)"),
    );
    if (!valid) return;
    busy(submit, box, async () => {
      const schedule = {
        times: timeList,
        start_date: start.value,
      };
      if (end.value) schedule.end_date = end.value;
      if (kind.value === "weekdays") schedule.days_of_week = [...days.querySelectorAll("input:checked")].map((c) => Number(c.value));
      if (kind.value === "every") schedule.every_n_days = Number(every.value);
      const body = { drug_id: drug.value, dose: { amount: Number(amount.value), unit: unit.value.trim() }, schedule };
      if (stock.value !== "") body.stock = Number(stock.value);
      // The stock as it is now when the field was left alone: doses taken since the form
      // opened lowered it on the server.
      if (plan && stock.value !== "" && Number(stock.value) === plan.stock) {
        const fresh = await api.get(`/medications/${plan.id}`);
        body.stock = fresh.stock;
      }
      if (low.value !== "") body.low_stock_threshold = Number(low.value);
      if (phases.value.trim()) {
        body.phases = phases.value.split(/[,，\s]+/).filter(Boolean).map((p) => {
          const [d, a] = p.split(":");
          return { days: Number(d), amount: Number(a) };
        });
      }
      if (plan) await api.put(`/medications/${plan.id}`, body);
      else await api.post("/medications", body);
      toast(L("计划已保存", "Plan saved"));
      onSaved();
    });
  });
  return form;
}

/** Every drug in the cabinet (pages of 200), so any plan's drug is in the form's list. */
async function allDrugs() {
  const out = [];
  let cursor = null;
  do {
    const page = await api.get("/drugs", { limit: 200, sort: "name", cursor });
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

async function adherence(root) {
  const range = h("select", { name: "range", id: "adherence-range" }, [7, 30, 90].map((n) => h("option", { value: n }, L(`最近 ${n} 天`, `Last ${n} days`))));
  const chart = h("div", { id: "adherence" });
  const box = errorBox();
  const load = async () => {
    showError(box, null);
    try {
      const n = Number(range.value);
      const today = todayIn();
      const data = await api.get("/medications/adherence", { from: addDays(today, 1 - n), to: today });
      const row = (label, counts) => {
        const pct = counts.adherence == null ? null : Math.round(counts.adherence * 100);
        const bar = h("div", { class: "bar" });
        bar.style.width = `${pct || 0}%`;
        return h("div", { class: "row" }, h("span", { class: "grow" }, label), h("div", { class: "bar-track", role: "img", "aria-label": `${label} ${pct ?? "-"}%` }, bar),
          h("span", {}, pct == null ? "—" : `${pct}%`), h("span", { class: "muted" }, L(`服 ${counts.taken} / 跳 ${counts.skipped} / 漏 ${counts.missed}`, `taken ${counts.taken} / skipped ${counts.skipped} / missed ${counts.missed}`)));
      };
      chart.replaceChildren(row(L("全部", "All"), data.total), ...data.plans.map((p) => row(p.drug_name, p.counts)));
    } catch (err) {
      showError(box, err);
    }
  };
  range.addEventListener("change", load);
  root.append(h("h2", {}, L("服药依从性", "Adherence")), field(L("范围", "Range"), range), box, chart);
  await load();
  return load;
}

export async function todayView(root) {
  const title = h("h1", { id: "view-title" }, L(`今天 ${todayIn()}`, `Today ${todayIn()}`));
  const doses = h("ul", { class: "list", id: "doses" });
  const plans = h("ul", { class: "list", id: "plans" });
  const editor = h("div", {});
  const box = errorBox();
  const saved = () => {
    editor.replaceChildren();
    return reload();
  };
  let refreshChart = async () => {};
  const reload = async () => {
    showError(box, null);
    refreshChart();
    try {
      const [todays, planList, drugs] = await Promise.all([api.get("/doses"), api.get("/medications"), allDrugs()]);
      const drugPage = { items: drugs };
      const byId = new Map(planList.map((p) => [p.id, p]));
      doses.replaceChildren(...todays.map((d) => doseItem(d, byId.get(d.plan_id), reload)));
      if (!todays.length) doses.replaceChildren(h("li", { class: "muted" }, L("今天没有要服的药。", "No doses today.")));
      const names = new Map(drugPage.items.map((d) => [d.id, d.name]));
      plans.replaceChildren(
        ...planList.map((p) => {
          const edit = h("button", { type: "button", class: "secondary" }, L("编辑", "Edit"));
          const del = h("button", { type: "button", class: "danger" }, L("删除", "Delete"));
          edit.addEventListener("click", () => editor.replaceChildren(planForm(drugPage.items, p, saved)));
          del.addEventListener("click", () => {
            if (confirm(L("删除这个用药计划？", "Delete this plan?"))) busy(del, null, async () => { await api.del(`/medications/${p.id}`); reload(); });
          });
          const when = p.schedule.days_of_week ? p.schedule.days_of_week.map((n) => L(`周${WEEKDAYS[n - 1][1]}`, WEEKDAYS[n - 1][2])).join(" ")
            : p.schedule.every_n_days > 1 ? L(`每 ${p.schedule.every_n_days} 天`, `every ${p.schedule.every_n_days} days`) : L("每天", "daily");
          return h("li", { dataset: { plan: p.id } }, h("div", { class: "grow" }, h("strong", {}, names.get(p.drug_id) || p.drug_id),
            h("div", { class: "muted" }, `${p.dose.amount}${p.dose.unit} · ${p.schedule.times.join(" ")} · ${when}`, p.stock != null ? ` · ${stockText(p)}` : "")), edit, del);
        }),
      );
      if (!planList.length) plans.replaceChildren(h("li", { class: "muted" }, drugPage.items.length ? L("还没有用药计划。", "No plans yet.") : L("先在药箱里添加药品，再制定计划。", "Add a medicine to the cabinet first.")));
      const add = h("button", { type: "button", id: "new-plan", disabled: !drugPage.items.length }, L("新建用药计划", "New plan"));
      add.addEventListener("click", () => editor.replaceChildren(planForm(drugPage.items, null, saved)));
      if (!editor.childElementCount || editor.firstChild.tagName === "BUTTON") editor.replaceChildren(add);
    } catch (err) {
      showError(box, err);
    }
  };
  root.append(title, box, doses, h("h2", {}, L("用药计划", "Plans")), plans, editor);
  await reload();
  const charts = h("div", { class: "card" });
  root.append(charts);
  // Marking a dose changes the figures: the chart follows.
  refreshChart = await adherence(charts);
}
