//! Relative times resolved in code, in the user's zone ("明天下午三点", "下周一", "后天晚上",
//! "月底", "3小时后", "next Friday 9am"): the model calls the `resolve_time` tool with the
//! words and gets a date and a time it does not have to work out itself.
//!
//! Conventions (documented in docs/API.md): a week starts on Monday, so on a Sunday "下周一" is
//! the next day; "周五" alone is the next Friday from today (today included), "这周五"/"本周五"
//! the Friday of this week even when past; "周末" is the week's Saturday; "月底" the month's
//! last day and "月初" its first; a day of the month alone ("15号") is this month's if it has
//! not passed, else next month's; parts of the day without a clock time are 09:00 (上午/早上),
//! 12:00 (中午), 15:00 (下午), 18:00 (傍晚), 20:00 (晚上); a clock time without a day is the next
//! time it comes (today or tomorrow). Durations ("3小时后") are added to the instant, so they
//! cross a DST change exactly; a wall time that a DST change skips moves forward by the gap,
//! and one that happens twice is the first.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde_json::{Value, json};

/// What the words mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub date: NaiveDate,
    /// `None`: a whole day.
    pub time: Option<NaiveTime>,
    /// The instant, when there is a time.
    pub at: Option<DateTime<Tz>>,
}

impl Resolved {
    pub fn to_json(&self, phrase: &str) -> Value {
        const DAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
        let weekday = self.date.weekday();
        json!({
            "phrase": phrase,
            "date": self.date.format("%Y-%m-%d").to_string(),
            "weekday": format!("{} ({weekday})", DAYS[weekday.num_days_from_monday() as usize]),
            "time": self.time.map(|t| t.format("%H:%M").to_string()),
            "all_day": self.time.is_none(),
            "start": self.at.map(|t| t.to_rfc3339()),
        })
    }
}

/// Why the words could not be read.
pub fn not_understood(phrase: &str) -> String {
    format!(
        "无法识别时间“{phrase}”，请换个说法（如“明天下午三点”“下周一”“3小时后”）/ could not read the time {phrase:?}"
    )
}

/// Resolve `phrase` against `now` in `tz`.
pub fn resolve(phrase: &str, now: DateTime<Utc>, tz: Tz) -> Result<Resolved, String> {
    let text = normalise(phrase);
    if text.is_empty() {
        return Err(not_understood(phrase));
    }
    let local = now.with_timezone(&tz);
    if let Some(d) = duration(&text) {
        let at = (now + d).with_timezone(&tz);
        return Ok(Resolved {
            date: at.date_naive(),
            time: Some(at.time()),
            at: Some(at),
        });
    }
    let mut p = Parser {
        s: &text,
        today: local.date_naive(),
    };
    let date = p.date();
    let part = p.part_of_day();
    let clock = p.clock();
    if !p.s.is_empty() {
        return Err(not_understood(phrase));
    }
    if date.is_none() && part.is_none() && clock.is_none() {
        return Err(not_understood(phrase));
    }
    let time = match (part, clock) {
        (Some(part), Some((h, m))) => Some(part.clock(h, m).ok_or_else(|| not_understood(phrase))?),
        (Some(part), None) => Some(part.default_time()),
        (None, Some((h, m))) => {
            Some(NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| not_understood(phrase))?)
        }
        (None, None) => None,
    };
    let day = date.unwrap_or(p.today);
    let Some(time) = time else {
        return Ok(Resolved {
            date: day,
            time: None,
            at: None,
        });
    };
    // 晚上十二点, 晚上一点: the small hours after that evening.
    let day = if part == Some(Part::Night) && clock.is_some() && time.hour() < 5 {
        day + Duration::days(1)
    } else {
        day
    };
    let mut at = wall(tz, day, time);
    if date.is_none() && at <= local {
        // A time without a day is the next time it comes.
        at = wall(tz, at.date_naive() + Duration::days(1), time);
    }
    Ok(Resolved {
        date: at.date_naive(),
        time: Some(at.time()),
        at: Some(at),
    })
}

