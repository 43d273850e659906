//! The console's RPC worker against the real daemon: requests go in, actions come out, over the
//! real handshake on the daemon's socket, with real cards and the real service's errors.

use std::time::Duration;

use idreview_protocol::transport::connect_unix;
use idreview_protocol::{CardId, ListQuery};
use idreview_tests::{Daemon, fill};
use idreview_tui::message::{Action, Request};
use idreview_tui::rpc::{Endpoint, spawn_worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_worker_answers_requests_with_actions() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 40, "worker");
    let daemon = Daemon::start(dir.path()).await;
    let (client, welcome) = connect_unix(&daemon.socket(), None).await.expect("connect");
    let endpoint = Endpoint {
        socket: daemon.socket(),
        data_dir: daemon.data_dir.clone(),
        token: None,
        timeout: Duration::from_secs(5),
        remote: None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let worker = spawn_worker(endpoint, None, tx);
    let query = ListQuery {
        offset: 10,
        limit: 20,
        ..ListQuery::default()
    };
    let expected = client
        .list_cards(tarpc::context::current(), query.clone())
        .await
        .expect("rpc")
        .expect("lists");
    worker.send(Request::List(query.clone()));
    worker.send(Request::Card(CardId(99999)));
    let mut seen = (false, false, false);
    while let Ok(Some(action)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        match action {
            Action::Connected(w) => seen.0 = w.identity == welcome.identity,
            Action::PageLoaded {
                query: q,
                result: Ok(page),
            } => {
                seen.1 = q == query
                    && page.offset == 10
                    && page.cards.len() == 20
                    && page.cards == expected.cards;
            }
            Action::CardLoaded { result: Err(e), .. } => {
                seen.2 = e.to_string() == "card 99999 not found";
            }
            other => panic!("unexpected {other:?}"),
        }
        if seen == (true, true, true) {
            return;
        }
    }
    panic!("missing answers: {seen:?}");
}
