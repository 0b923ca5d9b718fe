//! Accounts and tokens: argon2id passwords, Sign in with Apple, the original app's sign-in by
//! user id (compat), HS* access tokens, rotating refresh tokens.

pub mod accounts;
pub mod apple;
pub mod extractor;
pub mod jwt;
pub mod legacy;
pub mod password;
pub mod revocation;
pub mod sessions;

pub use extractor::AuthUser;
pub use jwt::JwtKeys;
