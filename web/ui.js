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
    if (key.startsWith("on")) {
      // Handlers are functions only: a string would be inline script.
      if (typeof value !== "function") throw new TypeError(`${key} must be a function`);
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

const GENERIC = new Set(["validation_error", "bad_request", "invalid_json", "invalid_query", "bad_multipart"]);

/** The message for an API error in the user's language, with the server's detail when it adds something. */
export function errorText(err) {
  const code = err && err.code ? err.code : "error";
  const pair = ERRORS[code] || ERRORS.error;
  const text = lang() === "en" ? pair[1] : pair[0];
  // The server's own words add the detail (which field, which limit) where they are in the
  // user's language: English ones in English; bilingual ones (Chinese first) in either.
  // The server's own words add the detail (which field, which limit). English ones follow the
  // Chinese text as a detail until the services speak Chinese too; bilingual ones (Chinese
  // first) read well in either.
  const detail = err && err.serverMessage;
  if (!detail || /internal|upstream/.test(code) || detail === pair[0] || detail === pair[1]) return text;
  if (lang() === "en") return `${text} (${detail})`;
  if (/[\u4e00-\u9fff]/.test(detail)) return `${text}（${detail}）`;
  // Only where the code alone does not say what was wrong.
  return GENERIC.has(code) ? `${text}（详情：${detail}）` : text;
}

/** A labelled form field; `input` is the control (its id is set from `name`). */
let fieldSeq = 0;
export function field(label, input, hint) {
  // Unique even when two forms are open at once, so each label names its own control.
  const id = input.id || `f-${input.name || "x"}-${++fieldSeq}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("small", { class: "hint" }, hint) : null);
}

/**
 * Checks one input before anything is sent: when `ok` is false the message (in the user's
 * language) shows under that input and the input is marked invalid; the value stays.
 */
export function check(input, ok, zh, en) {
  const holder = input.tagName === "FIELDSET" ? input : input.closest(".field") || input.parentElement;
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

/**
 * A validation error the server names a field in ("schedule.times must …", "password must …"):
 * the message also goes next to that field of the form, when the form has it.
 */
function markField(box, err) {
  const form = box && box.closest("form");
  const named = err && err.code === "validation_error" && /^([a-z_]+(?:\.[a-z_]+)*)\b/.exec(err.serverMessage || "");
  if (!form || !named) return;
  for (const part of named[1].split(".").reverse()) {
    const input = form.querySelector(`[name="${part}"]`);
    if (input) {
      check(input, false, errorText(err), errorText(err));
      return;
    }
  }
}

/** Runs `work` with the button disabled and a busy mark, showing any error in `box`. */
export async function busy(button, box, work) {
  if (box) showError(box, null);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } catch (err) {
    if (box) {
      showError(box, err);
      markField(box, err);
    } else toast(errorText(err));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** The account's time zone (set after sign-in; the browser's until then). */
let zone = null;
export function setZone(value) {
  zone = value || null;
}

/** Today in the account's zone as YYYY-MM-DD; `offset` days later. */
export function todayIn(offset = 0) {
  let y, m, d;
  try {
    [y, m, d] = new Intl.DateTimeFormat("en-CA", { timeZone: zone || undefined, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date())
      .split("-")
      .map(Number);
  } catch {
    const now = new Date();
    [y, m, d] = [now.getFullYear(), now.getMonth() + 1, now.getDate()];
  }
  return new Date(Date.UTC(y, m - 1, d + offset)).toISOString().slice(0, 10);
}

/** A day `offset` days after the YYYY-MM-DD `day`. */
export function addDays(day, offset) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + offset)).toISOString().slice(0, 10);
}

/** A wall time (YYYY-MM-DDTHH:MM) `minutes` later, as wall time: no zone, no DST step. */
export function addMinutes(day, time, minutes) {
  const [y, mo, d] = day.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  return new Date(Date.UTC(y, mo - 1, d, hh, mm + minutes)).toISOString().slice(0, 19);
}

/** An instant shown in the account's zone and the chosen language. */
export function formatTime(iso) {
  if (!iso) return "";
  const options = { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" };
  try {
    return new Date(iso).toLocaleString(lang(), { ...options, timeZone: zone || undefined });
  } catch {
    return new Date(iso).toLocaleString(lang(), options);
  }
}

/** The wall time an API time carries in its own offset ("…T15:00:00+08:00" → "15:00"). */
export function wallTime(iso) {
  return iso ? iso.slice(11, 16) : "";
}
