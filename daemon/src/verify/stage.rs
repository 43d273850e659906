//! Asking the provider about one card, shared by the pipeline and the retry worker: load the
//! card's stored files and ask ([`ask`]). What the answer does to the card is the card
//! domain's (`Cards::verified`, `Cards::reverified`).

use idreview_protocol::{Card, FileRole};

use super::{Documents, Verification, Verifier};
use crate::objects::{ObjectError, ObjectStore};

/// Loads the card's files and asks the provider; an unreadable file is a failed verification.
pub async fn ask(objects: &ObjectStore, verifier: &Verifier, card: &Card) -> Verification {
    if matches!(verifier, Verifier::Manual) {
        return verifier.verify(card.id, &Documents::default()).await;
    }
    match load(objects, card).await {
        Ok(documents) => verifier.verify(card.id, &documents).await,
        Err(e) => Verification::failed(
            verifier.name(),
            format!("the stored files could not be read: {e}"),
        ),
    }
}

/// The document images and the selfie, from the object store.
async fn load(objects: &ObjectStore, card: &Card) -> Result<Documents, ObjectError> {
    let mut documents = Documents::default();
    for file in &card.files {
        let slot = match file.role {
            FileRole::Front => &mut documents.front,
            FileRole::Back => &mut documents.back,
            FileRole::Selfie if file.media_type.starts_with("video/") => &mut documents.face_video,
            FileRole::Selfie => &mut documents.face,
            FileRole::Extra => continue,
        };
        *slot = Some(objects.get(&file.object_key).await?);
    }
    Ok(documents)
}
