//! JPEG integrity without the pixels: the marker walk that finds a cut-off file, and an entropy
//! decode at 1/8 scale (`jpeg-decoder`'s DCT scaling) that finds corrupt scans. Entropy decoding
//! reads every Huffman code of every block, so damaged scan data, tables or markers fail here as
//! in a full decode; what the full decode adds (the inverse DCT at full size and the colour
//! conversion) is arithmetic on coefficients that were read cleanly, which cannot fail.

use super::images::TRUNCATED;

/// Decodes the scans at 1/8 scale and checks that the frame is the size the header declared
/// (`declared`, as read for the bomb check). `max_decode_bytes` bounds the decoder's output.
pub(super) fn entropy_check(
    data: &[u8],
    declared: (u32, u32),
    max_decode_bytes: u64,
) -> Result<(), String> {
    let mut decoder = jpeg_decoder::Decoder::new(data);
    decoder.set_max_decoding_buffer_size(usize::try_from(max_decode_bytes).unwrap_or(usize::MAX));
    decoder.read_info().map_err(|e| e.to_string())?;
    let info = decoder
        .info()
        .ok_or_else(|| "the JPEG has no frame header".to_string())?;
    let frame = (u32::from(info.width), u32::from(info.height));
    if frame != declared {
        return Err(format!(
            "its header reads as {}x{} one way and {}x{} another",
            declared.0, declared.1, frame.0, frame.1
        ));
    }
    // The smallest scale: each 8x8 block becomes one pixel, from its DC coefficient alone.
    decoder.scale(1, 1).map_err(|e| e.to_string())?;
    decoder.decode().map_err(|e| e.to_string())?;
    Ok(())
}

/// Walks the JPEG marker segments and entropy-coded scans until the end-of-image marker, so data
/// appended after it by some cameras is fine but a cut-off file is not.
pub(super) fn complete(data: &[u8]) -> Result<(), &'static str> {
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
        pos += len;
        if pos > data.len() {
            return Err(TRUNCATED);
        }
        if code == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart.
            loop {
                let at = data.get(pos..).ok_or(TRUNCATED)?;
                let ff = at.iter().position(|&b| b == 0xFF).ok_or(TRUNCATED)?;
                pos += ff;
                match data.get(pos + 1) {
                    None => return Err(TRUNCATED),
                    Some(0x00 | 0xD0..=0xD7) => pos += 2,
                    Some(0xFF) => pos += 1,
                    Some(_) => break,
                }
            }
        }
    }
}
