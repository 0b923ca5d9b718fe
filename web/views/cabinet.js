// The cabinet: photograph a box (or pick up to five photos), check what was read, correct and
// save; the list with expiry colours, search and filters; edit and delete.
import { api, imageUrl, request } from "../api.js";
import { L, busy, check, checks, errorBox, errorText, field, h, showError, toast } from "../ui.js";

const MAX_PHOTOS = 5;

/** The cabinet's fields in the order a box prints them, with their labels. */
const FIELDS = [
  ["name", "药品名称", "Name"],
  ["brand", "品牌", "Brand"],
  ["generic_name", "通用名", "Generic name"],
  ["manufacturer", "生产企业", "Manufacturer"],
  ["strength", "规格", "Strength"],
  ["dosage_form", "剂型", "Dosage form"],
  ["package", "包装", "Package"],
  ["approval_number", "批准文号", "Approval number"],
  ["barcode", "条码", "Barcode"],
  ["batch_number", "批号", "Batch"],
  ["production_date", "生产日期", "Production date", "date"],
  ["expiry_date", "有效期至", "Expiry date", "date"],
  ["quantity", "数量", "Quantity", "number"],
  ["unit", "单位", "Unit"],
  ["notes", "备注", "Notes", "textarea"],
];

const SOURCES = { model: ["模型识别", "read by the model"], barcode: ["条码", "from the barcode"], catalogue: ["药品库", "from the catalogue"] };

export function statusText(status, days) {
  switch (status) {
    case "expired":
      return L(`已过期 ${-days} 天`, `expired ${-days} days ago`);
    case "expiring":
      return days === 0 ? L("今天到期", "expires today") : L(`${days} 天后到期`, `expires in ${days} days`);
    case "ok":
      return L(`有效（还有 ${days} 天）`, `ok (${days} days left)`);
    default:
      return L("有效期未知", "expiry unknown");
  }
}

/** A form over the drug's fields; `values` fills it, `sources` marks where each value came from. */
function drugForm(values, sources, onSubmit, submitLabel, extra = []) {
  const box = errorBox();
  const inputs = {};
  const fields = FIELDS.map(([name, zh, en, type]) => {
    const input =
      type === "textarea"
        ? h("textarea", { name, rows: 2 })
        : h("input", { name, type: type || "text", step: type === "number" ? "any" : undefined });
    input.value = values[name] ?? "";
    inputs[name] = input;
    const source = sources && sources[name];
    const hint = source ? (SOURCES[source] ? L(SOURCES[source][0], SOURCES[source][1]) : source) : null;
    return field(L(zh, en), input, hint && `${L("来源", "Source")}: ${hint}`);
  });
  inputs.name.required = true;
  const submit = h("button", { type: "submit" }, submitLabel);
  const form = h("form", { class: "drug-form", novalidate: true }, h("div", { class: "grid" }, fields), box, h("div", { class: "row" }, submit, extra));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = inputs.quantity.value.trim();
    const approval = inputs.approval_number.value.replace(/\s/g, "");
    const barcode = inputs.barcode.value.trim();
    const valid = checks(
      check(inputs.name, inputs.name.value.trim().length > 0 && inputs.name.value.trim().length <= 200, "请填写药品名称", "Enter the medicine's name"),
      check(inputs.quantity, !inputs.quantity.validity.badInput && (q === "" || (Number(q) >= 0 && Number(q) <= 1000000)), "数量应为 0 到 1000000 的数字", "The quantity is a number from 0 to 1,000,000"),
      check(inputs.approval_number, approval === "" || /^国药准字[HZSJBTF]\d{8}$/i.test(approval), "批准文号形如 国药准字H20000000", "An approval number looks like 国药准字H20000000"),
      check(inputs.barcode, barcode === "" || validGtin(barcode), "条码应为 8、12、13 或 14 位数字，且校验位正确", "A barcode is 8, 12, 13 or 14 digits with a valid check digit"),
      check(inputs.expiry_date, !inputs.production_date.value || !inputs.expiry_date.value || inputs.production_date.value <= inputs.expiry_date.value, "有效期不能早于生产日期", "The expiry date cannot be before the production date"),
    );
    if (!valid) return;
    busy(submit, box, () => onSubmit(readForm(inputs)));
  });
  return form;
}

/** EAN-8, UPC-A, EAN-13 or GTIN-14 with its check digit (GS1's mod-10). */
function validGtin(code) {
  if (!/^(\d{8}|\d{12,14})$/.test(code)) return false;
  const digits = [...code].map(Number);
  const check = digits.pop();
  const sum = digits.reverse().reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 3 : 1), 0);
  return (10 - (sum % 10)) % 10 === check;
}

