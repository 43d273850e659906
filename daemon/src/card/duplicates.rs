//! Reused documents, judged from the store's duplicates index (file SHA-256s, document number
//! and country). The same files again for the same user make no second card
//! ([`CardError::DuplicateSubmission`], naming the card they are on). A file, or the document
//! number and country, on another user's card is a fraud signal: the card gets a
//! [`DUPLICATE_DOCUMENT`] finding (a warning: the card is never auto-verified, and under four
//! eyes its approval takes two people, but without four eyes one reviewer may approve it as
//! any card), or, under `[inbox] duplicates = "reject"`, a reused file refuses the new card
//! ([`CardError::DuplicateDocument`]). A document number is
//! known only once the card is read, so a number found on another user's card always flags.
//! Findings name the other card, never its user (an erasure takes the user away, not the ids).

use std::collections::{BTreeMap, BTreeSet};

use idreview_protocol::{Card, CardId, DUPLICATE_DOCUMENT, Finding, Severity};

use super::{CardError, CardStore, Cards};
use crate::config::DuplicatePolicy;
use crate::store::duplicates::{Shared, SharedWhat};

impl<S: CardStore> Cards<S> {
    /// Judges a new card before it is stored: refuses the same files again for the same user,
    /// and (by policy) a file on another user's card; answers the findings a flagged card gets.
    pub(super) async fn judge_new(&self, card: &Card) -> Result<Vec<Finding>, CardError> {
        let shared = self.store.shared_with(card).await?;
        if let Some(earlier) = same_files(card, &shared) {
            return Err(CardError::DuplicateSubmission {
                user: card.user_id.clone(),
                card: earlier,
            });
        }
        if self.config.inbox.duplicates == DuplicatePolicy::Reject {
            // The card's first file (front, back, selfie...) on another user's card.
            let reused = card.files.iter().find_map(|file| {
                let other = shared.iter().find(|s| {
                    s.user_id != card.user_id
                        && matches!(&s.what, SharedWhat::File(sha) if file.sha256.eq_ignore_ascii_case(sha))
                })?;
                Some((file, other.card))
            });
            if let Some((file, other)) = reused {
                return Err(CardError::DuplicateDocument {
                    card: other,
                    what: format!("file {}", file.name),
                    file: file.name.clone(),
                    role: file.role,
                });
            }
        }
        Ok(findings(card, &shared))
    }

    /// The cards sharing a file or the document number with `card` as `change` leaves it: read
    /// before a change that judges reused documents ([`findings`] over this answer), since the
    /// change itself may not read the store. None when `change` refuses (it refuses again in
    /// the store's call).
    pub(super) async fn shared_after<T>(
        &self,
        card: &Card,
        change: impl FnOnce(&mut Card) -> Result<T, CardError>,
    ) -> Result<Vec<Shared>, CardError> {
        let mut trial = card.clone();
        match change(&mut trial) {
            Ok(_) => Ok(self.store.shared_with(&trial).await?),
            Err(_) => Ok(Vec::new()),
        }
    }
}

/// The earlier card of the same user that holds every file of `card`, if one does.
fn same_files(card: &Card, shared: &[Shared]) -> Option<CardId> {
    let files: BTreeSet<String> = card
        .files
        .iter()
        .map(|f| f.sha256.to_ascii_lowercase())
        .collect();
    if files.is_empty() {
        return None;
    }
    let mut held: BTreeMap<CardId, BTreeSet<&str>> = BTreeMap::new();
    for s in shared.iter().filter(|s| s.user_id == card.user_id) {
        if let SharedWhat::File(sha) = &s.what {
            held.entry(s.card).or_default().insert(sha.as_str());
        }
    }
    held.into_iter()
        .rev()
        .find(|(_, theirs)| files.iter().all(|f| theirs.contains(f.as_str())))
        .map(|(id, _)| id)
}

/// One finding per other user's card sharing something with `card`, saying what.
pub(super) fn findings(card: &Card, shared: &[Shared]) -> Vec<Finding> {
    let mut by_card: BTreeMap<CardId, Vec<String>> = BTreeMap::new();
    for s in shared.iter().filter(|s| s.user_id != card.user_id) {
        let what = match &s.what {
            SharedWhat::File(sha) => {
                let name = card
                    .files
                    .iter()
                    .find(|f| f.sha256.eq_ignore_ascii_case(sha))
                    .map_or("a file", |f| f.name.as_str());
                format!("file {name}")
            }
            SharedWhat::Number { country, number } => {
                format!("document number {number} ({country})")
            }
        };
        let whats = by_card.entry(s.card).or_default();
        if !whats.contains(&what) {
            whats.push(what);
        }
    }
    by_card
        .into_iter()
        .map(|(other, whats)| Finding {
            rule: DUPLICATE_DOCUMENT.into(),
            severity: Severity::Warning,
            message: format!(
                "reused document: {} also on card {other} of another user",
                whats.join(" and ")
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use idreview_protocol::FileRole;
    use idreview_protocol::fixtures::{card, file};

    fn share(id: u64, user: &str, what: SharedWhat) -> Shared {
        Shared {
            card: CardId(id),
            user_id: user.into(),
            what,
        }
    }

    fn with_files(user: &str, shas: &[&str]) -> Card {
        let mut c = card(9).user(user);
        for (i, sha) in shas.iter().enumerate() {
            let mut f = file(FileRole::Front, &format!("f{i}.jpg"), "k");
            f.sha256 = (*sha).into();
            c = c.file(f);
        }
        c.build()
    }

    #[test]
    fn the_same_files_of_the_same_user_name_the_earlier_card() {
        let new = with_files("u1", &["aa", "bb"]);
        let file = |s: &str| SharedWhat::File(s.into());
        let all = [share(3, "u1", file("aa")), share(3, "u1", file("bb"))];
        assert_eq!(same_files(&new, &all), Some(CardId(3)));
        let part = [share(3, "u1", file("aa"))];
        assert_eq!(same_files(&new, &part), None, "one new file: a new card");
        let other = [share(3, "u2", file("aa")), share(3, "u2", file("bb"))];
        assert_eq!(
            same_files(&new, &other),
            None,
            "another user's: a fraud signal"
        );
    }

    #[test]
    fn another_users_file_or_number_is_one_finding_per_card_naming_it() {
        let new = with_files("u1", &["aa"]);
        let number = SharedWhat::Number {
            country: "DE".into(),
            number: "C01X".into(),
        };
        let shared = [
            share(3, "u2", SharedWhat::File("aa".into())),
            share(3, "u2", number.clone()),
            share(5, "u3", number),
            share(7, "u1", SharedWhat::File("aa".into())),
        ];
        let found = findings(&new, &shared);
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "reused document: file f0.jpg and document number C01X (DE) also on card 3 of another user",
                "reused document: document number C01X (DE) also on card 5 of another user",
            ]
        );
        assert!(
            found
                .iter()
                .all(|f| f.rule == DUPLICATE_DOCUMENT && f.severity == Severity::Warning)
        );
    }
}
