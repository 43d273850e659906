//! The `tarpc` service both ends compile against.

use crate::{
    AuditEvent, Card, CardId, CardPage, CardRef, Changes, DecideRequest, FieldCorrection, Health,
    ItemResult, ListQuery, LowConfidencePage, OnboardingStage, RpcError,
};

/// The idreview daemon's RPC interface. Bulk calls answer per card instead of failing whole.
#[tarpc::service]
pub trait IdReview {
    /// Versions, the caller's identity and role, and card counts per status.
    async fn health() -> Health;
    /// One page of cards matching a filter, sorted, with the total count.
    async fn list_cards(query: ListQuery) -> Result<CardPage, RpcError>;
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
}

/// Largest file [`IdReview::file_bytes`] answers with, well below the transport's frame cap.
pub const MAX_FILE_BYTES: u64 = 12 * 1024 * 1024;
