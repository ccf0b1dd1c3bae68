//! STM32 DBGMCU_IDCODE (what `device id = 0x…` prints): DEV_ID in bits 11..0,
//! REV_ID in bits 31..16. The family table is data (`data/stm32_devids.tsv`).

use std::sync::OnceLock;

const TSV: &str = include_str!("../data/stm32_devids.tsv");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stm32Family {
    pub dev_id: u16,
    pub family: &'static str,
    /// The OpenOCD 0.12 target cfg, or a note starting with `(` when none exists.
    pub target_cfg: &'static str,
    pub core: &'static str,
    pub revisions: Vec<(u16, &'static str)>,
}

fn table() -> &'static Vec<Stm32Family> {
    static T: OnceLock<Vec<Stm32Family>> = OnceLock::new();
    T.get_or_init(|| {
        TSV.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("dev_id") && !l.trim().is_empty())
            .filter_map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                let dev_id = u16::from_str_radix(c.first()?.trim_start_matches("0x"), 16).ok()?;
                let revisions = c
                    .get(4)
                    .unwrap_or(&"")
                    .split(',')
                    .filter_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        Some((u16::from_str_radix(k.trim_start_matches("0x"), 16).ok()?, v))
                    })
                    .collect();
                Some(Stm32Family {
                    dev_id,
                    family: c.get(1)?,
                    target_cfg: c.get(2)?,
                    core: c.get(3)?,
                    revisions,
                })
            })
            .collect()
    })
}

pub fn families() -> &'static [Stm32Family] {
    table()
}

pub fn family(dev_id: u16) -> Option<&'static Stm32Family> {
    table().iter().find(|f| f.dev_id == dev_id)
}

/// A decoded DBGMCU_IDCODE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stm32DevId {
    pub dev_id: u16,
    /// Bits 15..12 are reserved; kept for the round trip.
    pub reserved: u8,
    pub rev_id: u16,
}

impl Stm32DevId {
    pub fn decode(raw: u32) -> Stm32DevId {
        Stm32DevId {
            dev_id: (raw & 0xfff) as u16,
            reserved: ((raw >> 12) & 0xf) as u8,
            rev_id: (raw >> 16) as u16,
        }
    }

    pub fn encode(&self) -> u32 {
        (u32::from(self.rev_id) << 16)
            | (u32::from(self.reserved & 0xf) << 12)
            | u32::from(self.dev_id & 0xfff)
    }

    pub fn family(&self) -> Option<&'static Stm32Family> {
        family(self.dev_id)
    }

    /// The revision letter OpenOCD prints, if it knows one.
    pub fn revision(&self) -> Option<&'static str> {
        self.family()?
            .revisions
            .iter()
            .find(|(r, _)| *r == self.rev_id)
            .map(|(_, l)| *l)
    }

    /// GigaDevice parts that answer with an STM32F1 DEV_ID but their own
    /// REV_ID (OpenOCD 0.12 stm32f1x.c special-cases these).
    pub fn gigadevice_variant(&self) -> Option<&'static str> {
        if self.dev_id != 0x410 {
            return None;
        }
        match self.rev_id {
            0x1303 => Some("GD32F1x0"),
            0x1704 => Some("GD32F3x0"),
            0x1906 => Some("GD32VF103"),
            0x1909 => Some("GD32E23x"),
            _ => None,
        }
    }
}
