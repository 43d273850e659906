//! The console's memory between runs: the last filter and sort, in a small TOML file
//! (`DATA/console-state.toml`). A missing or unreadable file means a fresh start, never an
//! error; the event loop writes it whenever the app asks with [`crate::message::Command::SaveView`].

use std::path::Path;

use idreview_protocol::{CardFilter, ListQuery, SortKey};
use serde::{Deserialize, Serialize};

/// The remembered view of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    /// The filter in the query language.
    pub filter: String,
    /// The sort key's name.
    pub sort: String,
    /// Newest (or largest) first.
    pub descending: bool,
    /// Filters applied in the filter bar, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<String>,
}

impl SavedView {
    /// The view `query` shows, with the filter bar's history.
    pub fn of(query: &ListQuery, history: &[String]) -> SavedView {
        SavedView {
            filter: query.filter.to_query_string(),
            sort: query.sort.as_str().to_string(),
            descending: query.descending,
            history: history.to_vec(),
        }
    }

    /// Applies the view to `query`; parts that no longer parse are left as they were.
    pub fn apply(&self, query: &mut ListQuery) {
        if let Ok(filter) = CardFilter::parse(&self.filter) {
            query.filter = filter;
        }
        if let Ok(sort) = SortKey::parse(&self.sort) {
            query.sort = sort;
        }
        query.descending = self.descending;
    }

    /// Reads the file, if there is a readable one.
    pub fn load(path: &Path) -> Option<SavedView> {
        let text = std::fs::read_to_string(path).ok()?;
        match toml::from_str(&text) {
            Ok(view) => Some(view),
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "ignoring the saved view");
                None
            }
        }
    }

    /// Writes the file (through a temporary file, so a crash never leaves half of it).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("console-state.toml");
        assert_eq!(SavedView::load(&path), None);
        let query = ListQuery {
            filter: CardFilter::parse("status:needs_review updated:>=2026-01-02 smith")
                .expect("parses"),
            sort: SortKey::Confidence,
            descending: false,
            ..ListQuery::default()
        };
        let history = vec!["type:passport".to_string(), "user:erika".to_string()];
        SavedView::of(&query, &history).save(&path).expect("saves");
        let mut again = ListQuery::default();
        let saved = SavedView::load(&path).expect("loads");
        saved.apply(&mut again);
        assert_eq!(again, query);
        assert_eq!(saved.history, history);
        // A file written before the history existed still loads.
        std::fs::write(
            &path,
            "filter = \"\"\nsort = \"created\"\ndescending = true\n",
        )
        .expect("writes");
        assert_eq!(SavedView::load(&path).map(|s| s.history), Some(vec![]));
        std::fs::write(&path, "garbage = [").expect("writes");
        assert_eq!(SavedView::load(&path), None);
    }
}
