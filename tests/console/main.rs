//! The administration console in a real browser: headless Chromium, driven through Debian's
//! chromedriver, against a `muster` service on a loopback port. Each run saves a screenshot
//! of every page it visits under the build's temporary directory (`console-screenshots/`).

mod groups;
mod harness;
mod imports;
mod integrations;
mod members;
mod refusals;
mod settings;
