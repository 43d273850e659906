//! `idreview views`: the named views the daemon keeps (the caller's own and the team's), and
//! saving or deleting one; `idreview list --view NAME` reads them through [`find`].

use std::io::Write;
use std::process::ExitCode;

use idreview_protocol::{CardFilter, NamedView, ViewSpec};
use serde::Serialize;

use super::args::{ViewsArgs, ViewsCommand};
use super::json::time;
use super::table;
use crate::error::Error;
use crate::rpc::Rpc;

/// `views --json`: one object per view.
#[derive(Debug, Serialize)]
pub struct ViewJson<'a> {
    pub name: &'a str,
    pub filter: &'a str,
    pub sort: &'static str,
    pub descending: bool,
    /// A team view (published by an admin), else the caller's own.
    pub team: bool,
    pub saved_by: &'a str,
    pub saved_at: String,
}

impl<'a> From<&'a NamedView> for ViewJson<'a> {
    fn from(v: &'a NamedView) -> ViewJson<'a> {
        ViewJson {
            name: &v.name,
            filter: &v.filter,
            sort: v.sort.as_str(),
            descending: v.descending,
            team: v.team,
            saved_by: &v.saved_by,
            saved_at: time(v.saved_at),
        }
    }
}

/// Runs the command.
pub async fn run(rpc: &Rpc, args: &ViewsArgs, out: &mut impl Write) -> Result<ExitCode, Error> {
    match &args.command {
        None => {
            let views = rpc.list_views().await?;
            match args.json {
                true => {
                    let json: Vec<ViewJson> = views.iter().map(ViewJson::from).collect();
                    serde_json::to_writer_pretty(&mut *out, &json)?;
                    writeln!(out)?;
                }
                false => write!(out, "{}", human(&views))?,
            }
        }
        Some(ViewsCommand::Save(save)) => {
            let spec = ViewSpec {
                name: save.name.clone(),
                filter: save.filter.clone().unwrap_or_default(),
                sort: save.sort,
                descending: !save.asc,
                team: save.team,
            };
            spec.check().map_err(Error::Usage)?;
            let view = rpc.save_view(spec).await?;
            let whose = if view.team { "team view" } else { "view" };
            writeln!(out, "saved {whose} {:?}", view.name)?;
        }
        Some(ViewsCommand::Delete { name, team }) => {
            rpc.delete_view(name.clone(), *team).await?;
            writeln!(out, "deleted view {name:?}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The view called `name` (the caller's own before the team's) and its filter, parsed.
pub async fn find(rpc: &Rpc, name: &str) -> Result<(NamedView, CardFilter), Error> {
    let views = rpc.list_views().await?;
    let Some(view) = idreview_protocol::views::find(&views, name).cloned() else {
        return Err(Error::Usage(format!(
            "no view named {name:?}; `idreview views` lists them"
        )));
    };
    let filter = view
        .card_filter()
        .map_err(|why| Error::Usage(format!("view {name:?} no longer reads: {why}")))?;
    Ok((view, filter))
}

/// The views as a table.
pub fn human(views: &[NamedView]) -> String {
    if views.is_empty() {
        return "no named views; save one with `idreview views save NAME --filter QUERY` or S in the console\n".into();
    }
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                if v.team {
                    "team".into()
                } else {
                    "yours".into()
                },
                format!(
                    "{} {}",
                    v.sort.as_str(),
                    if v.descending { "desc" } else { "asc" }
                ),
                if v.filter.is_empty() {
                    "-".into()
                } else {
                    v.filter.clone()
                },
            ]
        })
        .collect();
    table::render(&["view", "whose", "sort", "filter"], &rows)
}
