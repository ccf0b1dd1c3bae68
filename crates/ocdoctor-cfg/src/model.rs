//! The session model (filled in by `resolve`).
use serde::Serialize;
#[derive(Debug, Clone, Default, Serialize)]
pub struct Model {}
