//! Counts RPC calls by method and outcome: a [`tarpc::server::Serve`] wrapper around the
//! generated service, the one place every call passes through.

use idreview_protocol::service::IdReviewResponse;
use tarpc::server::Serve;
use tarpc::{RequestName, ServerError, context};

/// Serves like the wrapped service and counts each answered call.
#[derive(Clone)]
pub struct Measured<S>(pub S);

impl<S> Serve for Measured<S>
where
    S: Serve<Resp = IdReviewResponse>,
{
    type Req = S::Req;
    type Resp = IdReviewResponse;

    async fn serve(
        self,
        ctx: context::Context,
        req: Self::Req,
    ) -> Result<IdReviewResponse, ServerError> {
        // Generated names read `IdReview.get_card`; the method alone is the label.
        let method = req
            .name()
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let response = self.0.serve(ctx, req).await;
        ::metrics::counter!(super::RPC_CALLS, "method" => method, "outcome" => outcome(&response))
            .increment(1);
        response
    }
}

/// `error` when the method answered with an `RpcError`, `server_error` when tarpc could not
/// answer (e.g. the deadline passed), else `ok`. Bulk calls report per-item results and count
/// as `ok`. The match is exhaustive, so a new method cannot be miscounted silently.
fn outcome(response: &Result<IdReviewResponse, ServerError>) -> &'static str {
    use IdReviewResponse as R;
    let Ok(response) = response else {
        return "server_error";
    };
    let failed = match response {
        R::Health(_) | R::Decide(_) | R::SetVerified(_) => false,
        R::ListCards(r) => r.is_err(),
        R::ListRefs(r) => r.is_err(),
        R::LowConfidenceCards(r) => r.is_err(),
        R::GetCard(r) => r.is_err(),
        R::CardForUser(r) => r.is_err(),
        R::OnboardingStage(r) => r.is_err(),
        R::ConfirmCard(r) => r.is_err(),
        R::CorrectFields(r) => r.is_err(),
        R::AuditEvents(r) => r.is_err(),
        R::FileUrl(r) => r.is_err(),
        R::FileBytes(r) => r.is_err(),
        R::DeleteCard(r) => r.is_err(),
        R::ClaimCard(r) => r.is_err(),
        R::ReleaseCard(r) => r.is_err(),
        R::Changes(r) => r.is_err(),
        R::CreateToken(r) => r.is_err(),
        R::ListTokens(r) => r.is_err(),
        R::RevokeToken(r) => r.is_err(),
        R::AuditExport(r) => r.is_err(),
        R::BeginUpload(r) => r.is_err(),
        R::UploadChunk(r) => r.is_err(),
        R::FinishUpload(r) => r.is_err(),
        R::ExportBegin(r) => r.is_err(),
        R::ExportPage(r) => r.is_err(),
        R::EraseUser(r) => r.is_err(),
        R::ReopenCard(r) => r.is_err(),
        R::RejectedSubmissions(r) => r.is_err(),
        R::Stats(r) => r.is_err(),
        R::ListViews(r) => r.is_err(),
        R::SaveView(r) => r.is_err(),
        R::DeleteView(r) => r.is_err(),
    };
    if failed { "error" } else { "ok" }
}