/// A local wall time as an instant: one that a DST change skips is read with the offset
/// before the change (02:30 on the spring-forward night is 03:30); one that happens twice is
/// the first.
pub fn wall(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Tz> {
    let naive = date.and_time(time);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t,
        chrono::LocalResult::None => {
            let before = tz
                .from_local_datetime(&(naive - Duration::hours(6)))
                .earliest()
                .map_or(0, |b| b.offset().fix().local_minus_utc());
            tz.from_utc_datetime(&(naive - Duration::seconds(before.into())))
        }
    }
}

/// The past days a message speaks of ("昨天", "上周三", "3天前", "11月2日"), at most three,
/// from its first 200 characters: each run of words that reads as a time, the longest first.
pub fn days_mentioned(text: &str, now: DateTime<Utc>, tz: Tz) -> Vec<NaiveDate> {
    const STARTS: &str = "昨前上这本周星礼今大0123456789一二三四五六七八九十两";
    let chars: Vec<char> = text.chars().take(200).collect();
    let today = now.with_timezone(&tz).date_naive();
    let mut out: Vec<NaiveDate> = Vec::new();
    let mut i = 0;
    while i < chars.len() && out.len() < 3 {
        if !STARTS.contains(chars[i]) {
            i += 1;
            continue;
        }
        let found = (2..=8).rev().find_map(|len| {
            let phrase: String = chars.get(i..i + len)?.iter().collect();
            let r = resolve(&phrase, now, tz).ok()?;
            // A month and day already past this year were rolled to next year: spoken of,
            // it is the one before.
            let day = match r.date {
                d if d > today && phrase.contains('月') && !phrase.contains("下") => {
                    d.with_year(d.year() - 1).unwrap_or(d)
                }
                d => d,
            };
            Some((len, day))
        });
        match found {
            Some((len, day)) => {
                if day < today && !out.contains(&day) {
                    out.push(day);
                }
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// Spaces gone, full-width digits and colons made ASCII, synonyms made one.
fn normalise(phrase: &str) -> String {
    let mut s: String = phrase
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '：' => ':',
            c => c,
        })
        .collect();
    for (from, to) in [
        ("星期", "周"),
        ("礼拜", "周"),
        ("钟头", "小时"),
        ("以后", "后"),
        ("之后", "后"),
        ("以前", "前"),
        ("之前", "前"),
        ("号", "日"),
        ("周天", "周日"),
        ("今晚", "今天晚上"),
        ("明晚", "明天晚上"),
        ("明早", "明天早上"),
        ("今早", "今天早上"),
        ("昨晚", "昨天晚上"),
        ("的", ""),
        ("左右", ""),
        ("钟", ""),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// A Chinese or Arabic number at the start of `s` (0 to 99): its value and the bytes read.
fn number(s: &str) -> Option<(u32, usize)> {
    let digits: usize = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        return Some((s[..digits].parse().ok()?, digits));
    }
    let digit = |c: char| {
        "零一二三四五六七八九"
            .find(c)
            .map(|i| (i / 3) as u32)
            .or((c == '两').then_some(2))
    };
    let mut chars = s.char_indices().peekable();
    let mut value = 0;
    let mut read = 0;
    let mut tens = false;
    while let Some(&(i, c)) = chars.peek() {
        if c == '十' && !tens {
            value = if value == 0 { 10 } else { value * 10 };
            tens = true;
        } else if let Some(d) = digit(c) {
            if tens {
                value += d;
                read = i + c.len_utf8();
                break;
            }
            if read > 0 {
                break;
            }
            value = d;
        } else {
            break;
        }
        read = i + c.len_utf8();
        chars.next();
    }
    (read > 0).then_some((value, read))
}

/// "3小时后", "半小时后", "两天后", "一周后", "in 3 hours".
fn duration(s: &str) -> Option<Duration> {
    if let Some(rest) = s.strip_prefix("in") {
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let count: i64 = n.parse().ok()?;
        let unit = rest[n.len()..].trim_end_matches('s');
        return match unit {
            "minute" | "min" => Some(Duration::minutes(count)),
            "hour" => Some(Duration::hours(count)),
            "day" => Some(Duration::days(count)),
            "week" => Some(Duration::weeks(count)),
            _ => None,
        };
    }
    let (body, sign) = match (s.strip_suffix('后'), s.strip_suffix('前')) {
        (Some(b), _) => (b, 1),
        (None, Some(b)) => (b, -1),
        _ => return None,
    };
    if body == "半小时" {
        return Some(Duration::minutes(30 * sign));
    }
    let (n, read) = number(body)?;
    let unit = body[read..].strip_prefix('个').unwrap_or(&body[read..]);
    let n = i64::from(n) * sign;
    match unit {
        "分" | "分钟" => Some(Duration::minutes(n)),
        "小时" => Some(Duration::hours(n)),
        "小时半" => Some(Duration::minutes(n * 60 + 30)),
        "天" => Some(Duration::days(n)),
        "周" => Some(Duration::weeks(n)),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Dawn,
    Morning,
    Noon,
    Afternoon,
    Dusk,
    Night,
}

impl Part {
    fn default_time(self) -> NaiveTime {
        let h = match self {
            Part::Dawn => 6,
            Part::Morning => 9,
            Part::Noon => 12,
            Part::Afternoon => 15,
            Part::Dusk => 18,
            Part::Night => 20,
        };
        NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)
    }

    /// A clock hour (1 to 12, or 0 to 23) read in this part of the day.
    fn clock(self, h: u32, m: u32) -> Option<NaiveTime> {
        let h = match self {
            Part::Dawn | Part::Morning => h % 12,
            Part::Noon => {
                if h >= 11 {
                    h
                } else {
                    h + 12
                }
            }
            Part::Afternoon | Part::Dusk => {
                if h < 12 {
                    h + 12
                } else {
                    h
                }
            }
            Part::Night => match h {
                12 => 0,
                1..=4 => h, // 晚上一点: after midnight
                h if h < 12 => h + 12,
                h => h,
            },
        };
        NaiveTime::from_hms_opt(h % 24, m, 0)
    }
}

struct Parser<'a> {
    s: &'a str,
    today: NaiveDate,
}

impl Parser<'_> {
    fn eat(&mut self, prefix: &str) -> bool {
        match self.s.strip_prefix(prefix) {
            Some(rest) => {
                self.s = rest;
                true
            }
            None => false,
        }
    }

    fn eat_number(&mut self) -> Option<u32> {
        let (n, read) = number(self.s)?;
        self.s = &self.s[read..];
        Some(n)
    }

    fn date(&mut self) -> Option<NaiveDate> {
        let today = self.today;
        for (word, days) in [
            ("大后天", 3),
            ("后天", 2),
            ("明天", 1),
            ("明日", 1),
            ("今天", 0),
            ("今日", 0),
            ("昨天", -1),
            ("前天", -2),
            ("tomorrow", 1),
            ("today", 0),
            ("tonight", 0),
            ("yesterday", -1),
        ] {
            if self.eat(word) {
                if word == "tonight" {
                    self.s = if self.s.is_empty() { "晚上" } else { self.s };
                }
                return Some(today + Duration::days(days));
            }
        }
        if let Some(d) = self.week_day() {
            return Some(d);
        }
        if let Some(d) = self.month_day() {
            return Some(d);
        }
        None
    }

    /// 下周一, 这周五, 周五, 下下周三, 周末, next friday.
    fn week_day(&mut self) -> Option<NaiveDate> {
        let save = self.s;
        let weeks: Option<i64> = if self.eat("下下周") {
            Some(2)
        } else if self.eat("下周") || self.eat("next") {
            Some(1)
        } else if self.eat("上周") || self.eat("last") {
            Some(-1)
        } else if self.eat("这周") || self.eat("本周") || self.eat("this") {
            Some(0)
        } else if self.eat("周") {
            None
        } else {
            // English weekday alone.
            None
        };
        let day = self.weekday_name();
        let Some(day) = day else {
            self.s = save;
            return None;
        };
        let monday =
            self.today - Duration::days(self.today.weekday().num_days_from_monday().into());
        let wanted = i64::from(day.num_days_from_monday());
        Some(match weeks {
            Some(w) => monday + Duration::days(7 * w + wanted),
            None => {
                let ahead =
                    (wanted - i64::from(self.today.weekday().num_days_from_monday())).rem_euclid(7);
                self.today + Duration::days(ahead)
            }
        })
    }

    fn weekday_name(&mut self) -> Option<Weekday> {
        for (word, day) in [
            ("一", Weekday::Mon),
            ("二", Weekday::Tue),
            ("三", Weekday::Wed),
            ("四", Weekday::Thu),
            ("五", Weekday::Fri),
            ("六", Weekday::Sat),
            ("日", Weekday::Sun),
            ("末", Weekday::Sat),
            ("monday", Weekday::Mon),
            ("tuesday", Weekday::Tue),
            ("wednesday", Weekday::Wed),
            ("thursday", Weekday::Thu),
            ("friday", Weekday::Fri),
            ("saturday", Weekday::Sat),
            ("sunday", Weekday::Sun),
            ("weekend", Weekday::Sat),
        ] {
            if self.eat(word) {
                return Some(day);
            }
        }
        None
    }

    /// 月底, 下个月初, 下个月15日, 3月5日, 2027年3月5日, 15日.
    fn month_day(&mut self) -> Option<NaiveDate> {
        let save = self.s;
        let found = self.month_day_inner();
        if found.is_none() {
            self.s = save;
        }
        found
    }

    fn month_day_inner(&mut self) -> Option<NaiveDate> {
        let today = self.today;
        let first_of = |months_ahead: i32| -> Option<NaiveDate> {
            let m0 = today.year() * 12 + today.month0() as i32 + months_ahead;
            NaiveDate::from_ymd_opt(m0.div_euclid(12), (m0.rem_euclid(12) + 1) as u32, 1)
        };
        let last_of = |months_ahead: i32| first_of(months_ahead + 1).map(|d| d - Duration::days(1));
        let ahead = if self.eat("下个月") || self.eat("下月") {
            Some(1)
        } else if self.eat("这个月") || self.eat("本月") || self.eat("这月") {
            Some(0)
        } else if self.eat("上个月") || self.eat("上月") {
            Some(-1)
        } else {
            None
        };
        match ahead {
            Some(a) if self.eat("底") || self.eat("末") => return last_of(a),
            Some(a) if self.eat("初") => return first_of(a),
            None if self.eat("月底") || self.eat("月末") => return last_of(0),
            None if self.eat("月初") => return first_of(0),
            _ => {}
        }
        // [YYYY年][M月]D日
        let mut year = None;
        if self.s.len() > 4
            && self.s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && let Some(rest) = self.s[4..].strip_prefix('年')
        {
            year = self.s[..4].parse::<i32>().ok();
            self.s = rest;
        }
        let mut month = None;
        if ahead.is_none() {
            let before = self.s;
            match self.eat_number() {
                Some(m) if self.eat("月") => month = Some(m),
                _ => self.s = before,
            }
        }
        let day = self.eat_number()?;
        if !self.eat("日") {
            return None;
        }
        match (year, month, ahead) {
            (Some(y), Some(m), _) => NaiveDate::from_ymd_opt(y, m, day),
            (Some(_), None, _) => None,
            (None, Some(m), _) => {
                let this = NaiveDate::from_ymd_opt(today.year(), m, day)?;
                if this < today {
                    NaiveDate::from_ymd_opt(today.year() + 1, m, day)
                } else {
                    Some(this)
                }
            }
            (None, None, Some(a)) => first_of(a)?.with_day(day),
            // A day alone: this month's if it has not passed, else the next month that has it.
            (None, None, None) => (0..=2)
                .filter_map(|a| first_of(a)?.with_day(day))
                .find(|d| *d >= today),
        }
    }

    fn part_of_day(&mut self) -> Option<Part> {
        for (word, part) in [
            ("凌晨", Part::Dawn),
            ("清晨", Part::Dawn),
            ("早上", Part::Morning),
            ("早晨", Part::Morning),
            ("上午", Part::Morning),
            ("morning", Part::Morning),
            ("中午", Part::Noon),
            ("noon", Part::Noon),
            ("下午", Part::Afternoon),
            ("afternoon", Part::Afternoon),
            ("傍晚", Part::Dusk),
            ("晚上", Part::Night),
            ("夜里", Part::Night),
            ("半夜", Part::Night),
            ("evening", Part::Night),
            ("night", Part::Night),
        ] {
            if self.eat(word) {
                return Some(part);
            }
        }
        None
    }

    /// 三点, 3点半, 十点一刻, 3点15分, 15:30, 9am, 3:30pm; the hour and minute as written.
    fn clock(&mut self) -> Option<(u32, u32)> {
        let save = self.s;
        self.eat("at");
        let Some(h) = self.eat_number() else {
            self.s = save;
            return None;
        };
        let m = if self.eat(":") {
            match self.eat_number() {
                Some(m) => m,
                None => {
                    self.s = save;
                    return None;
                }
            }
        } else if self.eat("点") || self.eat("時") {
            if self.eat("半") {
                30
            } else if self.eat("一刻") {
                15
            } else if self.eat("三刻") {
                45
            } else if self.eat("整") {
                0
            } else if let Some(m) = self.eat_number() {
                self.eat("分");
                m
            } else {
                0
            }
        } else if self.s.starts_with("am") || self.s.starts_with("pm") {
            0
        } else {
            self.s = save;
            return None;
        };
        let h = if self.eat("pm") {
            if h < 12 { h + 12 } else { h }
        } else if self.eat("am") {
            h % 12
        } else {
            h
        };
        if h < 24 && m < 60 {
            Some((h, m))
        } else {
            self.s = save;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// (phrase, expected local "YYYY-MM-DD HH:MM" or "YYYY-MM-DD" for a whole day)
    fn check(now: DateTime<Utc>, tz: Tz, table: &[(&str, &str)]) {
        for (phrase, want) in table {
            let r = resolve(phrase, now, tz).unwrap_or_else(|e| panic!("{phrase}: {e}"));
            let got = match r.at {
                Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
                None => r.date.format("%Y-%m-%d").to_string(),
            };
            assert_eq!(&got, want, "{phrase}");
        }
    }

    #[test]
    fn chinese_phrases_on_a_thursday_afternoon_in_shanghai() {
        // Thursday 2026-12-03 14:20 in Shanghai.
        let tz = chrono_tz::Asia::Shanghai;
        let now = at(tz, 2026, 12, 3, 14, 20);
        check(
            now,
            tz,
            &[
                ("明天下午三点", "2026-12-04 15:00"),
                ("明天下午3点半", "2026-12-04 15:30"),
                ("后天晚上", "2026-12-05 20:00"),
                ("后天晚上八点", "2026-12-05 20:00"),
                ("大后天上午十点一刻", "2026-12-06 10:15"),
                ("今天", "2026-12-03"),
                ("明天", "2026-12-04"),
                ("今晚", "2026-12-03 20:00"),
                ("今晚十点", "2026-12-03 22:00"),
                ("明早七点", "2026-12-04 07:00"),
                ("下周一", "2026-12-07"),
                ("下星期三下午两点", "2026-12-09 14:00"),
                ("下礼拜五", "2026-12-11"),
                ("下下周三", "2026-12-16"),
                ("这周五", "2026-12-04"),
                ("本周一", "2026-11-30"),
                ("周五", "2026-12-04"),
                ("周四", "2026-12-03"),
                ("周三", "2026-12-09"),
                ("星期天", "2026-12-06"),
                ("周末", "2026-12-05"),
                ("下周末", "2026-12-12"),
                ("月底", "2026-12-31"),
                ("下个月底", "2027-01-31"),
                ("下个月初", "2027-01-01"),
                ("下个月15号", "2027-01-15"),
                ("15号", "2026-12-15"),
                ("1号", "2027-01-01"),
                ("3月5日", "2027-03-05"),
                ("12月25日晚上7点", "2026-12-25 19:00"),
                ("2027年2月28日", "2027-02-28"),
                ("3小时后", "2026-12-03 17:20"),
                ("半小时后", "2026-12-03 14:50"),
                ("两天后", "2026-12-05 14:20"),
                ("十分钟以后", "2026-12-03 14:30"),
                ("一个星期后", "2026-12-10 14:20"),
                ("3天前", "2026-11-30 14:20"),
                ("两小时之前", "2026-12-03 12:20"),
                ("下午五点", "2026-12-03 17:00"),
                ("上午十点", "2026-12-04 10:00"),
                ("晚上十二点", "2026-12-04 00:00"),
                ("凌晨两点", "2026-12-04 02:00"),
                ("中午", "2026-12-04 12:00"),
                ("中午一点", "2026-12-04 13:00"),
                ("晚上一点", "2026-12-04 01:00"),
                ("15:30", "2026-12-03 15:30"),
                ("明天 9:05", "2026-12-04 09:05"),
                ("昨天", "2026-12-02"),
                ("tomorrow 3pm", "2026-12-04 15:00"),
                ("next monday", "2026-12-07"),
                ("friday 9am", "2026-12-04 09:00"),
                ("in 2 hours", "2026-12-03 16:20"),
                ("tonight", "2026-12-03 20:00"),
            ],
        );
    }

    #[test]
    fn on_a_sunday_next_monday_is_tomorrow_and_a_passed_day_of_month_is_next_months() {
        let tz = chrono_tz::Asia::Shanghai;
        // Sunday 2027-01-31 23:30.
        let now = at(tz, 2027, 1, 31, 23, 30);
        check(
            now,
            tz,
            &[
                ("下周一", "2027-02-01"),
                ("这周一", "2027-01-25"),
                ("周日", "2027-01-31"),
                ("月底", "2027-01-31"),
                ("下个月底", "2027-02-28"),
                ("30号", "2027-03-30"),
                ("1小时后", "2027-02-01 00:30"),
                ("明天", "2027-02-01"),
            ],
        );
    }

    #[test]
    fn across_a_dst_change_walls_and_durations_stay_exact() {
        // New York changes to summer time at 02:00 on Sunday 2026-03-08 (02:00-03:00 skipped).
        let tz = chrono_tz::America::New_York;
        let now = at(tz, 2026, 3, 7, 22, 0); // Saturday 22:00 EST (03:00 UTC on the 8th)
        check(
            now,
            tz,
            &[
                ("明天上午九点", "2026-03-08 09:00"),
                // 5 real hours from 22:00 EST are 04:00 EDT: the clock skipped an hour.
                ("5小时后", "2026-03-08 04:00"),
                // 02:30 does not exist that night: read with the winter offset, it is 03:30.
                ("明天凌晨两点半", "2026-03-08 03:30"),
            ],
        );
        let r = resolve("下周一上午九点", now, tz).unwrap();
        assert_eq!(
            r.to_json("下周一上午九点")["start"],
            "2026-03-09T09:00:00-04:00"
        );
        let r = resolve("明天上午九点", now, tz).unwrap();
        assert_eq!(r.to_json("x")["start"], "2026-03-08T09:00:00-04:00");
        // Autumn: 01:30 on 2026-11-01 happens twice; the first (summer time) is meant.
        let now = at(tz, 2026, 10, 31, 12, 0);
        let r = resolve("明天凌晨一点半", now, tz).unwrap();
        assert_eq!(r.to_json("x")["start"], "2026-11-01T01:30:00-04:00");
        assert_eq!(r.to_json("x")["weekday"], "周日 (Sun)");
    }

    #[test]
    fn the_past_days_a_message_speaks_of_are_found() {
        let tz = chrono_tz::Asia::Shanghai;
        let now = at(tz, 2026, 12, 3, 14, 20); // Thursday
        let days = |t: &str| -> Vec<String> {
            days_mentioned(t, now, tz)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(days("昨天我干了什么？"), ["2026-12-02"]);
        assert_eq!(days("上周三和前天我都去了哪"), ["2026-11-25", "2026-12-01"]);
        assert_eq!(days("3天前吃了什么"), ["2026-11-30"]);
        assert_eq!(days("11月2日那天怎么样"), ["2026-11-02"]);
        assert!(
            days("明天下午三点提醒我").is_empty(),
            "the future is not a diary"
        );
        assert!(days("我喜欢吃火锅").is_empty());
    }

    #[test]
    fn what_is_not_a_time_is_refused_clearly() {
        let tz = chrono_tz::Asia::Shanghai;
        let now = at(tz, 2026, 12, 3, 14, 20);
        for bad in [
            "",
            "随便",
            "明天下午三点钟去看牙医",
            "13月5日",
            "2月30日",
            "下周八",
            "25点",
            "3点70分",
        ] {
            let e = resolve(bad, now, tz).unwrap_err();
            assert!(e.starts_with("无法识别时间"), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        /// Whatever the model passes, the tool answers (a time or the reason), never panics.
        #[test]
        fn any_words_get_an_answer(phrase in "[0-9０-９:：年月日号点半刻分周星期礼拜天今明后大前昨上下午晚早中凌晨这本个底初末一二三四五六七八九十两小时钟 amptoinextday]{0,16}") {
            let tz = chrono_tz::Asia::Shanghai;
            let _ = resolve(&phrase, at(tz, 2026, 12, 3, 14, 20), tz);
        }
    }
}
