//! The `tarpc` service both ends compile against.

use crate::{
    AuditEvent, Card, CardId, CardPage, CardRef, Changes, DecideRequest, ErasureReport,
    ExportCursor, ExportHeader, ExportPage, FieldCorrection, Health, ItemResult, ListQuery,
    LowConfidencePage, NamedView, NewToken, OnboardingStage, RejectedPage, RpcError, Stats,
    StatsQuery, TokenInfo, TokenSpec, UploadManifest, ViewSpec,
};

/// The idreview daemon's RPC interface. Bulk calls answer per card instead of failing whole.
#[tarpc::service]
pub trait IdReview {
    /// Versions, the caller's identity and role, and card counts per status.
    async fn health() -> Health;
    /// One page of cards matching a filter, sorted, with the total count.
    async fn list_cards(query: ListQuery) -> Result<CardPage, RpcError>;
    /// The id and version of each card matching a filter, in the list's order, from
    /// `query.offset`, at most `query.limit` (up to [`ListQuery::MAX_REFS`]): what marking
    /// every match needs, without the rows.
    async fn list_refs(query: ListQuery) -> Result<Vec<CardRef>, RpcError>;
    /// Not-yet-decided cards with fields below the confidence threshold, oldest first, each
    /// with the names of those fields (the low-confidence queue). At most 1000 per call.
    async fn low_confidence_cards(offset: u64, limit: u32) -> Result<LowConfidencePage, RpcError>;
    /// The whole card.
    async fn get_card(id: CardId) -> Result<Card, RpcError>;
    /// The user's active card (or the newest rejected one), if any.
    async fn card_for_user(user_id: String) -> Result<Option<Card>, RpcError>;
    /// Where the user is in onboarding.
    async fn onboarding_stage(user_id: String) -> Result<OnboardingStage, RpcError>;
    /// Approve or reject many cards in one durable write; a per-card result each.
    async fn decide(request: DecideRequest) -> Vec<ItemResult>;
    /// Mark cards as checked (or not) by a reviewer; a per-card result each.
    async fn set_verified(cards: Vec<CardRef>, verified: bool) -> Vec<ItemResult>;
    /// The user confirms the extracted data, correcting fields as needed.
    async fn confirm_card(
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError>;
    /// A reviewer corrects fields; each correction is audited.
    async fn correct_fields(
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError>;
    /// The card's audit history, oldest first.
    async fn audit_events(id: CardId) -> Result<Vec<AuditEvent>, RpcError>;
    /// A URL that fetches one of the card's files without credentials for a limited time: a
    /// presigned S3 GET, or a `file://` path for the local store.
    async fn file_url(id: CardId, name: String) -> Result<String, RpcError>;
    /// The bytes of one of the card's files, for files up to [`MAX_FILE_BYTES`] (larger ones,
    /// e.g. a selfie video, are fetched through [`IdReview::file_url`]).
    async fn file_bytes(id: CardId, name: String) -> Result<Vec<u8>, RpcError>;
    /// Admin: deletes a card (audited with the reason); its stored files are removed through a
    /// persistent cleanup queue.
    async fn delete_card(card: CardRef, reason: String) -> Result<(), RpcError>;
    /// Claims the card for the caller for the daemon's lease time (renewing the caller's own
    /// lease); refused naming the holder while someone else's lease runs. Audited.
    async fn claim_card(card: CardRef) -> Result<Card, RpcError>;
    /// Gives up the caller's claim; admins may release anyone's. Audited.
    async fn release_card(id: CardId) -> Result<(), RpcError>;
    /// Long-poll of the change feed: waits up to `wait_ms` for cards written after cursor
    /// `since` (0: from now on, answers at once with the current cursor).
    async fn changes(since: u64, wait_ms: u32) -> Result<Changes, RpcError>;
    /// Admin: creates a bearer token; its secret is in the answer and nowhere else.
    async fn create_token(spec: TokenSpec) -> Result<NewToken, RpcError>;
    /// Admin: every token, revoked ones included, without secrets.
    async fn list_tokens() -> Result<Vec<TokenInfo>, RpcError>;
    /// Admin: revokes a token by id; connections using it fail their next call.
    async fn revoke_token(id: String) -> Result<TokenInfo, RpcError>;
    /// Admin: up to `limit` audit events with `seq > since`, oldest first; page with the last
    /// seq seen until the answer is empty.
    async fn audit_export(since: u64, limit: u32) -> Result<Vec<AuditEvent>, RpcError>;
    /// Submitter: opens an upload session for one submission; answers its id.
    async fn begin_upload(manifest: UploadManifest) -> Result<u64, RpcError>;
    /// Submitter: appends `bytes` (at most 4 MiB) to file `name` at `offset`, which must be the
    /// bytes received so far; answers the file's new length.
    async fn upload_chunk(
        upload: u64,
        name: String,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<u64, RpcError>;
    /// Submitter: moves the files into the inbox and writes the manifest last, so the pipeline
    /// ingests the submission; answers the inbox folder's name.
    async fn finish_upload(upload: u64) -> Result<String, RpcError>;
    /// Admin: takes a consistent snapshot of every card, token record (hashes only) and audit
    /// event for export; page through it with [`IdReview::export_page`].
    async fn export_begin() -> Result<ExportHeader, RpcError>;
    /// Admin: the snapshot's lines from `cursor` (start with the default), a few MiB per page.
    async fn export_page(export_id: u64, cursor: ExportCursor) -> Result<ExportPage, RpcError>;
    /// Admin: erases every card and stored file of `user_id` (the right to erasure), leaving
    /// audit tombstones without personal data; `reason` is kept in the tombstones. With
    /// `dry_run`, answers what would go and changes nothing.
    async fn erase_user(
        user_id: String,
        reason: String,
        dry_run: bool,
    ) -> Result<ErasureReport, RpcError>;
    /// Admin: takes a decided card back into review, with a reason (audited).
    async fn reopen_card(card: CardRef, reason: String) -> Result<Card, RpcError>;
    /// Reviewer: the submissions the inbox refused, newest first.
    async fn rejected_submissions(offset: u64, limit: u32) -> Result<RejectedPage, RpcError>;
    /// Reviewer: the dashboard's numbers (counts from the index, decisions and hourly activity
    /// from the audit log's last week).
    async fn stats(query: StatsQuery) -> Result<Stats, RpcError>;
    /// Reviewer: the caller's own named views and the team's, by name.
    async fn list_views() -> Result<Vec<NamedView>, RpcError>;
    /// Reviewer: saves (or replaces) one of the caller's views; admins also publish team
    /// views (`team`). The filter must parse in the query language.
    async fn save_view(view: ViewSpec) -> Result<NamedView, RpcError>;
    /// Reviewer: deletes one of the caller's views; admins also team views (`team`).
    async fn delete_view(name: String, team: bool) -> Result<(), RpcError>;
}

/// Largest file [`IdReview::file_bytes`] answers with, well below the transport's frame cap.
pub const MAX_FILE_BYTES: u64 = 12 * 1024 * 1024;
