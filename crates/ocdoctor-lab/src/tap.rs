//! The IEEE 1149.1 TAP controller: sixteen states, advanced by TMS on each
//! rising TCK edge.
//!
//! The lab acts on the rising edge in the state being *left*: a TAP that is in
//! `CaptureDr` when TCK rises loads its data register, one in `ShiftDr` shifts
//! a bit, one in `UpdateDr` latches. OpenOCD's bit-banging core samples TDO
//! while TCK is low and only then raises TCK, so the value it reads is the one
//! the TAP presents in its current state, before the edge.

/// A state of the TAP controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TapState {
    /// Test-Logic-Reset.
    Reset,
    /// Run-Test/Idle.
    Idle,
    SelectDr,
    CaptureDr,
    ShiftDr,
    Exit1Dr,
    PauseDr,
    Exit2Dr,
    UpdateDr,
    SelectIr,
    CaptureIr,
    ShiftIr,
    Exit1Ir,
    PauseIr,
    Exit2Ir,
    UpdateIr,
}

impl TapState {
    /// The state after one rising TCK edge with the given TMS level.
    pub fn next(self, tms: bool) -> TapState {
        use TapState::*;
        match (self, tms) {
            (Reset, false) => Idle,
            (Reset, true) => Reset,
            (Idle, false) => Idle,
            (Idle, true) => SelectDr,
            (SelectDr, false) => CaptureDr,
            (SelectDr, true) => SelectIr,
            (CaptureDr, false) | (ShiftDr, false) | (Exit2Dr, false) => ShiftDr,
            (CaptureDr, true) | (ShiftDr, true) => Exit1Dr,
            (Exit1Dr, false) | (PauseDr, false) => PauseDr,
            (Exit1Dr, true) | (Exit2Dr, true) => UpdateDr,
            (PauseDr, true) => Exit2Dr,
            (UpdateDr, false) | (UpdateIr, false) => Idle,
            (UpdateDr, true) | (UpdateIr, true) => SelectDr,
            (SelectIr, false) => CaptureIr,
            (SelectIr, true) => Reset,
            (CaptureIr, false) | (ShiftIr, false) | (Exit2Ir, false) => ShiftIr,
            (CaptureIr, true) | (ShiftIr, true) => Exit1Ir,
            (Exit1Ir, false) | (PauseIr, false) => PauseIr,
            (Exit1Ir, true) | (Exit2Ir, true) => UpdateIr,
            (PauseIr, true) => Exit2Ir,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TapState::{self, *};

    fn walk(from: TapState, tms: &[u8]) -> TapState {
        tms.iter().fold(from, |s, &b| s.next(b == 1))
    }

    #[test]
    fn five_tms_high_reach_reset_from_anywhere() {
        let all = [
            Reset, Idle, SelectDr, CaptureDr, ShiftDr, Exit1Dr, PauseDr, Exit2Dr, UpdateDr,
            SelectIr, CaptureIr, ShiftIr, Exit1Ir, PauseIr, Exit2Ir, UpdateIr,
        ];
        for s in all {
            assert_eq!(walk(s, &[1, 1, 1, 1, 1]), Reset, "from {s:?}");
        }
    }

    #[test]
    fn standard_paths() {
        // Idle -> Shift-DR is TMS 1,0,0; Idle -> Shift-IR is 1,1,0,0.
        assert_eq!(walk(Idle, &[1, 0, 0]), ShiftDr);
        assert_eq!(walk(Idle, &[1, 1, 0, 0]), ShiftIr);
        // Shift -> Exit1 -> Update -> Idle.
        assert_eq!(walk(ShiftDr, &[1, 1, 0]), Idle);
        assert_eq!(walk(ShiftIr, &[1, 1, 0]), Idle);
        // Pause and resume shifting.
        assert_eq!(walk(ShiftDr, &[1, 0, 0, 1, 0]), ShiftDr);
        assert_eq!(walk(ShiftIr, &[1, 0, 1, 1]), UpdateIr);
        assert_eq!(walk(Reset, &[0, 0, 0]), Idle);
        assert_eq!(walk(UpdateDr, &[1, 0]), CaptureDr);
    }
}
