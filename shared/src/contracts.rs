//! What the services answer each other on internal routes, typed once. The owner of the data
//! serialises these; a caller deserialises them instead of indexing JSON by string.
//!
//! They are the wire format between deployed services, which may run different versions for a
//! while: field names, their order and the status strings stay as they are (the tests below
//! pin them). Add a field rather than rename one, and change both sides together.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a drug stands with its expiry date, in its owner's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpiryStatus {
    Ok,
    Expiring,
    Expired,
    Unknown,
}

impl ExpiryStatus {
    pub const ALL: [ExpiryStatus; 4] = [Self::Ok, Self::Expiring, Self::Expired, Self::Unknown];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Expiring => "expiring",
            Self::Expired => "expired",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// A photo of a drug, by its owner-only URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrugImage {
    pub id: Uuid,
    pub url: String,
}

/// A drug as the cabinet shows it (svc-drugs): `GET /internal/cabinet` (svc-chat's tools),
/// `GET /internal/users/{id}/expiring` (svc-scheduler, svc-chat), and the public
/// `/api/v1/drugs` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CabinetDrug {
    pub id: Uuid,
    pub name: String,
    pub brand: Option<String>,
    pub generic_name: Option<String>,
    pub manufacturer: Option<String>,
    pub strength: Option<String>,
    pub dosage_form: Option<String>,
    pub package: Option<String>,
    pub approval_number: Option<String>,
    pub barcode: Option<String>,
    pub batch_number: Option<String>,
    /// The pack's serial and the box's identity, from a scanned GS1 DataMatrix or drug
    /// traceability code (`svc-drugs` `domain::codes`).
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub box_id: Option<String>,
    pub production_date: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    pub notes: Option<String>,
    pub images: Vec<DrugImage>,
    pub status: ExpiryStatus,
    pub days_to_expiry: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What became of a dose: nothing yet (`due`), an action, or `missed` (not acted on in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DoseStatus {
    Due,
    Taken,
    Skipped,
    Snoozed,
    Missed,
}

impl DoseStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Taken => "taken",
            Self::Skipped => "skipped",
            Self::Snoozed => "snoozed",
            Self::Missed => "missed",
        }
    }
}

/// One scheduled dose of a medication plan (svc-drugs): `GET /internal/doses/today`
/// (svc-chat's tools) and the public `/api/v1/doses` answers. Its id is
/// `<plan id>_<unix seconds>`; `scheduled_at` is RFC 3339 in the plan's time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dose {
    pub id: String,
    pub plan_id: Uuid,
    pub drug_id: Uuid,
    pub drug_name: String,
    pub scheduled_at: String,
    pub local_date: NaiveDate,
    pub local_time: String,
    pub amount: f64,
    pub unit: String,
    pub status: DoseStatus,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub acted_at: Option<DateTime<Utc>>,
}

/// A dose and whose it is: `GET /internal/doses/due` and `POST /internal/doses/mark-missed`
/// (svc-drugs → svc-scheduler).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDose {
    pub user_id: Uuid,
    #[serde(flatten)]
    pub dose: Dose,
}

/// A dependent's dose still unmarked `after_minutes` after its time, and the caregivers to
/// tell: `GET /internal/doses/escalations?from=&to=` (svc-drugs → svc-scheduler) answers those
/// whose moment (time + `after_minutes`) falls in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoseEscalation {
    pub person_id: Uuid,
    /// The dependent's name in the household.
    pub person_name: String,
    pub caregivers: Vec<Uuid>,
    pub after_minutes: u32,
    #[serde(flatten)]
    pub dose: Dose,
}

/// The body of `POST /internal/doses/mark-missed`: unacted doses in `[since, before - 2 h)`
/// become missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkMissed {
    pub before: DateTime<Utc>,
    pub since: DateTime<Utc>,
}

/// A plan at or below its low-stock threshold: `GET /internal/low-stock` (svc-drugs →
/// svc-scheduler). Fields in this order, as the answer has always had them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowStock {
    pub drug_id: Uuid,
    pub low_stock_threshold: Option<f64>,
    pub plan_id: Uuid,
    pub stock: Option<f64>,
    pub unit: String,
    pub user_id: Uuid,
    /// When the stock runs out, and the refill date that brought this reminder (if it was
    /// that rather than the threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_out_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refill_on: Option<NaiveDate>,
}

/// How long before an event's start its reminder goes out (svc-scheduler's event
/// reminders), and the calendar feed's default alarm.
pub const EVENT_REMINDER_LEAD_MINUTES: i64 = 15;

/// The header the gateway tells a service the address clients reach it at with
/// (`https://api.example.com`, no trailing `/`), for links the service writes. A client's own
/// header of that name never passes the gateway.
pub const PUBLIC_URL_HEADER: &str = "x-public-url";

