use super::*;

#[test]
fn shipped_config_file_parses_to_the_defaults() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config.toml");
    let loaded = Config::load(Some(&shipped)).expect("shipped config.toml parses");
    let expected = Config {
        console: loaded.console.clone(),
        ..Config::default()
    };
    assert_eq!(
        loaded, expected,
        "config.toml must document the defaults, not change them"
    );
}

#[test]
fn unknown_keys_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[inbox]\nrescan_sec = 3\n").expect("write");
    let err = Config::load(Some(&file)).expect_err("typo refused");
    assert!(err.to_string().contains("rescan_sec"), "{err}");
}
