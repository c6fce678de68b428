//! Hex encoding and the two decoders the reference's verifiers imply.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes exactly `N` bytes of **lowercase** hex: what a string comparison against a lowercase
/// digest accepts (uppercase, whitespace, other lengths and non-ASCII give `None`).
pub(crate) fn decode_lower<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        if let [hi, lo] = pair {
            *o = (nibble(*hi)? << 4) | nibble(*lo)?;
        }
    }
    Some(out)
}

/// Decodes hex as Python's `bytes.fromhex` does: either case, ASCII whitespace allowed between
/// byte pairs (not inside one).
pub(crate) fn decode_lenient(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied()?;
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            i += 1;
            continue;
        }
        let hi = nibble(c)?;
        let lo = nibble(b.get(i + 1).copied()?)?;
        out.push((hi << 4) | lo);
        i += 2;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders() {
        assert_eq!(encode(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(decode_lower::<2>("abcd"), Some([0xab, 0xcd]));
        assert_eq!(decode_lower::<2>("ABCD"), None);
        assert_eq!(decode_lower::<2>("abc"), None);
        assert_eq!(decode_lower::<2>("ab\u{e9}"), None);
        assert_eq!(decode_lenient(" AB cd\n"), Some(vec![0xab, 0xcd]));
        assert_eq!(decode_lenient("a bcd"), None);
        assert_eq!(decode_lenient("abc"), None);
        assert_eq!(decode_lenient("zz"), None);
        assert_eq!(decode_lenient("\u{e9}"), None);
    }
}
