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
/// as `ok`.
fn outcome(response: &Result<IdReviewResponse, ServerError>) -> &'static str {
    use IdReviewResponse as R;
    macro_rules! fallible {
        ($response:expr, $($variant:ident),* $(,)?) => {
            match $response {
                $(R::$variant(r) => r.is_err(),)*
                _ => false,
            }
        };
    }
    let Ok(response) = response else {
        return "server_error";
    };
    let failed = fallible!(
        response,
        ListCards,
        LowConfidenceCards,
        GetCard,
        CardForUser,
        OnboardingStage,
        ConfirmCard,
        CorrectFields,
        AuditEvents,
        FileUrl,
        FileBytes,
        DeleteCard,
        ClaimCard,
        ReleaseCard,
        Changes,
        CreateToken,
        ListTokens,
        RevokeToken,
        AuditExport,
        BeginUpload,
        UploadChunk,
        FinishUpload,
    );
    if failed { "error" } else { "ok" }
}
