//! Reused documents and four eyes in the real console (tmux, 80x24 and 200x50) against the real
//! daemon: a card whose file is on another user's card carries a red `!` in the list's first
//! column and "reused document" in its `needs` column, and after a first approval under four
//! eyes the list says `approval 1/2 by <person>`, as does the opened card.

use std::time::Duration;

use idreview_protocol::{DecideRequest, Decision, RpcError};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::tmux::Tmux;
use idreview_tests::{Daemon, any_version, binary, card_of, wait_for};
use tarpc::context;

const WAIT: Duration = Duration::from_secs(30);

/// The screen line that shows `text`.
fn line_with<'a>(screen: &'a str, text: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line with {text:?}:\n{screen}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_document_is_marked_red_and_a_first_approval_shows_as_pending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start_with(dir.path(), &[("IDREVIEW__REVIEW__FOUR_EYES", "true")]).await;
    let client = daemon.client().await;
    let front = jpeg(1000, 700);
    for user in ["erin", "finn"] {
        write_submission(
            &daemon.inbox(),
            user,
            Some(&manifest(user, "passport")),
            &[("front.jpg", front.clone())],
        );
        wait_for(WAIT, "the card", || card_of(&client, user)).await;
    }
    let flagged = card_of(&client, "finn").await.expect("card");
    let first = card_of(&client, "erin").await.expect("card");
    assert!(flagged.is_duplicate());

    // The local admin (a person: their login name) gives the first approval.
    let request = DecideRequest {
        cards: vec![any_version(flagged.id)],
        decision: Decision::Approve,
        reason: "photo checked".into(),
        override_doubts: true,
    };
    let results = client
        .decide(context::current(), request)
        .await
        .expect("rpc");
    let Err(RpcError::SecondApprovalNeeded { person, .. }) = &results[0].result else {
        panic!("a first approval: {results:?}");
    };
    let pending = format!("approval 1/2 by {person}");

    for (width, height) in [(80, 24), (200, 50)] {
        let command = format!(
            "{} --data-dir {} --no-spawn",
            binary("idreview").display(),
            dir.path().display()
        );
        let tmux = Tmux::start_sized(&command, width, height);
        let screen = tmux.wait_for(&["rows 1-", &pending], dir.path());
        println!("--- {width}x{height} ---\n{screen}");
        let row = line_with(&screen, &pending);
        assert!(
            row.contains(&flagged.id.to_string()) && row.contains("finn"),
            "{row}"
        );
        assert!(
            !line_with(&screen, "erin").contains('!'),
            "the first card is no reuse"
        );
        // The mark: a red `!` before the card's id (SGR 31), nothing on the other card.
        let styled = tmux.screen_styled();
        let styled_row = line_with(&styled, "finn");
        let mark = styled_row.find('!').expect("a mark");
        let before = &styled_row[..mark];
        assert!(
            before.contains("31m") || before.contains(";31"),
            "red: {styled_row:?}"
        );
        assert!(!line_with(&styled, "erin").contains('!'));
        if width == 200 {
            assert!(row.contains("reused document"), "{row}");
            // The opened card says it in its title.
            tmux.keys(&["/"]);
            tmux.type_text(&format!("id:{}", flagged.id));
            tmux.keys(&["Enter"]);
            tmux.wait_for(&["filter: id:"], dir.path());
            tmux.keys(&["Enter"]);
            let screen = tmux.wait_for(
                &["reused document", &pending, "awaits a second reviewer"],
                dir.path(),
            );
            println!("--- card at {width}x{height} ---\n{screen}");
            assert!(
                screen.contains(&format!("card {}", first.id)),
                "the finding names the other card"
            );
        }
        drop(tmux);
    }
}
