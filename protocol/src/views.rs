//! Named views: a filter (in the query language) and a sort saved under a name, per reviewer
//! or published by an admin for the whole team. The daemon keeps them, so a reviewer has them
//! on any machine.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CardFilter, SortKey};

/// A view to save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewSpec {
    /// How the view is called; unique per reviewer (and among team views).
    pub name: String,
    /// The filter in the query language (`status:needs_review type:passport`).
    pub filter: String,
    pub sort: SortKey,
    pub descending: bool,
    /// A team view, which every reviewer sees (admins only).
    pub team: bool,
}

/// A saved view, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedView {
    pub name: String,
    pub filter: String,
    pub sort: SortKey,
    pub descending: bool,
    /// Published for the whole team (read-only to reviewers).
    pub team: bool,
    /// Who saved it.
    pub saved_by: String,
    #[serde(with = "crate::time")]
    pub saved_at: DateTime<Utc>,
}

impl ViewSpec {
    /// The longest view name, in characters.
    pub const MAX_NAME: usize = 64;
    /// The longest filter, in bytes.
    pub const MAX_FILTER: usize = 2000;
    /// Most views one reviewer keeps (and most team views).
    pub const MAX_VIEWS: usize = 100;

    /// Why the view may not be saved, if it may not: a name of 1 to [`Self::MAX_NAME`]
    /// printable characters without spaces at either end, and a filter the query language
    /// reads (unknown keys are refused, as in the filter bar).
    pub fn check(&self) -> Result<(), String> {
        check_name(&self.name)?;
        if self.filter.len() > Self::MAX_FILTER {
            return Err(format!(
                "the filter is {} bytes; at most {} are kept",
                self.filter.len(),
                Self::MAX_FILTER
            ));
        }
        CardFilter::parse(&self.filter).map(|_| ())
    }
}

/// Why `name` may not name a view, if it may not.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a view needs a name".into());
    }
    if name.trim() != name {
        return Err(format!(
            "{name:?}: a view name may not start or end with a space"
        ));
    }
    if name.chars().count() > ViewSpec::MAX_NAME {
        return Err(format!(
            "a view name has at most {} characters",
            ViewSpec::MAX_NAME
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a view name may not hold control characters".into());
    }
    Ok(())
}

impl NamedView {
    /// The view's filter, parsed (a view saved before a key was retired may no longer parse).
    pub fn card_filter(&self) -> Result<CardFilter, String> {
        CardFilter::parse(&self.filter)
    }
}

/// The view called `name` among `views`: the caller's own first, then the team's.
pub fn find<'a>(views: &'a [NamedView], name: &str) -> Option<&'a NamedView> {
    let named = |team: bool| views.iter().find(|v| v.name == name && v.team == team);
    named(false).or_else(|| named(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, filter: &str) -> ViewSpec {
        ViewSpec {
            name: name.into(),
            filter: filter.into(),
            sort: SortKey::Created,
            descending: true,
            team: false,
        }
    }

    #[test]
    fn a_view_needs_a_name_and_a_filter_the_language_reads() {
        assert!(
            spec("passports", "type:passport status:needs_review")
                .check()
                .is_ok()
        );
        assert!(spec("everything", "").check().is_ok());
        let unknown = spec("x", "stauts:needs_review")
            .check()
            .expect_err("refused");
        assert!(unknown.contains("status:"), "{unknown}");
        assert!(spec("", "type:passport").check().is_err());
        assert!(spec(" padded", "").check().is_err());
        assert!(spec("tab\there", "").check().is_err());
        assert!(spec(&"n".repeat(65), "").check().is_err());
        assert!(spec(&"n".repeat(64), "").check().is_ok());
    }

    #[test]
    fn ones_own_view_comes_before_the_teams_of_the_same_name() {
        let view = |team: bool, filter: &str| NamedView {
            name: "mine".into(),
            filter: filter.into(),
            sort: SortKey::Created,
            descending: true,
            team,
            saved_by: "x".into(),
            saved_at: Utc::now(),
        };
        let views = [view(true, "type:passport"), view(false, "country:DE")];
        assert_eq!(find(&views, "mine").map(|v| v.team), Some(false));
        assert_eq!(find(&views[..1], "mine").map(|v| v.team), Some(true));
        assert!(find(&views, "other").is_none());
    }
}
