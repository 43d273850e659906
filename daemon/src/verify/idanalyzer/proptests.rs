//! Property tests of the ID Analyzer answer parsing: any body with any status is an answer or
//! a typed failure, never a panic; every field of a well-formed answer is read with all its
//! candidates, the best first, confidences within 0..=1.

use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::interpret;

/// Arbitrary JSON, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|f| json!(f)),
        any::<i64>().prop_map(|i| json!(i)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("data".to_string()),
                    Just("warning".to_string()),
                    Just("error".to_string()),
                    Just("decision".to_string()),
                    Just("success".to_string()),
                    Just("value".to_string()),
                    Just("confidence".to_string()),
                    Just("inputBox".to_string()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn any_status() -> impl Strategy<Value = StatusCode> {
    (100u16..600).prop_map(|s| StatusCode::from_u16(s).expect("in range"))
}

proptest! {
    #[test]
    fn any_bytes_are_an_answer_or_a_failure(status in any_status(), body in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(answer) = interpret(status, &body) {
            let _ = (answer.fields(), answer.verdict());
        }
    }

    #[test]
    fn any_json_is_an_answer_or_a_failure(status in any_status(), body in any_json()) {
        let bytes = serde_json::to_vec(&body).expect("encode");
        if let Ok(answer) = interpret(status, &bytes) {
            prop_assert!(status.is_success());
            for field in answer.fields() {
                prop_assert!((0.0..=1.0).contains(&field.confidence));
                prop_assert!(!field.candidates.is_empty());
            }
            prop_assert!(["accept", "review", "reject"].contains(&answer.verdict().decision.as_str()));
        }
    }

    #[test]
    fn every_candidate_of_a_well_formed_answer_is_kept(
        fields in proptest::collection::btree_map("[a-z][a-zA-Z0-9]{0,10}", proptest::collection::vec(("[A-Z0-9<]{1,12}", 0.0f32..=1.0), 1..4), 1..8),
    ) {
        let data: serde_json::Map<String, Value> = fields
            .iter()
            .map(|(name, candidates)| {
                let list = candidates
                    .iter()
                    .map(|(value, confidence)| json!({"value": value, "confidence": confidence, "source": "visual", "index": 0}))
                    .collect();
                (name.clone(), Value::Array(list))
            })
            .collect();
        let body = json!({"success": true, "data": data, "decision": "review"});
        let answer = interpret(StatusCode::OK, &serde_json::to_vec(&body).expect("encode")).expect("answer");
        let read = answer.fields();
        prop_assert_eq!(read.len(), fields.len());
        for field in read {
            let (_, sent) = fields
                .iter()
                .find(|(name, _)| super::super::idanalyzer_wire::canonical_name(name) == field.name)
                .expect("a field we sent");
            prop_assert_eq!(field.candidates.len(), sent.len());
            let best = sent.iter().map(|(_, c)| *c).fold(f32::MIN, f32::max);
            prop_assert_eq!(field.confidence, best);
        }
    }
}
