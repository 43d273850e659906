//! JPEG integrity without the pixels: the marker walk that finds a cut-off file, and an entropy
//! decode at 1/8 scale (libjpeg-turbo through `turbojpeg`) that finds corrupt scans. A 1/8-scale
//! decode still reads every Huffman code of every block of every scan up to the end-of-image
//! marker, so damaged scan data, tables or markers fail here as in a full decode; what the full
//! decode adds (the inverse DCT at full size, upsampling and colour conversion) is arithmetic on
//! coefficients that were read cleanly, which cannot fail. libjpeg-turbo's warnings on corrupt
//! data (a bad Huffman code, data missing at the end, extraneous bytes before a marker) are
//! errors here, as `turbojpeg` reports them.

use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat, ScalingFactor};

/// A progressive JPEG with more scans than this is refused (a scan can be a few bytes, and each
/// costs a pass over the image). The same cap as the full decode's (zune-jpeg's default).
const MAX_SCANS: u32 = 100;

pub(super) const TRUNCATED: &str = "the file ends early; it looks truncated";

/// Decodes the scans at 1/8 scale and checks that the frame is the size the header declared
/// (`declared`, as read for the bomb check, which has already bounded it).
pub(super) fn entropy_check(data: &[u8], declared: (u32, u32)) -> Result<(), String> {
    let describe = |e: turbojpeg::Error| e.to_string();
    let mut decoder = Decompressor::new().map_err(describe)?;
    decoder.set_scan_limit(MAX_SCANS).map_err(describe)?;
    let header = decoder.read_header(data).map_err(describe)?;
    let frame = (header.width, header.height);
    if frame != (declared.0 as usize, declared.1 as usize) {
        return Err(format!(
            "its header reads as {}x{} one way and {}x{} another",
            declared.0, declared.1, frame.0, frame.1
        ));
    }
    // The smallest scale: each 8x8 block becomes one pixel, from its DC coefficient alone. Grey
    // output converts no colour; CMYK has no conversion to grey, so it stays CMYK.
    let scale = ScalingFactor::ONE_EIGHTH;
    decoder.set_scaling_factor(scale).map_err(describe)?;
    let format = match header.colorspace {
        Colorspace::CMYK | Colorspace::YCCK => PixelFormat::CMYK,
        _ => PixelFormat::GRAY,
    };
    let scaled = header.scaled(scale);
    let mut pixels = vec![0; scaled.width * scaled.height * format.size()];
    let image = Image {
        pixels: pixels.as_mut_slice(),
        width: scaled.width,
        pitch: scaled.width * format.size(),
        height: scaled.height,
        format,
    };
    decoder.decompress(data, image).map_err(describe)
}

/// Walks the JPEG marker segments and entropy-coded scans until the end-of-image marker, so data
/// appended after it by some cameras is fine but a cut-off file is not. Each scan must use Huffman
/// tables the file defined before it: libjpeg-turbo would fall back to the standard tables (as
/// for Motion-JPEG frames), which the full decode never did.
pub(super) fn complete(data: &[u8]) -> Result<(), &'static str> {
    let mut tables = HuffmanTables::default();
    let mut pos = 2; // after SOI
    loop {
        // Marker: 0xFF, optional fill bytes, then the code.
        if *data.get(pos).ok_or(TRUNCATED)? != 0xFF {
            return Err("a JPEG segment is malformed");
        }
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let code = *data.get(pos).ok_or(TRUNCATED)?;
        pos += 1;
        match code {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let len_bytes = data.get(pos..pos + 2).ok_or(TRUNCATED)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            return Err("a JPEG segment has an impossible length");
        }
        let body = data.get(pos + 2..pos + len).ok_or(TRUNCATED)?;
        pos += len;
        match code {
            0xC4 => tables.define(body),
            0xDA => {
                tables.check_scan(body)?;
                pos = scan_end(data, pos)?;
            }
            _ => {}
        }
    }
}

/// Where a scan's entropy-coded data starting at `pos` ends: at the next marker that is not a
/// stuffed 0xFF00 or a restart.
fn scan_end(data: &[u8], mut pos: usize) -> Result<usize, &'static str> {
    loop {
        let at = data.get(pos..).ok_or(TRUNCATED)?;
        let ff = at.iter().position(|&b| b == 0xFF).ok_or(TRUNCATED)?;
        pos += ff;
        match data.get(pos + 1) {
            None => return Err(TRUNCATED),
            Some(0x00 | 0xD0..=0xD7) => pos += 2,
            Some(0xFF) => pos += 1,
            Some(_) => return Ok(pos),
        }
    }
}

/// Which Huffman tables (DC and AC, slots 0 to 3) the file has defined so far.
#[derive(Default)]
struct HuffmanTables {
    defined: [[bool; 4]; 2],
}

impl HuffmanTables {
    /// Records the tables of a DHT segment's body; a malformed one defines nothing more (the
    /// decoder refuses it).
    fn define(&mut self, mut body: &[u8]) {
        while let [class_slot, rest @ ..] = body {
            let (class, slot) = (usize::from(class_slot >> 4), usize::from(class_slot & 0x0F));
            let Some(counts) = rest.get(..16) else { return };
            let values: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let Some(next) = rest.get(16 + values..) else {
                return;
            };
            if let Some(defined) = self.defined.get_mut(class).and_then(|c| c.get_mut(slot)) {
                *defined = true;
            }
            body = next;
        }
    }

    /// A scan header's components must name defined tables: a DC table for a first DC scan or a
    /// sequential scan, an AC table for any scan with AC coefficients.
    fn check_scan(&self, body: &[u8]) -> Result<(), &'static str> {
        const MISSING: &str = "a scan uses a Huffman table the file does not define";
        let Some((&count, rest)) = body.split_first() else {
            return Ok(()); // malformed: the decoder refuses it
        };
        let components = usize::from(count);
        let (Some(selectors), Some(&[start, end, approx])) = (
            rest.get(..2 * components),
            rest.get(2 * components..2 * components + 3),
        ) else {
            return Ok(());
        };
        let needs_dc = start == 0 && approx >> 4 == 0;
        let needs_ac = end > 0;
        for pair in selectors.chunks_exact(2) {
            let (dc, ac) = (usize::from(pair[1] >> 4), usize::from(pair[1] & 0x0F));
            let has = |class: usize, slot: usize| self.defined[class].get(slot) == Some(&true);
            if (needs_dc && !has(0, dc)) || (needs_ac && !has(1, ac)) {
                return Err(MISSING);
            }
        }
        Ok(())
    }
}
