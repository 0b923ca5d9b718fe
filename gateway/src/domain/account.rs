use std::str::FromStr;

/// Why an input was refused; the message is shown to the client as is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// The name a person signs in with (`user_id` in the compat API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginName(String);

impl LoginName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        let chars = name.chars().count();
        if !(3..=64).contains(&chars) {
            return Err(invalid("user_id must be 3 to 64 characters"));
        }
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(
                "user_id must not contain spaces or control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the rules: 8 to 128 characters, a letter and a digit.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str, login: &LoginName) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars < 8 {
            return Err(invalid("password must be at least 8 characters"));
        }
        if chars > 128 {
            return Err(invalid("password must be at most 128 characters"));
        }
        if !raw.chars().any(char::is_alphabetic) || !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err(invalid("password must contain a letter and a digit"));
        }
        if raw.eq_ignore_ascii_case(login.as_str()) {
            return Err(invalid("password must not be the same as user_id"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        let bad = || invalid("email is not a valid address");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(email))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone)]
pub struct Nickname(String);

impl Nickname {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let nick = raw.trim();
        if nick.chars().count() > 64 || nick.chars().any(char::is_control) {
            return Err(invalid(
                "nickname must be at most 64 characters, without control characters",
            ));
        }
        Ok(Self(nick.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An IANA time zone name that the time-zone database knows (`Asia/Shanghai`).
#[derive(Debug, Clone)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        chrono_tz::Tz::from_str(raw.trim())
            .map(|tz| Self(tz.name().to_owned()))
            .map_err(|_| invalid(format!("timezone {raw:?} is not an IANA time zone name")))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let url = raw.trim();
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 2048
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(url.to_owned()))
        } else {
            Err(invalid("avatar_url must be an http(s) URL"))
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_are_trimmed_and_bounded() {
        assert_eq!(LoginName::parse("  alice ").unwrap().as_str(), "alice");
        assert!(LoginName::parse("ab").is_err());
        assert!(LoginName::parse("a b c").is_err());
        assert!(LoginName::parse(&"x".repeat(65)).is_err());
        assert!(LoginName::parse("张三丰").is_ok());
    }

    #[test]
    fn passwords_need_length_a_letter_and_a_digit() {
        let login = LoginName::parse("alice").unwrap();
        assert!(Password::parse("short1", &login).is_err());
        assert!(Password::parse("onlyletters", &login).is_err());
        assert!(Password::parse("12345678", &login).is_err());
        assert!(Password::parse(&format!("a1{}", "x".repeat(127)), &login).is_err());
        assert!(Password::parse("correct horse 1", &login).is_ok());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse(" A@Example.COM ").unwrap().into_inner(),
            "a@example.com"
        );
        for bad in ["a", "a@", "@b.c", "a@b", "a@@b.c", "a b@c.d", "a@.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_must_be_iana_names() {
        assert_eq!(
            TimeZoneName::parse("America/New_York")
                .unwrap()
                .into_inner(),
            "America/New_York"
        );
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
        assert!(TimeZoneName::parse("+08:00").is_err());
    }
}
