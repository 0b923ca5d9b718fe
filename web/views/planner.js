// The planner: a week of events and occurrences of routines; create, edit, complete.
import { api } from "../api.js";
import { L, addDays, addMinutes, busy, check, checks, errorBox, field, h, showError, toast, todayIn } from "../ui.js";

/** The Monday of this week (in the account's zone), `offset` weeks on, as YYYY-MM-DD. */
function weekStart(offset) {
  const today = todayIn();
  const weekday = (new Date(`${today}T12:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(today, offset * 7 - weekday);
}

function localPart(iso, from, to) {
  return iso ? iso.slice(from, to) : "";
}

function eventForm(event, onSaved, onCancel) {
  const box = errorBox();
  const title = h("input", { name: "title", required: true, maxlength: 200, value: event ? event.title : "" });
  const date = h("input", { name: "date", type: "date", value: event ? localPart(event.start_time || event.event_date, 0, 10) : todayIn() });
  const time = h("input", { name: "time", type: "time", value: event ? localPart(event.start_time, 11, 16) : "09:00" });
  // An event may carry its end without a duration (the assistant's do): the length is the gap.
  const minutes = !event ? 60
    : event.duration != null ? event.duration
    : event.start_time && event.end_time ? Math.round((Date.parse(event.end_time) - Date.parse(event.start_time)) / 60000)
    : "";
  const duration = h("input", { name: "duration", type: "number", min: 1, max: 44640, value: minutes });
  const before = { date: date.value, time: time.value, duration: duration.value };
  const location = h("input", { name: "location", maxlength: 200, value: event && event.location ? event.location : "" });
  // A new event may repeat (a routine: its days appear in every week it covers).
  const repeat = event ? null : h("select", { name: "repeat" },
    h("option", { value: "" }, L("不重复", "Does not repeat")),
    h("option", { value: "daily" }, L("每天", "Every day")),
    h("option", { value: "weekly" }, L("每周这一天", "Weekly on this day")));
  const submit = h("button", { type: "submit" }, L("保存", "Save"));
  const form = h("form", { class: "card event-form", novalidate: true },
    h("div", { class: "grid" }, field(L("标题", "Title"), title), field(L("日期", "Date"), date), field(L("开始时间", "Start"), time),
      field(L("时长（分钟）", "Duration (min)"), duration), field(L("地点", "Location"), location), repeat ? field(L("重复", "Repeat"), repeat) : null),
    box, h("div", { class: "row" }, submit, onCancel ? h("button", { type: "button", class: "secondary", onclick: onCancel }, L("取消", "Cancel")) : null));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const valid = checks(
      check(title, title.value.trim().length > 0, "请填写标题", "Enter a title"),
      check(date, !!date.value, "请选择日期", "Choose a date"),
      check(duration, !duration.validity.badInput && (duration.value === "" || (Number(duration.value) >= 1 && Number(duration.value) <= 44640)), "时长为 1–44640 分钟", "The duration is 1–44640 minutes"),
    );
    if (!valid) return;
    busy(submit, box, async () => {
      const body = { title: title.value.trim(), location: location.value.trim() || null };
      // Times only when they are new or changed: an edit of the title keeps the event's times.
      const timing = !event || date.value !== before.date || time.value !== before.time || duration.value !== before.duration;
      if (timing) {
        body.event_date = date.value;
        if (time.value) {
          // Wall times in the account's zone (the server reads a time without an offset so).
          body.start_time = `${date.value}T${time.value}:00`;
          if (duration.value) body.end_time = addMinutes(date.value, time.value, Number(duration.value));
        }
        if (duration.value !== "") body.duration = Number(duration.value);
      }
      if (repeat && repeat.value) {
        // A routine: its first day, its length, and the pattern (weekdays 0 = Sunday).
        const routine = { title: body.title, location: body.location, event_date: date.value, repeat_pattern: { type: repeat.value } };
        if (duration.value !== "") routine.duration = Number(duration.value);
        if (time.value) routine.repeat_pattern.time = time.value;
        if (repeat.value === "weekly") routine.repeat_pattern.weekdays = [new Date(`${date.value}T12:00:00Z`).getUTCDay()];
        await api.post("/events", routine);
      } else if (event) await api.put(`/events/${encodeURIComponent(event.id)}`, body);
      else await api.post("/events", body);
      toast(L("日程已保存", "Event saved"));
      onSaved();
    });
  });
  return form;
}

export async function plannerView(root) {
  let offset = 0;
  const week = h("div", { class: "week", id: "week" });
  const label = h("h2", { id: "week-label" });
  const editor = h("div", {});
  const box = errorBox();
  const load = async () => {
    showError(box, null);
    const start = weekStart(offset);
    const days = [...Array(7)].map((_, i) => addDays(start, i));
    label.textContent = `${days[0]} – ${days[6]}`;
    try {
      const data = await api.get("/events", { start_date: days[0], end_date: days[6] });
      const byDay = new Map(days.map((d) => [d, []]));
      for (const ev of data.instances) {
        const day = localPart(ev.start_time || ev.event_date, 0, 10);
        if (byDay.has(day)) byDay.get(day).push(ev);
      }
      const today = todayIn();
      week.replaceChildren(
        ...days.map((d) => {
          const name = new Date(`${d}T12:00:00`).toLocaleDateString(L("zh-CN", "en"), { weekday: "short", month: "numeric", day: "numeric" });
          return h("div", { class: `day${d === today ? " today" : ""}`, dataset: { day: d } }, h("h3", {}, name),
            byDay.get(d).map((ev) => {
              const done = ev.status === "COMPLETED";
              const complete = h("button", { type: "button", class: "secondary", "aria-label": `${done ? L("取消完成", "Mark not done") : L("完成", "Complete")} ${ev.title}` }, done ? "↺" : "✓");
              complete.addEventListener("click", () => busy(complete, box, async () => {
                await api.post(`/events/${encodeURIComponent(ev.id)}/${done ? "uncomplete" : "complete"}`);
                load();
              }));
              const edit = h("button", { type: "button", class: "secondary", "aria-label": `${L("编辑", "Edit")} ${ev.title}` }, "✎");
              edit.addEventListener("click", () => editor.replaceChildren(eventForm(ev, () => { editor.replaceChildren(); load(); }, () => editor.replaceChildren())));
              return h("div", { class: `event${done ? " done" : ""}`, dataset: { id: ev.id } },
                h("div", {}, `${localPart(ev.start_time, 11, 16)} ${ev.title}${ev.is_virtual || ev.template_id ? " ⟳" : ""}`), h("div", { class: "row" }, complete, edit));
            }));
        }),
      );
    } catch (err) {
      showError(box, err);
    }
  };
  const prev = h("button", { type: "button", class: "secondary", onclick: () => { offset -= 1; load(); } }, L("上一周", "Previous week"));
  const next = h("button", { type: "button", class: "secondary", id: "next-week", onclick: () => { offset += 1; load(); } }, L("下一周", "Next week"));
  const add = h("button", { type: "button", id: "new-event" }, L("新建日程", "New event"));
  add.addEventListener("click", () => editor.replaceChildren(eventForm(null, () => { editor.replaceChildren(); load(); }, () => editor.replaceChildren())));
  root.append(h("h1", { id: "view-title" }, L("日程", "Planner")), h("div", { class: "row" }, prev, next, add), editor, label, box, week);
  await load();
}