/** The form's values as the API takes them: blank text as null, numbers as numbers. */
function readForm(inputs) {
  const out = {};
  for (const [name, , , type] of FIELDS) {
    const raw = inputs[name].value.trim();
    if (raw === "") out[name] = null;
    else if (type === "number") out[name] = Number(raw);
    else out[name] = raw;
  }
  return out;
}

/** Only what differs from `before` (a PUT keeps what it is not sent). */
function changes(before, after) {
  const out = {};
  for (const [key, value] of Object.entries(after)) {
    const old = before[key] ?? null;
    if (String(old ?? "") !== String(value ?? "")) out[key] = value;
  }
  return out;
}

function addSection(onSaved) {
  const box = errorBox();
  // Two ways in: the camera (one shot each time; a phone opens it straight away) and the
  // photos already taken (several at once). Both add to the set, up to five.
  const types = "image/jpeg,image/png,image/webp";
  const camera = h("input", { type: "file", name: "camera", accept: types, capture: "environment", id: "camera" });
  const files = h("input", { type: "file", name: "photos", accept: types, multiple: true, id: "photos" });
  const preview = h("div", { class: "preview" });
  const result = h("div", { id: "recognition" });
  const recognize = h("button", { type: "button", id: "recognize" }, L("识别", "Recognise"));
  const manual = h("button", { type: "button", class: "secondary", id: "manual" }, L("手动填写", "Enter by hand"));
  let chosen = [];
  const paintPreview = () =>
    preview.replaceChildren(
      ...chosen.map((f, i) =>
        h("figure", { class: "photo" }, h("img", { src: URL.createObjectURL(f), alt: f.name }),
          h("button", { type: "button", class: "secondary", "aria-label": L(`移除 ${f.name}`, `Remove ${f.name}`), onclick: () => { chosen.splice(i, 1); result.replaceChildren(); paintPreview(); } }, "×"))),
    );
  const add = (input) => {
    showError(box, null);
    // Other photos, another reading: the form of the last one goes.
    result.replaceChildren();
    chosen = chosen.concat([...input.files]);
    input.value = "";
    if (chosen.length > MAX_PHOTOS) {
      showError(box, { code: "too_many_files" });
      chosen = chosen.slice(0, MAX_PHOTOS);
    }
    paintPreview();
  };
  files.addEventListener("change", () => add(files));
  camera.addEventListener("change", () => add(camera));
  const upload = (save) => {
    const form = new FormData();
    for (const f of chosen) form.append("files", f, f.name);
    return request("POST", "/drugs/recognize", { form, query: { save } });
  };
  recognize.addEventListener("click", () =>
    busy(recognize, box, async () => {
      if (!chosen.length) throw { code: "no_files" };
      result.replaceChildren(h("p", { class: "muted", role: "status" }, L("正在识别，请稍候…", "Reading the box…")));
      const answer = await upload(false).catch((err) => {
        result.replaceChildren();
        throw err;
      });
      const rec = answer.recognition;
      const values = { ...rec.fields };
      const barcode = rec.barcode ? h("p", { class: "muted" }, `${L("条码", "Barcode")}: ${rec.barcode.text} (${rec.barcode.format})`) : null;
      const notes = (rec.notes || []).map((n) => h("p", { class: "hint" }, n));
      result.replaceChildren(
        h("h2", {}, L("识别结果：请核对后保存", "What was read: check, correct, save")),
        ...(barcode ? [barcode] : []),
        ...notes,
        drugForm(values, rec.sources, async (edited) => {
          // The same photos again with save=true: the earlier result is reused (no model call).
          const saved = await upload(true);
          const fix = changes(saved.drug, edited);
          const done = () => {
            result.replaceChildren();
            chosen = [];
            paintPreview();
            onSaved();
          };
          let drug = saved.drug;
          if (Object.keys(fix).length) {
            try {
              drug = await api.put(`/drugs/${saved.drug.id}`, fix);
            } catch (err) {
              // Saved as read; the corrections did not take: say so, edit it in the list.
              done();
              toast(L(`已保存，但修改未生效：${errorText(err)}`, `Saved, but the corrections were not: ${errorText(err)}`));
              return;
            }
          }
          toast(L(`已保存：${drug.name}`, `Saved: ${drug.name}`));
          done();
        }, L("保存到药箱", "Save to cabinet")),
      );
    }),
  );
  manual.addEventListener("click", () => {
    result.replaceChildren(
      h("h2", {}, L("手动填写", "Enter by hand")),
      drugForm({}, null, async (edited) => {
        const body = Object.fromEntries(Object.entries(edited).filter(([, v]) => v !== null));
        const drug = await api.post("/drugs", body);
        toast(L(`已保存：${drug.name}`, `Saved: ${drug.name}`));
        result.replaceChildren();
        onSaved();
      }, L("保存到药箱", "Save to cabinet")),
    );
  });
  return h(
    "div",
    { class: "card" },
    h("h2", {}, L("添加药品", "Add a medicine")),
    h("div", { class: "row" },
      field(L("拍一张（正面、条码面…）", "Take a photo (front, barcode side…)"), camera),
      field(L(`或选择照片（共最多 ${MAX_PHOTOS} 张）`, `Or pick photos (up to ${MAX_PHOTOS} in all)`), files)),
    preview,
    box,
    h("div", { class: "row" }, recognize, manual),
    result,
  );
}

