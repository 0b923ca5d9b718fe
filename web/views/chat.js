// The assistant: conversations, the reply streaming in as it is written, the actions it took
// (with undo), suggestions and questions as buttons, and the day's diary.
import { api, stream } from "../api.js";
import { L, busy, errorBox, errorText, field, h, showError, toast, todayIn, wallTime } from "../ui.js";

const ACTIONS = {
  create_event: ["已创建日程", "Created"],
  update_event: ["已修改日程", "Changed"],
  complete_event: ["已完成", "Completed"],
  delete_event: ["已删除日程", "Deleted"],
  stop_repeating: ["已停止重复", "Stopped repeating"],
};

function bubble(role, text) {
  return h("div", { class: `msg ${role}`, dataset: { role } }, text);
}

export async function chatView(root) {
  let conversationId = sessionStorage.getItem("unilife.conversation") || null;
  const list = h("ul", { class: "list", id: "conversations" });
  const messages = h("div", { class: "messages card", id: "messages", "aria-live": "polite" });
  const input = h("textarea", { name: "message", rows: 2, maxlength: 4000, required: true, placeholder: L("比如：明天下午三点去看牙医", "e.g. Dentist tomorrow at 3pm") });
  const send = h("button", { type: "submit", id: "send" }, L("发送", "Send"));
  const box = errorBox();
  const diary = h("div", { id: "diary" });

  const open = async (id) => {
    conversationId = id;
    if (id) sessionStorage.setItem("unilife.conversation", id);
    else sessionStorage.removeItem("unilife.conversation");
    messages.replaceChildren();
    if (!id) return;
    try {
      // The last 100 messages (the list is oldest first).
      const conv = await api.get(`/conversations/${id}`);
      const offset = Math.max(0, (conv.message_count || 0) - 100);
      const items = await api.get(`/conversations/${id}/messages`, { limit: 100, offset });
      messages.replaceChildren(...items.map((m) => bubble(m.role, m.content)));
      messages.scrollTop = messages.scrollHeight;
    } catch (err) {
      if (err.code === "conversation_not_found") return open(null);
      showError(box, err);
    }
  };

  const loadList = async () => {
    const convs = await api.get("/conversations", { limit: 30 });
    const fresh = h("button", { type: "button", class: "secondary" }, L("新对话", "New chat"));
    const failed = (err) => showError(box, err);
    fresh.addEventListener("click", () => open(null).then(loadList).catch(failed));
    list.replaceChildren(
      h("li", {}, fresh),
      ...convs.map((c) => {
        const b = h("button", { type: "button", class: c.id === conversationId ? "" : "secondary", "aria-current": c.id === conversationId ? "true" : false }, c.title);
        b.addEventListener("click", () => open(c.id).then(loadList).catch(failed));
        return h("li", {}, b);
      }),
    );
  };

  /** Marks every turn whose change is undone (a revert also undoes the later turns). */
  const markUndone = (ids) => {
    for (const id of ids) {
      const b = messages.querySelector(`button.undo[data-snapshot="${CSS.escape(id)}"]`);
      if (b) b.replaceWith(h("span", { class: "muted undone" }, L("已撤销", "Undone")));
    }
  };

  /** Puts a choice in the box: sent at once, or (`append`) added to what is there. */
  const choose = (value, append) => {
    if (send.disabled) return;
    if (append) {
      input.value = input.value.trim() ? `${input.value.trim()}、${value}` : value;
      input.focus();
      return;
    }
    input.value = value;
    form.requestSubmit();
  };

  /** What the turn did: its actions with an undo, suggestions and questions as buttons. */
  const afterTurn = (result, host) => {
    const actions = (result.actions || []).map((a) => {
      const [zh, en] = ACTIONS[a.type] || [a.type, a.type];
      const when = a.event && a.event.start_time ? ` · ${a.event.start_time.slice(0, 10)} ${wallTime(a.event.start_time)}` : "";
      const title = a.event ? `${a.event.title}${when}` : "";
      return h("li", { class: "action", dataset: { type: a.type } }, `${L(zh, en)}：${title}`);
    });
    if (actions.length) host.append(h("ul", { class: "actions" }, actions));
    // Undo only a turn that recorded its change; a revert takes the later turns with it.
    if (actions.length && result.snapshot_id) {
      const undo = h("button", { type: "button", class: "secondary undo", id: "undo", dataset: { snapshot: result.snapshot_id } }, L("撤销", "Undo"));
      undo.addEventListener("click", () =>
        busy(undo, null, async () => {
          const done = await api.post(`/snapshots/${result.snapshot_id}/revert`);
          const turns = (done.reverted_snapshots || []).length;
          markUndone(done.reverted_snapshots || [result.snapshot_id]);
          toast(turns > 1 ? L(`已撤销 ${turns} 次修改（包括之后的）`, `${turns} changes undone (later ones too)`) : L("已撤销这次修改", "Change undone"));
        }),
      );
      host.append(undo);
    }
    const choices = [];
    // A suggestion without a value is for the user to type: it goes in the box unsent.
    for (const s of result.suggestions || []) choices.push([s.label, s.value, s.value == null ? "type" : "send"]);
    for (const q of result.questions || []) {
      host.append(h("p", {}, q.text));
      if (q.type === "text_input") {
        const answer = h("button", { type: "button", class: "secondary", onclick: () => { input.placeholder = q.placeholder || q.text; input.focus(); } }, L("回答", "Answer"));
        host.append(answer);
      }
      for (const o of q.options || []) choices.push([o.label, o.value || o.label, q.type === "multiple_choice" ? "add" : "send"]);
    }
    if (choices.length) {
      host.append(h("div", { class: "choices" }, choices.map(([label, value, how]) => h("button", {
        type: "button",
        class: "secondary",
        onclick: () => {
          if (how === "type") {
            input.placeholder = label;
            input.focus();
          } else choose(value, how === "add");
        },
      }, label))));
    }
  };

  const form = h("form", { class: "row", novalidate: true }, field(L("消息", "Message"), input), send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // One turn at a time: Enter or a choice while a reply streams does not send again.
    if (send.disabled) return;
    const text = input.value.trim();
    if (!text) {
      showError(box, { code: "validation_error", serverMessage: L("消息不能为空", "The message is empty") });
      return;
    }
    busy(send, box, async () => {
      const mine = bubble("user", text);
      const reply = h("div", { class: "msg assistant streaming", dataset: { role: "assistant" } });
      const host = h("div", { class: "turn" });
      messages.append(mine, reply, host);
      messages.setAttribute("aria-busy", "true");
      let streamed = "";
      try {
        await stream("/chat", { message: text, conversation_id: conversationId, stream: true }, (name, data) => {
          if (name === "delta") {
            streamed += data.text;
            reply.textContent = streamed;
            messages.scrollTop = messages.scrollHeight;
          } else if (name === "done") {
            reply.textContent = data.reply;
            reply.classList.remove("streaming");
            reply.dataset.done = "true";
            conversationId = data.conversation_id;
            sessionStorage.setItem("unilife.conversation", conversationId);
            afterTurn(data, host);
          } else if (name === "error") {
            const err = { code: data.code, serverMessage: data.message };
            reply.remove();
            throw err;
          }
        });
      } catch (err) {
        // The message stays in the box to send again.
        mine.remove();
        reply.remove();
        host.remove();
        throw err;
      } finally {
        messages.removeAttribute("aria-busy");
      }
      // What was typed while the reply streamed stays.
      if (input.value.trim() === text) input.value = "";
      input.placeholder = L("比如：明天下午三点去看牙医", "e.g. Dentist tomorrow at 3pm");
      loadList().catch(() => {});
    });
  });
  input.addEventListener("keydown", (e) => {
    // Not the Enter that confirms a pinyin candidate (Safari reports it as keyCode 229).
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  // The diary of a chosen day (yesterday by default, in the account's zone); one not yet
  // written can be written now from that day's chats.
  const day = h("input", { type: "date", name: "diary_date", value: todayIn(-1), max: todayIn() });
  const diaryButton = h("button", { type: "button", class: "secondary", id: "diary-button" }, L("看日记", "Read the diary"));
  const showDiary = (entry) =>
    diary.replaceChildren(h("h2", {}, `${L("日记", "Diary")} ${entry.diary_date}`), h("p", {}, entry.summary), h("ul", {}, (entry.key_insights || []).map((k) => h("li", {}, k))));
  diaryButton.addEventListener("click", () =>
    busy(diaryButton, null, async () => {
      if (!day.value) return;
      try {
        showDiary(await api.get(`/diaries/${day.value}`));
      } catch (err) {
        if (err.code !== "diary_not_found" || day.value > todayIn()) {
          diary.replaceChildren(h("p", { class: "muted" }, errorText(err)));
          return;
        }
        const write = h("button", { type: "button", id: "write-diary" }, L("根据这天的聊天写日记", "Write it from that day's chats"));
        write.addEventListener("click", () =>
          busy(write, null, async () => {
            try {
              showDiary(await api.post("/diaries/generate", { target_date: day.value }));
            } catch (inner) {
              diary.replaceChildren(h("p", { class: "muted" }, errorText(inner)));
            }
          }),
        );
        diary.replaceChildren(h("p", { class: "muted" }, errorText(err)), write);
      }
    }),
  );

  root.append(
    h("h1", { id: "view-title" }, L("助手", "Assistant")),
    h("div", { class: "chat" }, h("div", { class: "talk" }, messages, box, form, diary), h("aside", { "aria-label": L("对话列表", "Conversations") }, list, h("div", { class: "card" }, field(L("日记日期", "Diary date"), day), diaryButton))),
  );
  await Promise.all([open(conversationId), loadList()]);
}
