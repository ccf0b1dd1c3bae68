//! Chip identity for ocdoctor: what the numbers OpenOCD prints mean (JTAG
//! IDCODE, ADIv5 DPIDR, Cortex-M CPUID, STM32 DBGMCU ids, nRF FICR parts,
//! RP2040/RP2350 TARGETIDs), which installed cfg expects them, and whether a
//! mismatch is a wrong config, a known clone, or line noise.
//!
//! Pure: no I/O except [`ScriptsIndex::build`], which reads the scripts
//! directory it is given.

pub mod clones;
pub mod decode;
pub mod jep106;
pub mod scripts;
pub mod stm32;

pub use clones::{CloneEntry, clones};
pub use decode::{CoreInfo, Cpuid, Dpidr, JtagIdcode};
pub use scripts::{IdDecl, ScriptsIndex};
pub use stm32::Stm32DevId;
pub mod explain;
pub mod mismatch;

pub use explain::{IdKind, IdReport, explain_id, explain_id_with};
pub use mismatch::{
    CfgSuggestion, LogIds, MismatchContext, MismatchKind, classify_mismatch, extract_from_log,
};
