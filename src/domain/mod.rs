//! The allocation domain: pure Rust, compiled for the server and the browser alike. It
//! knows no database, no HTTP and no Leptos.

pub mod commands;
pub mod events;
pub mod model;
pub mod staff;
pub mod values;
