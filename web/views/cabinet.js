// The cabinet: photograph a box (or pick up to five photos), check what was read, correct and
// save; the list with expiry colours, search and filters; edit and delete.
import { api, imageUrl, request } from "../api.js";
import { L, busy, check, checks, errorBox, field, h, showError, toast } from "../ui.js";

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
    const valid = checks(
      check(inputs.name, inputs.name.value.trim().length > 0 && inputs.name.value.trim().length <= 200, "请填写药品名称", "Enter the medicine's name"),
      check(inputs.quantity, q === "" || (Number(q) >= 0 && Number(q) <= 1000000), "数量为 0 到 1000000", "The quantity is 0 to 1,000,000"),
      check(inputs.expiry_date, !inputs.production_date.value || !inputs.expiry_date.value || inputs.production_date.value <= inputs.expiry_date.value, "有效期不能早于生产日期", "The expiry date cannot be before the production date"),
    );
    if (!valid) return;
    busy(submit, box, () => onSubmit(readForm(inputs)));
  });
  return form;
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
  const files = h("input", { type: "file", name: "photos", accept: "image/jpeg,image/png,image/webp", multiple: true, capture: "environment", id: "photos" });
  const preview = h("div", { class: "preview" });
  const result = h("div", { id: "recognition" });
  const recognize = h("button", { type: "button", id: "recognize" }, L("识别", "Recognise"));
  const manual = h("button", { type: "button", class: "secondary", id: "manual" }, L("手动填写", "Enter by hand"));
  let chosen = [];
  files.addEventListener("change", () => {
    chosen = [...files.files];
    showError(box, null);
    if (chosen.length > MAX_PHOTOS) {
      showError(box, { code: "too_many_files" });
      chosen = chosen.slice(0, MAX_PHOTOS);
    }
    preview.replaceChildren(...chosen.map((f) => h("img", { src: URL.createObjectURL(f), alt: f.name })));
  });
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
          const drug = Object.keys(fix).length ? await api.put(`/drugs/${saved.drug.id}`, fix) : saved.drug;
          toast(L(`已保存：${drug.name}`, `Saved: ${drug.name}`));
          result.replaceChildren();
          preview.replaceChildren();
          files.value = "";
          chosen = [];
          onSaved();
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
    field(L(`拍照或选择照片（最多 ${MAX_PHOTOS} 张）`, `Take or pick photos (up to ${MAX_PHOTOS})`), files),
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
      h("div", { class: "muted" }, [drug.brand, drug.strength, drug.expiry_date && `${L("有效期至", "expires")} ${drug.expiry_date}`, drug.quantity != null && `${drug.quantity}${drug.unit || ""}`].filter(Boolean).join(" · ")),
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
  const load = async (append) => {
    showError(box, null);
    try {
      const page = await api.get("/drugs", { q: q.value.trim(), status: status.value, limit: 20, cursor: append ? cursor : null });
      cursor = page.next_cursor;
      more.hidden = !cursor;
      total.textContent = L(`共 ${page.total} 种药品`, `${page.total} medicines`);
      const items = page.items.map((d) => drugItem(d, () => load(false)));
      if (append) list.append(...items);
      else list.replaceChildren(...items);
      if (!page.total) list.replaceChildren(h("li", { class: "muted" }, L("药箱里还没有药品。拍一张药盒的照片开始吧。", "No medicines yet. Photograph a box to begin.")));
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
