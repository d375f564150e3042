//! The administration console's own state: one-time sign-in links and browser sessions.
//! The pages live in `http::console`; what they do goes through the same services as the API.

pub mod history;
mod links;
pub mod members;
mod sessions;

pub use links::{ConsoleLinks, IssuedLink, LINK_LIFETIME_SECS, link_json, sign_in_url};
pub use sessions::{ABSOLUTE_LIFETIME_SECS, IDLE_TIMEOUT_SECS, Session, Sessions};
