//! Just enough DER to tell which algorithm a PKCS#8 or SubjectPublicKeyInfo structure names,
//! and to write the Ed25519 forms (RFC 8410).

/// DER of the Ed25519 algorithm OID 1.3.101.112.
const ED25519_OID: &[u8] = &[0x2b, 0x65, 0x70];
/// Everything of an Ed25519 SubjectPublicKeyInfo before the 32 key bytes.
pub(crate) const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
/// Everything of a PKCS#8 v1 Ed25519 private key before the 32 seed bytes.
pub(crate) const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Reads one TLV; returns (tag, content, rest).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (len_bytes, rest) = (rest.get(..n)?, rest.get(n..)?);
        (
            len_bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
            rest,
        )
    };
    Some((tag, rest.get(..len)?, rest.get(len..)?))
}

/// The algorithm OID content of an `AlgorithmIdentifier` SEQUENCE.
fn algorithm_oid(alg_seq: &[u8]) -> Option<&[u8]> {
    let (tag, oid, _) = tlv(alg_seq)?;
    (tag == 0x06).then_some(oid)
}

/// What a DER key structure is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeyAlgorithm {
    /// Well formed, Ed25519.
    Ed25519,
    /// Well formed, another algorithm.
    Other,
}

/// The algorithm of a PKCS#8 `PrivateKeyInfo`/`OneAsymmetricKey`, or `None` if malformed.
pub(crate) fn pkcs8_algorithm(der: &[u8]) -> Option<KeyAlgorithm> {
    let (0x30, body, _) = tlv(der)? else {
        return None;
    };
    let (0x02, _version, rest) = tlv(body)? else {
        return None;
    };
    let (0x30, alg, _) = tlv(rest)? else {
        return None;
    };
    Some(if algorithm_oid(alg)? == ED25519_OID {
        KeyAlgorithm::Ed25519
    } else {
        KeyAlgorithm::Other
    })
}

/// The raw Ed25519 public key of a SubjectPublicKeyInfo, or the algorithm it names instead.
pub(crate) fn spki_ed25519(der: &[u8]) -> Result<[u8; 32], Option<KeyAlgorithm>> {
    if let Some(key) = der.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
        return <[u8; 32]>::try_from(key).map_err(|_| None);
    }
    let parsed = (|| {
        let (0x30, body, _) = tlv(der)? else {
            return None;
        };
        let (0x30, alg, rest) = tlv(body)? else {
            return None;
        };
        let (0x03, _bits, _) = tlv(rest)? else {
            return None;
        };
        algorithm_oid(alg)
    })();
    match parsed {
        Some(oid) if oid != ED25519_OID => Err(Some(KeyAlgorithm::Other)),
        _ => Err(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_algorithms() {
        let mut v1 = ED25519_PKCS8_V1_PREFIX.to_vec();
        v1.extend_from_slice(&[7; 32]);
        assert_eq!(pkcs8_algorithm(&v1), Some(KeyAlgorithm::Ed25519));
        assert_eq!(pkcs8_algorithm(&[0, 0, 0]), None);
        // An EC key's PrivateKeyInfo header (OID 1.2.840.10045.2.1).
        let ec = [
            0x30, 0x0e, 0x02, 0x01, 0x00, 0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
            0x02, 0x01,
        ];
        assert_eq!(pkcs8_algorithm(&ec), Some(KeyAlgorithm::Other));
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(&[9; 32]);
        assert_eq!(spki_ed25519(&spki), Ok([9; 32]));
        assert_eq!(spki_ed25519(&spki[..40]), Err(None));
        assert_eq!(spki_ed25519(b"junk"), Err(None));
    }
}
