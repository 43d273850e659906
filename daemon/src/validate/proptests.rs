//! Property tests of the intake parsers: the manifest reader and the media sniffers and checks
//! never panic on arbitrary input, answer with known rule names, and read back what a valid
//! manifest says.

use idreview_protocol::card::DocumentType;
use proptest::prelude::*;

use super::images::check_image;
use super::manifest::parse_manifest;
use super::sniff::{Class, HEAD_LEN, Sniffed, sniff};
use super::video::check_video;
use crate::config::ValidationConfig;

/// Rule names the content checks may answer with.
const CONTENT_RULES: &[&str] = &[
    "image_corrupt",
    "image_too_small",
    "decompression_bomb",
    "video_corrupt",
    "file_type",
];

/// Magic numbers of every format the sniffer knows, each followed by arbitrary bytes.
fn with_magic() -> impl Strategy<Value = Vec<u8>> {
    let magics: Vec<Vec<u8>> = vec![
        vec![0xFF, 0xD8, 0xFF],
        b"\x89PNG\r\n\x1a\n".to_vec(),
        b"GIF89a".to_vec(),
        b"RIFF\0\0\0\0WEBPVP8 ".to_vec(),
        b"RIFF\0\0\0\0AVI LIST".to_vec(),
        b"\0\0\0\x18ftypisom".to_vec(),
        b"\0\0\0\x14ftypqt  ".to_vec(),
        vec![0x1A, 0x45, 0xDF, 0xA3],
    ];
    (
        proptest::sample::select(magics),
        proptest::collection::vec(any::<u8>(), 0..2048),
    )
        .prop_map(|(mut magic, tail)| {
            magic.extend(tail);
            magic
        })
}

proptest! {
    #[test]
    fn any_text_is_a_manifest_or_a_named_rejection(text in "\\PC{0,200}") {
        if let Err(r) = parse_manifest(&text) {
            prop_assert!(["manifest_malformed", "unknown_document_type"].contains(&r.rule));
        }
    }

    #[test]
    fn toml_like_text_never_panics(text in "(user_id|document_type|country|\\[|\\]|=|\"|'|\n| |é|\\\\|[a-z]){0,80}") {
        let _ = parse_manifest(&text);
    }

    #[test]
    fn a_valid_manifest_reads_back(
        user in "[A-Za-z0-9._@+-]{1,128}",
        doc in proptest::sample::select(DocumentType::ALL.to_vec()),
        country in proptest::option::of(proptest::sample::select(vec![
            "DE", "deu", "D", "d", "GBN", "fr", "FRA", "XXA", "UNO", "us",
        ])),
    ) {
        let mut text = format!("user_id = {user:?}\ndocument_type = \"{}\"\n", doc.as_str());
        if let Some(c) = &country {
            text.push_str(&format!("country = {c:?}\n"));
        }
        let m = parse_manifest(&text).expect("a valid manifest");
        prop_assert_eq!(m.user_id, user);
        prop_assert_eq!(m.document_type, doc);
        prop_assert_eq!(m.country, country.map(|c| c.to_ascii_uppercase()));
    }

    #[test]
    fn sniffing_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let kind = sniff(&bytes);
        // Only the head decides.
        prop_assert_eq!(kind, sniff(&bytes[..bytes.len().min(HEAD_LEN)]));
    }

    #[test]
    fn content_checks_answer_with_a_rule_never_a_panic(data in with_magic()) {
        let limits = ValidationConfig::default();
        let kind = sniff(&data);
        let checked = match kind.class() {
            Class::Image => check_image("f", &data, kind, &limits, true).map(|_| ()),
            Class::Video => check_video("f", &data, kind),
            _ => Ok(()),
        };
        if let Err(r) = checked {
            prop_assert!(CONTENT_RULES.contains(&r.rule), "{}", r.rule);
        }
        prop_assert_ne!(kind, Sniffed::Unknown);
    }
}
