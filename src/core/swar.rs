//! Eight bytes at a time: which bytes of a word the scanners stop at, so runs of plain bytes
//! (a topic looked over for wildcards, JSON string content) are passed over a word at a time.
//! Exact: no carry crosses from one byte into the next.

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(w)
}

/// Bit 7 of each zero byte of `x`.
fn zero_bytes(x: u64) -> u64 {
    // A byte's low seven bits plus 0x7f set bit 7 unless they are zero; x itself sets it for a
    // byte with bit 7.
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The bytes of the first eight of `bytes` equal to `c`: bit 7 of each such byte set.
pub fn equal(bytes: &[u8], c: u8) -> u64 {
    zero_bytes(word(bytes) ^ (c as u64 * 0x0101_0101_0101_0101))
}

/// The bytes of the first eight of `bytes` a JSON string's plain content stops at: the quote,
/// the backslash, control characters and non-ASCII bytes.
pub fn json_string_stops(bytes: &[u8]) -> u64 {
    let x = word(bytes);
    // Below 0x20: the low seven bits plus 0x60 stay under 0x80.
    let control = !((x & LOW7) + 0x6060_6060_6060_6060) & HIGH;
    let q = 0x0101_0101_0101_0101;
    (x & HIGH) | control | zero_bytes(x ^ (b'"' as u64 * q)) | zero_bytes(x ^ (b'\\' as u64 * q))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value in every position, against the plain definitions.
    #[test]
    fn exact_for_every_byte() {
        for v in 0..=255u8 {
            for pos in 0..8 {
                for fill in [b'a', 0x00, 0xff, b'/', 0x7f, 0x20, 0x1f] {
                    let mut w = [fill; 8];
                    w[pos] = v;
                    let want = |f: &dyn Fn(u8) -> bool| {
                        w.iter()
                            .enumerate()
                            .filter(|(_, b)| f(**b))
                            .fold(0u64, |m, (i, _)| m | 0x80 << (8 * i))
                    };
                    assert_eq!(equal(&w, b'/'), want(&|b| b == b'/'), "{w:?}");
                    let stop = |b: u8| !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\';
                    assert_eq!(json_string_stops(&w), want(&stop), "{w:?}");
                }
            }
        }
    }
}
