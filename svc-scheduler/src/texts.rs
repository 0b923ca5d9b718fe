//! What a notification says, in the user's language (`preferences.language`: `zh-CN`, the
//! default, or `en`) and with times in the user's zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// From the account's preferences; anything but English is Chinese.
    pub fn of(preferences: &serde_json::Value) -> Lang {
        match preferences.get("language").and_then(|l| l.as_str()) {
            Some(l) if l.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Zh,
        }
    }
}

/// The reader of a notification: language and zone.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub lang: Lang,
    pub tz: Tz,
}

/// A notification's text before it is put in words.
#[derive(Debug, Clone)]
pub enum Text {
    DoseReminder {
        drug: String,
        amount: f64,
        unit: String,
        /// The dose's local time as the plan has it (`08:00`).
        time: String,
    },
    DoseMissed {
        drug: String,
        scheduled_at: Option<DateTime<Utc>>,
    },
    EventReminder {
        title: String,
        start: DateTime<Utc>,
    },
    LowStock {
        stock: Option<f64>,
        unit: String,
        /// When it runs out, if known.
        runs_out_on: Option<chrono::NaiveDate>,
    },
    Expiry {
        names: Vec<String>,
    },
    /// `POST /devices/{id}/test`.
    Test {
        channel: String,
    },
    /// A dependent's dose nobody marked, told to their caregivers.
    DoseEscalation {
        person: String,
        drug: String,
        /// The dose's local time as the plan has it (`08:00`).
        time: String,
        minutes: u32,
    },
    /// Written by the user (`POST /notifications/send`, a template): as it is.
    Raw {
        title: String,
        body: String,
    },
}

/// `1.0` as `1`, `0.5` as `0.5`.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl Text {
    /// Title and body.
    pub fn render(&self, r: Reader) -> (String, String) {
        let local = |t: &DateTime<Utc>| t.with_timezone(&r.tz).format("%H:%M").to_string();
        let zh = r.lang == Lang::Zh;
        match self {
            Text::DoseReminder {
                drug,
                amount,
                unit,
                time,
            } => {
                let amount = number(*amount);
                if zh {
                    (
                        format!("该吃药了：{drug}"),
                        format!("{time} 服用 {amount} {unit}"),
                    )
                } else {
                    (
                        format!("Time to take {drug}"),
                        format!("{amount} {unit} at {time}"),
                    )
                }
            }
            Text::DoseEscalation {
                person,
                drug,
                time,
                minutes,
            } => {
                if zh {
                    (
                        format!("{person} 还没有服药"),
                        format!("{time} 的 {drug} 已过 {minutes} 分钟，还没有记录服用"),
                    )
                } else {
                    (
                        format!("{person} has not taken a dose"),
                        format!("{drug} at {time}: not marked {minutes} minutes later"),
                    )
                }
            }
            Text::DoseMissed { drug, scheduled_at } => {
                let at = scheduled_at.as_ref().map(local).unwrap_or_default();
                if zh {
                    (
                        format!("漏服：{drug}"),
                        format!("{at} 的这一次还没有记录服用"),
                    )
                } else {
                    (
                        format!("Missed: {drug}"),
                        format!("the dose at {at} was not taken"),
                    )
                }
            }
            Text::EventReminder { title, start } => {
                let at = local(start);
                if zh {
                    (format!("即将开始：{title}"), format!("{at} 开始"))
                } else {
                    (format!("Soon: {title}"), format!("starts at {at}"))
                }
            }
            Text::LowStock {
                stock,
                unit,
                runs_out_on,
            } => {
                let left = stock.map(number).unwrap_or_else(|| "?".to_owned());
                match (zh, runs_out_on) {
                    (true, Some(d)) => (
                        "药快用完了，该补药了".to_owned(),
                        format!("还剩 {left} {unit}，预计 {} 用完", d.format("%-m月%-d日")),
                    ),
                    (true, None) => ("药快用完了".to_owned(), format!("还剩 {left} {unit}")),
                    (false, Some(d)) => (
                        "Running low: time to refill".to_owned(),
                        format!("{left} {unit} left; runs out on {}", d.format("%b %-d")),
                    ),
                    (false, None) => ("Running low".to_owned(), format!("{left} {unit} left")),
                }
            }
            Text::Expiry { names } => {
                let n = names.len();
                if zh {
                    (format!("{n} 种药品即将过期或已过期"), names.join("、"))
                } else {
                    (
                        format!("{n} medicine(s) expiring or expired"),
                        names.join(", "),
                    )
                }
            }
            Text::Raw { title, body } => (title.clone(), body.clone()),
            Text::Test { channel } => {
                if zh {
                    (
                        "UniLife 测试通知".to_owned(),
                        format!("看到这条消息，说明 {channel} 推送已经连通。"),
                    )
                } else {
                    (
                        "UniLife test".to_owned(),
                        format!("If you can read this, {channel} delivery works."),
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn a_refill_reminder_says_when_the_stock_runs_out() {
        let reader = |lang| Reader {
            lang,
            tz: chrono_tz::Asia::Shanghai,
        };
        let refill = Text::LowStock {
            stock: Some(3.0),
            unit: "片".into(),
            runs_out_on: "2026-12-18".parse().ok(),
        };
        assert_eq!(
            refill.render(reader(Lang::Zh)),
            (
                "药快用完了，该补药了".to_owned(),
                "还剩 3 片，预计 12月18日 用完".to_owned()
            )
        );
        assert_eq!(
            refill.render(reader(Lang::En)).1,
            "3 片 left; runs out on Dec 18"
        );
        let low = Text::LowStock {
            stock: Some(3.0),
            unit: "片".into(),
            runs_out_on: None,
        };
        assert_eq!(low.render(reader(Lang::Zh)).1, "还剩 3 片");
    }

    #[test]
    fn chinese_by_default_english_by_preference_times_in_the_users_zone() {
        assert_eq!(Lang::of(&serde_json::json!({})), Lang::Zh);
        assert_eq!(
            Lang::of(&serde_json::json!({"language": "zh-CN"})),
            Lang::Zh
        );
        assert_eq!(Lang::of(&serde_json::json!({"language": "en"})), Lang::En);
        let start: DateTime<Utc> = "2026-12-06T01:30:00Z".parse().unwrap();
        let event = Text::EventReminder {
            title: "牙医".into(),
            start,
        };
        let sh = Reader {
            lang: Lang::Zh,
            tz: chrono_tz::Asia::Shanghai,
        };
        assert_eq!(
            event.render(sh),
            ("即将开始：牙医".to_owned(), "09:30 开始".to_owned())
        );
        let ny = Reader {
            lang: Lang::En,
            tz: chrono_tz::America::New_York,
        };
        assert_eq!(event.render(ny).1, "starts at 20:30");
        let dose = Text::DoseReminder {
            drug: "Calcium".into(),
            amount: 1.0,
            unit: "片".into(),
            time: "08:00".into(),
        };
        assert_eq!(dose.render(sh).1, "08:00 服用 1 片");
        assert_eq!(
            Text::DoseReminder {
                drug: "x".into(),
                amount: 0.5,
                unit: "tablet".into(),
                time: "08:00".into()
            }
            .render(ny)
            .1,
            "0.5 tablet at 08:00"
        );
    }
}
