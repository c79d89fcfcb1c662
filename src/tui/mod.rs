//! The terminal dashboard (ratatui): panels over the shared state store, keyboard and mouse
//! actions that become node commands, themes.
//!
//! - [`app`]: focus, selections, filters, overlays; keys and clicks become [`action::Action`]s.
//! - [`frame`] with [`panels`] and [`popups`]: drawing from the store, never mutating it.
//! - [`view`]: the rows each panel shows after sorting and filtering (shared by keys and drawing).
//! - [`run`]: the terminal loop over one or more attached nodes (redraw only on change, capped
//!   fps, terminal always restored); [`fleet`]: which attached nodes agree with which.
//! - [`theme`]: colour themes (themes/*.toml).

pub mod action;
pub mod app;
pub mod fleet;
pub mod format;
pub mod frame;
pub mod keys;
pub mod panels;
pub mod popups;
pub mod run;
pub mod theme;
pub mod view;
