//! A card's raw machine-readable zone as the store lays it out (format 3's tail): the side,
//! each row's text with its per-character confidences, and the repaired positions.

use idreview_protocol::{RawZone, ZoneRow};
use serde::{Deserialize, Serialize};

use super::super::{Seq, SideCode, ToStored};

#[derive(Serialize)]
pub(in crate::store) struct ZoneOut<'a> {
    side: SideCode,
    rows: Seq<'a, ZoneRow>,
    repaired: &'a [(u32, u32)],
}

#[derive(Deserialize)]
pub(super) struct ZoneIn {
    side: SideCode,
    rows: Vec<ZoneRowIn>,
    repaired: Vec<(u32, u32)>,
}

impl ToStored for RawZone {
    type Out<'a> = ZoneOut<'a>;
    fn stored(&self) -> ZoneOut<'_> {
        ZoneOut {
            side: self.side.into(),
            rows: Seq(&self.rows),
            repaired: &self.repaired,
        }
    }
}

impl From<ZoneIn> for RawZone {
    fn from(z: ZoneIn) -> RawZone {
        RawZone {
            side: z.side.into(),
            rows: z.rows.into_iter().map(Into::into).collect(),
            repaired: z.repaired,
        }
    }
}

#[derive(Serialize)]
pub(in crate::store) struct ZoneRowOut<'a> {
    text: &'a str,
    confidences: &'a [f32],
}

#[derive(Deserialize)]
struct ZoneRowIn {
    text: String,
    confidences: Vec<f32>,
}

impl ToStored for ZoneRow {
    type Out<'a> = ZoneRowOut<'a>;
    fn stored(&self) -> ZoneRowOut<'_> {
        ZoneRowOut {
            text: &self.text,
            confidences: &self.confidences,
        }
    }
}

impl From<ZoneRowIn> for ZoneRow {
    fn from(r: ZoneRowIn) -> ZoneRow {
        ZoneRow {
            text: r.text,
            confidences: r.confidences,
        }
    }
}
