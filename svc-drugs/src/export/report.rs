//! A printable report for a doctor's visit: current medicines, plans, adherence over the
//! range, missed and skipped doses, and what the safety checks found. One HTML page with its
//! own print styles, in Chinese or English; every value from the user is escaped.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use shared::contracts::DoseStatus;

use super::Gathered;
use crate::plans::plan_of;
use crate::safety::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `zh` (default) or `en`; anything else is refused by the caller.
    pub fn parse(raw: Option<&str>) -> Option<Lang> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("zh" | "zh-cn") => Some(Lang::Zh),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "—".to_owned(), esc)
}

const STYLE: &str = "body{font-family:system-ui,'PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:2em;color:#111}\
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #999}\
table{border-collapse:collapse;width:100%;font-size:.92em}th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f0f0f0}.muted{color:#555;font-size:.9em}.major,.contraindicated{font-weight:bold}\
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}.noprint{display:none}}";

pub fn html(g: &Gathered, checks: &Report, lang: Lang, now: DateTime<Utc>) -> String {
    let t = |zh, en| lang.t(zh, en);
    let local = |at: DateTime<Utc>| at.with_timezone(&g.tz).format("%Y-%m-%d %H:%M").to_string();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        t("zh-CN", "en"),
        t("用药报告", "Medication report"),
    );
    let _ = write!(
        h,
        "<h1>{}{}</h1><p class=\"muted\">{} {} – {} · {} {} · {}</p>",
        t("用药报告", "Medication report"),
        g.person
            .as_deref()
            .map(|p| format!(" · {}", esc(p)))
            .unwrap_or_default(),
        t("时段", "Period"),
        // The range's days, its end included (`to` is the instant after it).
        g.from.with_timezone(&g.tz).date_naive(),
        (g.to - chrono::Duration::seconds(1))
            .with_timezone(&g.tz)
            .date_naive(),
        t("生成于", "Generated"),
        local(now),
        esc(g.tz.name()),
    );

    // Current medicines.
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("药箱中的药品", "Medicines in the cabinet"),
        t("名称", "Name"),
        t("通用名", "Generic name"),
        t("规格", "Strength"),
        t("批号", "Batch"),
        t("有效期至", "Expires"),
    );
    for d in &g.drugs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            opt(d.generic_name.as_deref()),
            opt(d.strength.as_deref()),
            opt(d.batch_number.as_deref()),
            d.expiry_date
                .map_or_else(|| "—".to_owned(), |e| e.to_string()),
        );
    }
    if g.drugs.is_empty() {
        let _ = write!(
            h,
            "<tr><td colspan=\"5\">{}</td></tr>",
            t("药箱是空的", "The cabinet is empty")
        );
    }
    h.push_str("</table>");

    // Plans and adherence.
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("用药计划与依从性", "Plans and adherence"),
        t("药品", "Medicine"),
        t("剂量与时间", "Dose and times"),
        t("开始 – 结束", "Start – end"),
        t("已服 / 应服", "Taken / due"),
        t("漏服 · 跳过", "Missed · skipped"),
        t("依从率", "Adherence"),
    );
    for m in &g.plans {
        let plan = plan_of(m);
        let name = g.names.get(&m.drug_id).map_or("—", String::as_str);
        let times: Vec<String> = plan
            .times
            .iter()
            .map(|t| t.format("%H:%M").to_string())
            .collect();
        let how = if m.as_needed {
            format!(
                "{} {} {}{}",
                m.dose_amount,
                esc(&m.dose_unit),
                t("按需", "as needed"),
                m.max_per_24h
                    .map(|x| format!(" ({} {x} {}/24h)", t("最多", "max"), esc(&m.dose_unit)))
                    .unwrap_or_default()
            )
        } else {
            format!(
                "{} {} · {}",
                m.dose_amount,
                esc(&m.dose_unit),
                times.join(", ")
            )
        };
        let mine: Vec<_> = g.doses.iter().filter(|d| d.plan_id == m.id).collect();
        let count = |s: DoseStatus| mine.iter().filter(|d| d.status == s).count();
        let (taken, missed, skipped) = (
            count(DoseStatus::Taken),
            count(DoseStatus::Missed),
            count(DoseStatus::Skipped),
        );
        let settled = taken + missed + skipped;
        let rate = if settled > 0 {
            format!("{:.0}%", 100.0 * taken as f64 / settled as f64)
        } else {
            "—".to_owned()
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{how}</td><td>{} – {}</td><td>{taken} / {}</td><td>{missed} · {skipped}</td><td>{rate}</td></tr>",
            esc(name),
            m.start_date,
            m.end_date.map_or_else(|| "…".to_owned(), |e| e.to_string()),
            mine.len(),
        );
    }
    if g.plans.is_empty() {
        let _ = write!(
            h,
            "<tr><td colspan=\"6\">{}</td></tr>",
            t("没有用药计划", "No plans")
        );
    }
    h.push_str("</table>");

    // Missed and skipped doses.
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("漏服与跳过", "Missed and skipped doses"),
        t("时间", "When"),
        t("药品", "Medicine"),
        t("情况", "What happened"),
    );
    let mut none = true;
    for d in g
        .doses
        .iter()
        .filter(|d| matches!(d.status, DoseStatus::Missed | DoseStatus::Skipped))
    {
        none = false;
        let what = if d.status == DoseStatus::Missed {
            t("漏服", "missed")
        } else {
            t("跳过", "skipped")
        };
        let _ = write!(
            h,
            "<tr><td>{} {}</td><td>{}</td><td>{what}</td></tr>",
            d.local_date,
            esc(&d.local_time),
            esc(&d.drug_name),
        );
    }
    if none {
        let _ = write!(h, "<tr><td colspan=\"3\">{}</td></tr>", t("没有", "None"));
    }
    h.push_str("</table>");

    // Safety checks.
    let _ = write!(
        h,
        "<h2>{}</h2><p>{}</p>",
        t(
            "相互作用与重复成分",
            "Interactions and duplicate ingredients"
        ),
        esc(match lang {
            Lang::Zh => &checks.summary_zh,
            Lang::En => &checks.summary_en,
        }),
    );
    if !checks.interactions.is_empty() || !checks.duplicates.is_empty() {
        h.push_str("<ul>");
        for i in &checks.interactions {
            let severity = i.severity.as_str();
            let _ = write!(
                h,
                "<li class=\"{severity}\">{} + {} ({}): {}</li>",
                esc(&i.drugs[0].name),
                esc(&i.drugs[1].name),
                match lang {
                    Lang::Zh => i.severity.zh(),
                    Lang::En => severity,
                },
                esc(match lang {
                    Lang::Zh => &i.zh,
                    Lang::En => &i.en,
                }),
            );
        }
        for d in &checks.duplicates {
            let names: Vec<String> = d.drugs.iter().map(|d| esc(&d.name)).collect();
            let _ = write!(
                h,
                "<li>{}: {}</li>",
                names.join(" + "),
                esc(match lang {
                    Lang::Zh => &d.zh,
                    Lang::En => &d.en,
                }),
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(
        h,
        "<p class=\"muted\">{} {} ({})</p></body></html>",
        t(
            "相互作用表来自公开的药品说明书资料，仅供参考，不能代替医生或药师的判断。表版本",
            "The interaction table is compiled from public prescribing information, for reference only; it does not replace a doctor's or pharmacist's judgement. Table version",
        ),
        esc(&checks.table.version),
        esc(&checks.table.source),
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_languages_parse() {
        assert_eq!(
            esc("<b>\"x\" & 'y'"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;"
        );
        assert_eq!(Lang::parse(None), Some(Lang::Zh));
        assert_eq!(Lang::parse(Some("EN")), Some(Lang::En));
        assert_eq!(Lang::parse(Some("fr")), None);
    }
}
