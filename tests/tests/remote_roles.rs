//! Roles end to end: every RPC method checks the caller's role on the server, a submitter acts
//! only for its own user, and refused calls change nothing.

use std::time::Duration;

use idreview_protocol::{
    CardRef, DecideRequest, Decision, DocumentType, FieldCorrection, IdReviewClient, ListQuery,
    Role, RpcError, TokenSpec, UploadManifest,
};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::remote::TlsDaemon;
use idreview_tests::{any_version, card_of, wait_for};
use tarpc::context::current as ctx;

fn unit<T>(r: Result<T, RpcError>) -> Result<(), RpcError> {
    r.map(|_| ())
}

/// Every method, called as `client`: which were refused as forbidden.
async fn forbidden_methods(
    client: &IdReviewClient,
    own: &str,
    other: CardRef,
) -> Vec<&'static str> {
    let forbidden = |r: Result<(), RpcError>| matches!(r, Err(RpcError::Forbidden(_)));
    let mut out = Vec::new();
    let mut check = |name: &'static str, refused: bool| {
        if refused {
            out.push(name);
        }
    };
    check(
        "list_cards",
        forbidden(unit(
            client
                .list_cards(ctx(), ListQuery::default())
                .await
                .expect("rpc"),
        )),
    );
    check(
        "get_card",
        forbidden(unit(client.get_card(ctx(), other.id).await.expect("rpc"))),
    );
    check(
        "card_for_user(other)",
        forbidden(unit(
            client
                .card_for_user(ctx(), "tom".into())
                .await
                .expect("rpc"),
        )),
    );
    check(
        "card_for_user(own)",
        forbidden(unit(
            client.card_for_user(ctx(), own.into()).await.expect("rpc"),
        )),
    );
    check(
        "onboarding_stage(other)",
        forbidden(unit(
            client
                .onboarding_stage(ctx(), "tom".into())
                .await
                .expect("rpc"),
        )),
    );
    let request = DecideRequest {
        cards: vec![other],
        decision: Decision::Reject,
        reason: "test".into(),
        override_doubts: false,
    };
    let results = client.decide(ctx(), request).await.expect("rpc");
    check("decide", forbidden(unit(results[0].result.clone())));
    let results = client
        .set_verified(ctx(), vec![other], true)
        .await
        .expect("rpc");
    check("set_verified", forbidden(unit(results[0].result.clone())));
    let fix = vec![FieldCorrection {
        name: "surname".into(),
        value: "X".into(),
    }];
    check(
        "correct_fields",
        forbidden(unit(
            client
                .correct_fields(ctx(), other, fix.clone())
                .await
                .expect("rpc"),
        )),
    );
    check(
        "confirm_card(other)",
        forbidden(unit(
            client.confirm_card(ctx(), other, fix).await.expect("rpc"),
        )),
    );
    check(
        "audit_events",
        forbidden(unit(
            client.audit_events(ctx(), other.id).await.expect("rpc"),
        )),
    );
    let spec = TokenSpec {
        name: "x".into(),
        role: Role::Admin,
        expires_days: None,
        user_id: None,
        person: None,
    };
    check(
        "create_token",
        forbidden(unit(client.create_token(ctx(), spec).await.expect("rpc"))),
    );
    check(
        "list_tokens",
        forbidden(unit(client.list_tokens(ctx()).await.expect("rpc"))),
    );
    check(
        "revoke_token",
        forbidden(unit(
            client
                .revoke_token(ctx(), "none".into())
                .await
                .expect("rpc"),
        )),
    );
    check(
        "audit_export",
        forbidden(unit(client.audit_export(ctx(), 0, 10).await.expect("rpc"))),
    );
    let m = UploadManifest {
        user_id: "tom".into(),
        document_type: DocumentType::Passport,
        country: None,
    };
    check(
        "begin_upload(other)",
        forbidden(unit(client.begin_upload(ctx(), m).await.expect("rpc"))),
    );
    out
}

#[tokio::test]
async fn every_method_checks_the_role_on_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(dir.path(), &[]).await;
    let local = d.daemon.client().await;
    for user in ["sam", "tom"] {
        write_submission(
            &d.daemon.inbox(),
            user,
            Some(&manifest(user, "passport")),
            &[("front.jpg", jpeg(1000, 700))],
        );
    }
    let sam = wait_for(Duration::from_secs(20), "sam", || card_of(&local, "sam")).await;
    let tom = wait_for(Duration::from_secs(20), "tom", || card_of(&local, "tom")).await;
    let at = |c: &idreview_protocol::Card| CardRef {
        id: c.id,
        expected_version: Some(c.version + 100),
    };

    let tom_events = local
        .audit_events(ctx(), tom.id)
        .await
        .expect("rpc")
        .expect("audit")
        .len();
    let submitter = d
        .client(&d.token("sam-app", Role::Submitter, Some("sam")).await)
        .await;
    let refused = forbidden_methods(&submitter, "sam", at(&tom)).await;
    let mut expected = vec![
        "list_cards",
        "get_card",
        "card_for_user(other)",
        "onboarding_stage(other)",
        "decide",
        "set_verified",
        "correct_fields",
        "confirm_card(other)",
        "audit_events",
        "create_token",
        "list_tokens",
        "revoke_token",
        "audit_export",
        "begin_upload(other)",
    ];
    assert_eq!(refused, expected, "submitter");
    let own = submitter
        .card_for_user(ctx(), "sam".into())
        .await
        .expect("rpc")
        .expect("own card");
    assert_eq!(own.map(|c| c.id), Some(sam.id));

    let reviewer = d.client(&d.token("rev", Role::Reviewer, None).await).await;
    let refused = forbidden_methods(&reviewer, "sam", at(&tom)).await;
    expected = vec![
        "create_token",
        "list_tokens",
        "revoke_token",
        "audit_export",
    ];
    assert_eq!(refused, expected, "reviewer");

    let admin = d.client(&d.token("boss", Role::Admin, None).await).await;
    assert_eq!(
        forbidden_methods(&admin, "sam", at(&tom)).await,
        Vec::<&str>::new(),
        "admin"
    );

    // Nothing the refused calls named changed (the admin's calls were stale-version conflicts).
    let after = local
        .get_card(ctx(), tom.id)
        .await
        .expect("rpc")
        .expect("card");
    assert_eq!(after.version, tom.version);
    let events = local
        .audit_events(ctx(), tom.id)
        .await
        .expect("rpc")
        .expect("audit");
    assert_eq!(events.len(), tom_events, "{events:?}");

    // A reviewer's decision is audited with its identity.
    let results = reviewer
        .decide(
            ctx(),
            DecideRequest {
                cards: vec![any_version(sam.id)],
                decision: Decision::Approve,
                reason: "ok".into(),
                override_doubts: false,
            },
        )
        .await
        .expect("rpc");
    assert!(results[0].result.is_ok(), "{results:?}");
    let events = local
        .audit_events(ctx(), sam.id)
        .await
        .expect("rpc")
        .expect("audit");
    assert_eq!(
        events.last().map(|e| (e.actor.as_str(), e.action.as_str())),
        Some(("token:rev", "card.approved"))
    );
}