/// An event that starts soon: `GET /internal/events/upcoming` (svc-chat → svc-scheduler).
/// Fields in this order, as the answer has always had them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpcomingEvent {
    pub id: Uuid,
    pub location: Option<String>,
    pub start_time: DateTime<Utc>,
    pub title: String,
    pub user_id: Uuid,
    /// The template of a routine's or habit's day (made into an instance or not): a day is
    /// reminded once per series and start, whichever form it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_id: Option<Uuid>,
    /// A day not made into an instance: its `virtual_<template>_<YYYYMMDD>` id (`id` is then
    /// the template's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_id: Option<String>,
}

/// A time as it is written on the wire (RFC 3339, UTC, `Z`, as many fraction digits as it
/// needs): what serde writes for a `DateTime<Utc>`, for keys built from one.
pub fn wire_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn low_stock_and_events_are_written_as_the_untyped_answers_were() {
        let (user, plan, drug) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let before = json!({
            "user_id": user, "plan_id": plan, "drug_id": drug,
            "stock": Some(9.0), "low_stock_threshold": Some(9.0), "unit": "片",
        });
        let typed = LowStock {
            drug_id: drug,
            low_stock_threshold: Some(9.0),
            plan_id: plan,
            stock: Some(9.0),
            unit: "片".into(),
            user_id: user,
            runs_out_on: None,
            refill_on: None,
        };
        assert_eq!(
            serde_json::to_string(&typed).unwrap(),
            serde_json::to_string(&before).unwrap()
        );

        let start = at("2026-11-22T08:10:00.123456Z");
        let before = json!({
            "user_id": user, "id": plan, "title": "Dentist", "start_time": start,
            "location": None::<String>,
        });
        let typed = UpcomingEvent {
            id: plan,
            location: None,
            start_time: start,
            title: "Dentist".into(),
            user_id: user,
            series_id: None,
            virtual_id: None,
        };
        assert_eq!(
            serde_json::to_string(&typed).unwrap(),
            serde_json::to_string(&before).unwrap()
        );
        let body = MarkMissed {
            before: start,
            since: start,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            serde_json::to_string(&json!({"since": start, "before": start})).unwrap()
        );
    }

    #[test]
    fn a_user_dose_is_flat_and_reads_back() {
        let dose = UserDose {
            user_id: Uuid::now_v7(),
            dose: Dose {
                id: "p_1".into(),
                plan_id: Uuid::now_v7(),
                drug_id: Uuid::now_v7(),
                drug_name: "布洛芬".into(),
                scheduled_at: "2026-03-08T08:00:00-04:00".into(),
                local_date: "2026-03-08".parse().unwrap(),
                local_time: "08:00".into(),
                amount: 1.0,
                unit: "片".into(),
                status: DoseStatus::Snoozed,
                snoozed_until: Some(at("2026-03-08T12:15:00.5Z")),
                acted_at: None,
            },
        };
        let text = serde_json::to_string(&dose).unwrap();
        assert!(text.starts_with(r#"{"user_id":"#), "{text}");
        assert!(text.contains(r#""id":"p_1","plan_id""#), "{text}");
        assert!(text.contains(r#""amount":1.0,"#), "{text}");
        assert!(text.contains(r#""status":"snoozed""#), "{text}");
        assert_eq!(serde_json::from_str::<UserDose>(&text).unwrap(), dose);
    }

    #[test]
    fn statuses_are_their_strings() {
        for status in ExpiryStatus::ALL {
            assert_eq!(json!(status), status.as_str());
            assert_eq!(ExpiryStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ExpiryStatus::parse("soon"), None);
        for status in [
            DoseStatus::Due,
            DoseStatus::Taken,
            DoseStatus::Skipped,
            DoseStatus::Snoozed,
            DoseStatus::Missed,
        ] {
            assert_eq!(json!(status), status.as_str());
        }
    }

    #[test]
    fn wire_time_is_what_serde_writes() {
        for t in [
            "2026-11-22T08:10:00Z",
            "2026-11-22T08:10:00.5Z",
            "2026-11-22T08:10:00.123456Z",
            "2026-11-22T08:10:00.123456789Z",
        ] {
            let t = at(t);
            assert_eq!(json!(wire_time(t)), json!(t));
        }
    }
}

/// A person's medicines for their calendar feed: `GET /internal/calendar` (svc-drugs →
/// svc-chat, which serves the feed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MedicationCalendar {
    pub plans: Vec<CalendarPlan>,
    pub expiries: Vec<CalendarExpiry>,
}

/// A scheduled plan as recurring doses: each phase (the whole plan when it has none) from
/// `start` to `end` (inclusive, local dates), at `times` (`HH:MM`, in `timezone`), on
/// `days_of_week` (ISO) or every `every_n_days` days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarPlan {
    pub plan_id: Uuid,
    pub drug_name: String,
    pub unit: String,
    pub times: Vec<String>,
    pub days_of_week: Option<Vec<u32>>,
    pub every_n_days: Option<u32>,
    pub timezone: String,
    pub phases: Vec<CalendarPhase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarPhase {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarExpiry {
    pub drug_id: Uuid,
    pub name: String,
    pub expiry_date: NaiveDate,
}
