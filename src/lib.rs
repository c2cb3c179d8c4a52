//! Quarry: stock, catalogue and quoting for businesses that sell by weight,
//! volume, length or piece, in one binary.
//!
//! The layers, from the inside out: [`domain`] (pure rules), [`store`] (redb,
//! the truth), [`search`] (tantivy, derived), [`app`] (use cases), [`auth`]
//! (secrets), [`http`] (the API and UI), and [`cli`]/[`config`] around them.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod control;
pub mod demo;
pub mod domain;
pub mod http;
pub mod search;
pub mod store;
