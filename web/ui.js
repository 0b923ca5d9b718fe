// Small DOM and language helpers shared by the views. No framework: elements are built with
// `h` and replaced whole when a view renders again.
import { ERRORS } from "./errors.js";

const LANG_KEY = "unilife.lang";

export function lang() {
  return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh-CN";
}

export function setLang(value) {
  localStorage.setItem(LANG_KEY, value === "en" ? "en" : "zh-CN");
  document.documentElement.lang = lang();
}

/** The text in the user's language: Chinese by default, English when chosen. */
export function L(zh, en) {
  return lang() === "en" ? en : zh;
}

/** `h("button", {class: "x", onclick}, "text", child)`: an element with attributes and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : value);
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** The message for an API error in the user's language, with the server's detail when it adds something. */
export function errorText(err) {
  const code = err && err.code ? err.code : "error";
  const pair = ERRORS[code] || ERRORS.error;
  const text = lang() === "en" ? pair[1] : pair[0];
  // The server's own words add the detail (which field, which limit) where they are in the
  // user's language: English ones in English; bilingual ones (Chinese first) in either.
  const detail = err && err.serverMessage;
  const readable = detail && (lang() === "en" || /[\u4e00-\u9fff]/.test(detail));
  if (readable && !/internal|upstream/.test(code) && detail !== pair[0] && detail !== pair[1]) {
    return lang() === "en" ? `${text} (${detail})` : `${text}（${detail}）`;
  }
  return text;
}

/** A labelled form field; `input` is the control (its id is set from `name`). */
export function field(label, input, hint) {
  const id = input.id || `f-${input.name || Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("small", { class: "hint" }, hint) : null);
}

/**
 * Checks one input before anything is sent: when `ok` is false the message (in the user's
 * language) shows under that input and the input is marked invalid; the value stays.
 */
export function check(input, ok, zh, en) {
  const holder = input.closest(".field") || input.parentElement;
  let note = holder.querySelector(":scope > .field-error");
  if (ok) {
    input.removeAttribute("aria-invalid");
    if (note) note.remove();
    return true;
  }
  if (!note) {
    note = h("small", { class: "field-error", id: `${input.id || input.name}-error`, role: "alert" });
    holder.append(note);
  }
  note.textContent = L(zh, en);
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", note.id);
  return false;
}

/** Runs every check (all of them, so each field shows its own message); true if all passed. */
export function checks(...results) {
  return results.every(Boolean);
}

/** Shows an error under a form (role=alert, so screen readers say it) without touching its inputs. */
export function showError(box, err) {
  box.replaceChildren(err ? errorText(err) : "");
  box.hidden = !err;
  if (err) box.scrollIntoView({ block: "nearest" });
}

export function errorBox() {
  return h("p", { class: "error", role: "alert", hidden: true });
}

let toastTimer;
export function toast(text) {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 3500);
}

/** Runs `work` with the button disabled and a busy mark, showing any error in `box`. */
export async function busy(button, box, work) {
  if (box) showError(box, null);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } catch (err) {
    if (box) showError(box, err);
    else toast(errorText(err));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** Today as YYYY-MM-DD in the browser's zone; `offset` days later. */
export function isoDate(date = new Date(), offset = 0) {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate() + offset);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(lang(), { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
