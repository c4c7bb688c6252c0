//! What the top tier looks like, and sampling architectures that look like it (SPEC §6).

pub mod stats;
