//! A drug's expiry status. (The drug as the API shows it is `shared::contracts::CabinetDrug`:
//! svc-chat and svc-scheduler read it too.)

use chrono::NaiveDate;
use shared::contracts::ExpiryStatus;

/// `expired` after the expiry date, `expiring` within `warning_days` of it (the day itself
/// included), `ok` before that, `unknown` without a date.
pub fn status(
    expiry: Option<NaiveDate>,
    today: NaiveDate,
    warning_days: i64,
) -> (ExpiryStatus, Option<i64>) {
    let Some(expiry) = expiry else {
        return (ExpiryStatus::Unknown, None);
    };
    let days = (expiry - today).num_days();
    let status = if days < 0 {
        ExpiryStatus::Expired
    } else if days <= warning_days {
        ExpiryStatus::Expiring
    } else {
        ExpiryStatus::Ok
    };
    (status, Some(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_boundaries() {
        let today: NaiveDate = "2026-11-22".parse().unwrap();
        let d = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        assert_eq!(
            status(d("2026-11-21"), today, 30),
            (ExpiryStatus::Expired, Some(-1))
        );
        assert_eq!(
            status(d("2026-11-22"), today, 30),
            (ExpiryStatus::Expiring, Some(0))
        );
        assert_eq!(
            status(d("2026-12-22"), today, 30),
            (ExpiryStatus::Expiring, Some(30))
        );
        assert_eq!(
            status(d("2026-12-23"), today, 30),
            (ExpiryStatus::Ok, Some(31))
        );
        assert_eq!(status(None, today, 30), (ExpiryStatus::Unknown, None));
    }
}