function drugItem(drug, reload) {
  const thumb = h("img", { class: "thumb", alt: "" });
  if (drug.images && drug.images[0]) imageUrl(drug.images[0].url).then((u) => (thumb.src = u)).catch(() => {});
  const details = h("div", { class: "edit" });
  const li = h(
    "li",
    { class: `status-${drug.status}`, dataset: { id: drug.id } },
    drug.images && drug.images.length ? thumb : null,
    h(
      "div",
      { class: "grow" },
      h("strong", { class: "drug-name" }, drug.name),
      " ",
      h("span", { class: `pill ${drug.status}`, dataset: { status: drug.status } }, statusText(drug.status, drug.days_to_expiry)),
      h("div", { class: "muted" }, [drug.brand, drug.strength, drug.expiry_date && `${L("有效期至", "expires")} ${drug.expiry_date}`, drug.quantity != null && `${L("数量", "qty")} ${drug.quantity}${drug.unit || ""}`].filter(Boolean).join(" · ")),
      details,
    ),
  );
  const edit = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, L("编辑", "Edit"));
  edit.addEventListener("click", () => {
    if (details.childElementCount) {
      details.replaceChildren();
      edit.setAttribute("aria-expanded", "false");
      return;
    }
    edit.setAttribute("aria-expanded", "true");
    const del = h("button", { type: "button", class: "danger" }, L("删除", "Delete"));
    del.addEventListener("click", () => {
      if (!confirm(L(`删除「${drug.name}」及其用药计划？`, `Delete "${drug.name}" and its plans?`))) return;
      busy(del, null, async () => {
        await api.del(`/drugs/${drug.id}`);
        toast(L("已删除", "Deleted"));
        reload();
      });
    });
    details.replaceChildren(
      drugForm(drug, null, async (edited) => {
        const fix = changes(drug, edited);
        if (Object.keys(fix).length) await api.put(`/drugs/${drug.id}`, fix);
        toast(L("已保存", "Saved"));
        reload();
      }, L("保存", "Save"), [del]),
    );
  });
  li.append(edit);
  return li;
}

export async function cabinetView(root) {
  const list = h("ul", { class: "list", id: "drugs", "aria-live": "polite" });
  const total = h("p", { class: "muted", id: "drug-total" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, L("加载更多", "Load more"));
  const box = errorBox();
  const q = h("input", { type: "search", name: "q", maxlength: 100, placeholder: L("名称、品牌、厂家", "name, brand, maker") });
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, L("全部", "All")),
    ["expired", "expiring", "ok", "unknown"].map((s) => h("option", { value: s }, { expired: L("已过期", "Expired"), expiring: L("快过期", "Expiring"), ok: L("有效", "OK"), unknown: L("未知", "Unknown") }[s])),
  );
  let cursor = null;
  let seq = 0;
  const load = async (append) => {
    showError(box, null);
    const mine = ++seq;
    try {
      const page = await api.get("/drugs", { q: q.value.trim(), status: status.value, limit: 20, cursor: append ? cursor : null });
      // An answer to a query typed over since is dropped.
      if (mine !== seq) return;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      total.textContent = L(`共 ${page.total} 种药品`, `${page.total} medicines`);
      const items = page.items.map((d) => drugItem(d, () => load(false)));
      if (append) list.append(...items);
      else list.replaceChildren(...items);
      if (!page.total) {
        const filtered = q.value.trim() || status.value;
        list.replaceChildren(h("li", { class: "muted" }, filtered ? L("没有符合条件的药品。", "No medicine matches.") : L("药箱里还没有药品。拍一张药盒的照片开始吧。", "No medicines yet. Photograph a box to begin.")));
      }
    } catch (err) {
      showError(box, err);
    }
  };
  let timer;
  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(false), 250);
  });
  status.addEventListener("change", () => load(false));
  more.addEventListener("click", () => load(true));
  root.append(
    h("h1", { id: "view-title" }, L("药箱", "Cabinet")),
    addSection(() => load(false)),
    h("div", { class: "row", role: "search" }, field(L("搜索", "Search"), q), field(L("状态", "Status"), status)),
    total,
    box,
    list,
    more,
  );
  await load(false);
}
