//! Named views in sled: a filter and a sort saved under a name, each reviewer's own and the
//! team's (published by admins). They are no card's change, so they leave no audit event and
//! move no change feed; who may save which is the RPC front end's, what a view must be is
//! the protocol's (`ViewSpec::check`).
//!
//! `views` tree: `b'p' ++ u32 BE length ++ identity ++ name` for a reviewer's view, `b't' ++
//! name` for a team view -> bincode [`StoredView`], so one reviewer's views are one prefix.

use chrono::{DateTime, Utc};
use idreview_protocol::{NamedView, SortKey, ViewSpec};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// Whose views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// One reviewer's, by the identity bound at the handshake.
    Reviewer(&'a str),
    /// The whole team's.
    Team,
}

impl Owner<'_> {
    /// The key prefix of this owner's views.
    fn prefix(self) -> Vec<u8> {
        match self {
            Owner::Reviewer(who) => {
                let len = u32::try_from(who.len()).unwrap_or(u32::MAX);
                let mut key = vec![b'p'];
                key.extend_from_slice(&len.to_be_bytes());
                key.extend_from_slice(who.as_bytes());
                key
            }
            Owner::Team => vec![b't'],
        }
    }

    fn key(self, name: &str) -> Vec<u8> {
        let mut key = self.prefix();
        key.extend_from_slice(name.as_bytes());
        key
    }
}

/// A view as the store lays it out (the sort by its name, so that a retired key reads as the
/// default rather than failing).
#[derive(Serialize, Deserialize)]
struct StoredView {
    name: String,
    filter: String,
    sort: String,
    descending: bool,
    saved_by: String,
    /// Seconds and nanoseconds since the epoch.
    saved_at: (i64, u32),
}

impl StoredView {
    fn view(self, team: bool) -> NamedView {
        NamedView {
            name: self.name,
            filter: self.filter,
            sort: SortKey::parse(&self.sort).unwrap_or(SortKey::Created),
            descending: self.descending,
            team,
            saved_by: self.saved_by,
            saved_at: DateTime::from_timestamp(self.saved_at.0, self.saved_at.1)
                .unwrap_or_default(),
        }
    }
}

impl Store {
    /// The owner's views, by name.
    pub fn views(&self, owner: Owner<'_>) -> Result<Vec<NamedView>, StoreError> {
        let team = owner == Owner::Team;
        self.inner
            .views
            .scan_prefix(owner.prefix())
            .map(|item| {
                let (_, bytes) = item?;
                Ok(bincode::deserialize::<StoredView>(&bytes)?.view(team))
            })
            .collect()
    }

    /// Saves `spec` as one of the owner's views (replacing one of the same name), durably.
    pub async fn save_view(
        &self,
        owner: Owner<'_>,
        spec: &ViewSpec,
        saved_by: &str,
        now: DateTime<Utc>,
    ) -> Result<NamedView, StoreError> {
        let stored = StoredView {
            name: spec.name.clone(),
            filter: spec.filter.clone(),
            sort: spec.sort.as_str().to_string(),
            descending: spec.descending,
            saved_by: saved_by.to_string(),
            saved_at: (now.timestamp(), now.timestamp_subsec_nanos()),
        };
        let bytes = bincode::serialize(&stored)?;
        self.inner.views.insert(owner.key(&spec.name), bytes)?;
        self.flush().await?;
        Ok(stored.view(owner == Owner::Team))
    }

    /// Deletes one of the owner's views, durably; `false` if there was none of that name.
    pub async fn delete_view(&self, owner: Owner<'_>, name: &str) -> Result<bool, StoreError> {
        let gone = self.inner.views.remove(owner.key(name))?.is_some();
        if gone {
            self.flush().await?;
        }
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, filter: &str) -> ViewSpec {
        ViewSpec {
            name: name.into(),
            filter: filter.into(),
            sort: SortKey::Confidence,
            descending: false,
            team: false,
        }
    }

    #[tokio::test]
    async fn each_owner_sees_only_its_views_also_after_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("opens");
        let now = Utc::now();
        let (ann, annika) = (Owner::Reviewer("ann"), Owner::Reviewer("annika"));
        store
            .save_view(ann, &spec("mine", "type:passport"), "ann", now)
            .await
            .expect("saves");
        store
            .save_view(annika, &spec("hers", ""), "annika", now)
            .await
            .expect("saves");
        store
            .save_view(
                Owner::Team,
                &spec("team", "status:needs_review"),
                "root",
                now,
            )
            .await
            .expect("saves");
        let names = |views: Vec<NamedView>| views.into_iter().map(|v| v.name).collect::<Vec<_>>();
        assert_eq!(
            names(store.views(ann).expect("lists")),
            ["mine"],
            "a prefix of another's name is not hers"
        );
        assert_eq!(names(store.views(annika).expect("lists")), ["hers"]);
        let team = store.views(Owner::Team).expect("lists");
        assert!(team[0].team && team[0].saved_by == "root");

        // Saving again replaces; the sort and time come back as saved.
        store
            .save_view(ann, &spec("mine", "country:DE"), "ann", now)
            .await
            .expect("saves");
        let mine = &store.views(ann).expect("lists")[0];
        assert_eq!(
            (mine.filter.as_str(), mine.sort, mine.descending),
            ("country:DE", SortKey::Confidence, false)
        );
        assert_eq!(mine.saved_at, now);

        drop(store);
        let store = crate::store::reopen(dir.path());
        assert_eq!(names(store.views(ann).expect("lists")), ["mine"]);
        assert!(store.delete_view(ann, "mine").await.expect("deletes"));
        assert!(
            !store.delete_view(ann, "mine").await.expect("deletes"),
            "already gone"
        );
        assert!(store.views(ann).expect("lists").is_empty());
        assert_eq!(names(store.views(Owner::Team).expect("lists")), ["team"]);
    }
}
