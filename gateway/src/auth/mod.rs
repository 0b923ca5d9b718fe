//! Accounts and tokens: argon2id passwords, HS* access tokens, rotating refresh tokens.

pub mod extractor;
pub mod jwt;
pub mod legacy;
pub mod password;
pub mod sessions;

pub use extractor::AuthUser;
pub use jwt::JwtKeys;
