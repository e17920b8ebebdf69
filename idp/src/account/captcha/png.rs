//! A minimal PNG encoder for the captcha image (issue #13, item 7): 8-bit palette pixels, no
//! compression. The image is small (200 × 70, about 14 KB), so the zlib stream is made of
//! *stored* deflate blocks (RFC 1951 §3.2.4) rather than bringing a compression crate; every
//! decoder reads them. Layout: signature, IHDR, PLTE, IDAT, IEND, each chunk with its CRC-32
//! (PNG spec §5.3, ISO 3309 polynomial), the zlib stream ending in its Adler-32 (RFC 1950).

/// The 8-byte PNG signature (PNG spec §5.2).
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Encodes `pixels` (`width × height` palette indices, row by row) with `palette` (RGB).
/// Returns `None` when the sizes do not match or the palette is empty or over 256 colours.
pub fn encode_indexed(width: u32, height: u32, palette: &[[u8; 3]], pixels: &[u8]) -> Option<Vec<u8>> {
    let row = usize::try_from(width).ok()?;
    let rows = usize::try_from(height).ok()?;
    if row == 0 || rows == 0 || row.checked_mul(rows)? != pixels.len() || palette.is_empty() || palette.len() > 256 {
        return None;
    }
    if pixels.iter().any(|&i| usize::from(i) >= palette.len()) {
        return None;
    }
    let mut png = SIGNATURE.to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 3 (indexed), deflate, adaptive filtering, no interlace (§11.2.2).
    ihdr.extend_from_slice(&[8, 3, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"PLTE", &palette.concat());
    // Each scanline starts with its filter type, 0 (none) here (§7.2).
    let mut raw = Vec::with_capacity(pixels.len() + rows);
    for line in pixels.chunks(row) {
        raw.push(0);
        raw.extend_from_slice(line);
    }
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    Some(png)
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Chunks here are far below 2^31 bytes (the spec's limit).
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4), at most 65 535 bytes each.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    // CMF 0x78: deflate, 32 KB window; FLG 0x01 makes CMF·256 + FLG a multiple of 31.
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(usize::from(u16::MAX)).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        // BFINAL on the last block, BTYPE 00; then LEN and its one's complement, little-endian.
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// CRC-32 as PNG and zlib define it (reflected, polynomial 0xEDB88320).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Adler-32 (RFC 1950 §8.2).
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % MOD;
        b = (b + a) % MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A parsed chunk: type and data; `parse` has checked its CRC.
    pub(in crate::account::captcha) struct Chunk {
        pub kind: [u8; 4],
        pub data: Vec<u8>,
    }

    /// Splits a PNG into chunks, checking the signature and each CRC.
    pub(in crate::account::captcha) fn parse(png: &[u8]) -> Vec<Chunk> {
        assert_eq!(png[..8], SIGNATURE, "PNG signature");
        let mut chunks = Vec::new();
        let mut at = 8;
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let body = &png[at + 4..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32(body), "CRC of chunk {:?}", String::from_utf8_lossy(&body[..4]));
            chunks.push(Chunk { kind: body[..4].try_into().unwrap(), data: body[4..].to_vec() });
            at += 12 + len;
        }
        assert_eq!(at, png.len(), "nothing after the last chunk");
        chunks
    }

    /// Decodes a zlib stream of stored blocks, checking its header and Adler-32.
    pub(in crate::account::captcha) fn inflate_stored(z: &[u8]) -> Vec<u8> {
        assert_eq!((u16::from(z[0]) << 8 | u16::from(z[1])) % 31, 0, "zlib header check");
        assert_eq!(z[0] & 0x0f, 8, "deflate");
        let mut out = Vec::new();
        let mut at = 2;
        loop {
            let header = z[at];
            assert_eq!(header >> 1, 0, "a stored block");
            let len = u16::from_le_bytes([z[at + 1], z[at + 2]]);
            let nlen = u16::from_le_bytes([z[at + 3], z[at + 4]]);
            assert_eq!(len, !nlen, "LEN and NLEN agree");
            out.extend_from_slice(&z[at + 5..at + 5 + usize::from(len)]);
            at += 5 + usize::from(len);
            if header & 1 == 1 {
                break;
            }
        }
        assert_eq!(z[at..], adler32(&out).to_be_bytes(), "Adler-32 ends the stream");
        out
    }

    #[test]
    fn crc32_and_adler32_match_known_vectors() {
        // The check values of CRC-32/ISO-HDLC and of Adler-32 ("Wikipedia" is RFC 1950's example).
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"IEND"), 0xae42_6082, "every PNG ends with this CRC");
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn a_small_image_round_trips_through_the_chunks_and_the_zlib_stream() {
        let palette = [[0, 0, 0], [255, 255, 255], [200, 10, 10]];
        let pixels = [0, 1, 2, 2, 1, 0];
        let png = encode_indexed(3, 2, &palette, &pixels).unwrap();

        let chunks = parse(&png);
        let kinds: Vec<&[u8]> = chunks.iter().map(|c| &c.kind[..]).collect();
        assert_eq!(kinds, [&b"IHDR"[..], b"PLTE", b"IDAT", b"IEND"]);
        assert_eq!(chunks[0].data, [0, 0, 0, 3, 0, 0, 0, 2, 8, 3, 0, 0, 0]);
        assert_eq!(chunks[1].data, [0, 0, 0, 255, 255, 255, 200, 10, 10]);
        assert_eq!(inflate_stored(&chunks[2].data), [0, 0, 1, 2, 0, 2, 1, 0], "filter byte 0, then the row");
        assert!(chunks[3].data.is_empty());
    }

    #[test]
    fn data_over_one_stored_block_is_split_and_still_decodes() {
        let data: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        let z = zlib_stored(&data);
        assert_eq!(z.len(), 2 + 3 * 5 + data.len() + 4, "three blocks");
        assert_eq!(inflate_stored(&z), data);
        assert_eq!(inflate_stored(&zlib_stored(&[])), Vec::<u8>::new());
    }

    #[test]
    fn mismatched_sizes_or_palette_indices_are_refused() {
        let palette = [[0, 0, 0], [255, 255, 255]];
        assert!(encode_indexed(2, 2, &palette, &[0, 1, 0]).is_none(), "too few pixels");
        assert!(encode_indexed(0, 0, &palette, &[]).is_none(), "empty image");
        assert!(encode_indexed(1, 1, &palette, &[2]).is_none(), "index outside the palette");
        assert!(encode_indexed(1, 1, &[], &[0]).is_none(), "no palette");
    }
}
