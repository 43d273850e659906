//! Version skew against the real daemon: a console that speaks one protocol version more than
//! the daemon is welcomed at the daemon's version and served; a console whose range misses the
//! daemon's, newer or older (including a protocol 10 console, whose hello is a single
//! version), is refused with both ranges and the side to upgrade.

use idreview_protocol::transport::{self, Hello, HelloReply};
use idreview_protocol::version::{SPOKEN, Versions};
use idreview_protocol::{OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION};
use idreview_tests::Daemon;
use tarpc::context::current as ctx;
use tokio::net::UnixStream;

/// The daemon's answer to a hello claiming `oldest..=newest`, on a stream left open.
async fn hello(daemon: &Daemon, oldest: u32, newest: u32) -> (UnixStream, HelloReply) {
    let mut stream = UnixStream::connect(daemon.socket()).await.expect("socket");
    let hello = Hello {
        protocol_version: newest,
        token: None,
        client: format!("idreview speaking {oldest} to {newest}"),
        oldest_protocol_version: oldest,
    };
    transport::write_message(&mut stream, &hello)
        .await
        .expect("send");
    let reply = transport::read_reply(&mut stream).await.expect("reply");
    (stream, reply)
}

fn refusal(reply: HelloReply) -> String {
    match reply {
        HelloReply::Refused(why) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_console_one_version_newer_is_served_and_one_outside_the_range_is_told_what_to_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path()).await;

    // One version above the daemon, still speaking the daemon's: welcomed at the daemon's.
    let (stream, reply) = hello(&daemon, PROTOCOL_VERSION, PROTOCOL_VERSION + 1).await;
    let HelloReply::Welcome(welcome) = reply else {
        panic!("expected a welcome, got {reply:?}");
    };
    assert_eq!(welcome.protocol_version, PROTOCOL_VERSION);
    assert_eq!(welcome.daemon_speaks, SPOKEN);
    // It works, and what the newer console has beyond the daemon it does not call.
    let client = transport::client_on(stream);
    let health = client.health(ctx()).await.expect("served");
    assert_eq!(health.protocol_version, PROTOCOL_VERSION);
    let why = welcome
        .require(PROTOCOL_VERSION + 1, "saved views")
        .expect_err("the daemon is older");
    assert!(
        why.contains(&format!(
            "saved views needs protocol {}",
            PROTOCOL_VERSION + 1
        )) && why.contains("upgrade idreviewd"),
        "{why}"
    );

    // A console that no longer speaks the daemon's version: upgrade the daemon.
    let newer = Versions {
        oldest: PROTOCOL_VERSION + 1,
        newest: PROTOCOL_VERSION + 2,
    };
    let why = refusal(hello(&daemon, newer.oldest, newer.newest).await.1);
    assert_eq!(
        why,
        format!(
            "idreview (the console) speaks {newer}, idreviewd (the daemon) speaks {SPOKEN}: \
             upgrade idreviewd to a release that speaks protocol {}",
            newer.oldest
        )
    );

    // A console of protocol 10 sends the old hello, one version and no range: upgrade it.
    let mut stream = UnixStream::connect(daemon.socket()).await.expect("socket");
    let old_hello = (
        OLDEST_PROTOCOL_VERSION - 1,
        None::<String>,
        "idreview 0.0.10",
    );
    transport::write_message(&mut stream, &old_hello)
        .await
        .expect("send");
    let why = refusal(transport::read_reply(&mut stream).await.expect("reply"));
    assert!(
        why.contains(&format!(
            "the console) speaks protocol {}",
            OLDEST_PROTOCOL_VERSION - 1
        )) && why.ends_with(&format!(
            "upgrade idreview to a release that speaks protocol {OLDEST_PROTOCOL_VERSION}"
        )),
        "{why}"
    );
}
