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
        let (low, high) = NEXT[self as usize];
        if tms { high } else { low }
    }
}

/// The IEEE 1149.1 state diagram: for each state, in the order `TapState` declares them, the
/// next state with TMS low and with TMS high.
const NEXT: [(TapState, TapState); 16] = {
    use TapState::*;
    [
        (Idle, Reset),         // Reset
        (Idle, SelectDr),      // Idle
        (CaptureDr, SelectIr), // SelectDr
        (ShiftDr, Exit1Dr),    // CaptureDr
        (ShiftDr, Exit1Dr),    // ShiftDr
        (PauseDr, UpdateDr),   // Exit1Dr
        (PauseDr, Exit2Dr),    // PauseDr
        (ShiftDr, UpdateDr),   // Exit2Dr
        (Idle, SelectDr),      // UpdateDr
        (CaptureIr, Reset),    // SelectIr
        (ShiftIr, Exit1Ir),    // CaptureIr
        (ShiftIr, Exit1Ir),    // ShiftIr
        (PauseIr, UpdateIr),   // Exit1Ir
        (PauseIr, Exit2Ir),    // PauseIr
        (ShiftIr, UpdateIr),   // Exit2Ir
        (Idle, SelectDr),      // UpdateIr
    ]
};

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
