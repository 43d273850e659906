//! The dashboard and named views as a session serves them: who may see the numbers, save,
//! publish and delete views (reviewers their own; admins also the team's), translated to the
//! store. A view's shape is checked by the protocol's `ViewSpec::check`.

use idreview_protocol::{NamedView, Role, RpcError, Stats, StatsQuery, ViewSpec};

use super::Session;
use crate::store::views::Owner;

impl Session {
    /// The dashboard's numbers; the audit log is read on the blocking pool.
    pub(super) async fn stats_as_reviewer(&self, query: StatsQuery) -> Result<Stats, RpcError> {
        self.require(Role::Reviewer).await?;
        let store = self.shared.store.sled("the dashboard (stats)")?.clone();
        let stats = tokio::task::spawn_blocking(move || store.stats(query, chrono::Utc::now()))
            .await
            .map_err(|e| RpcError::Internal(format!("counting stopped: {e}")))??;
        Ok(stats)
    }

    /// The caller's views, then the team's.
    pub(super) async fn views_as_reviewer(&self) -> Result<Vec<NamedView>, RpcError> {
        self.require(Role::Reviewer).await?;
        let store = self.shared.store.sled("named views")?;
        let mut views = store.views(Owner::Reviewer(&self.identity))?;
        views.extend(store.views(Owner::Team)?);
        Ok(views)
    }

    /// Saves one of the caller's views, or (admins) a team view.
    pub(super) async fn save_view_as_reviewer(
        &self,
        spec: ViewSpec,
    ) -> Result<NamedView, RpcError> {
        let owner = self.view_owner(spec.team, "publish team views").await?;
        spec.check()
            .map_err(|why| RpcError::Invalid(format!("view {:?}: {why}", spec.name)))?;
        let store = self.shared.store.sled("named views")?;
        let existing = store.views(owner)?;
        if existing.len() >= ViewSpec::MAX_VIEWS && !existing.iter().any(|v| v.name == spec.name) {
            return Err(RpcError::Invalid(format!(
                "{} views are kept at most; delete one first",
                ViewSpec::MAX_VIEWS
            )));
        }
        let view = store
            .save_view(owner, &spec, &self.identity, chrono::Utc::now())
            .await?;
        tracing::info!(view = %view.name, team = view.team, by = %self.identity, "view saved");
        Ok(view)
    }

    /// Deletes one of the caller's views, or (admins) a team view.
    pub(super) async fn delete_view_as_reviewer(
        &self,
        name: &str,
        team: bool,
    ) -> Result<(), RpcError> {
        let owner = self.view_owner(team, "delete team views").await?;
        let store = self.shared.store.sled("named views")?;
        match store.delete_view(owner, name).await? {
            true => Ok(()),
            false => Err(RpcError::Invalid(format!(
                "no {}view named {name:?}",
                if team { "team " } else { "" }
            ))),
        }
    }

    /// Whose view a change is about: the caller's own, or the team's, which only admins
    /// change (`what` says what was refused).
    async fn view_owner(&self, team: bool, what: &str) -> Result<Owner<'_>, RpcError> {
        self.require(Role::Reviewer).await?;
        if !team {
            return Ok(Owner::Reviewer(&self.identity));
        }
        match self.role.may(Role::Admin) {
            true => Ok(Owner::Team),
            false => Err(RpcError::Forbidden(format!(
                "{} may not {what}: that needs the admin role; reviewers see team views read-only",
                self.identity
            ))),
        }
    }
}
