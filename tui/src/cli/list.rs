//! `idreview list`: every card matching a filter (or the first `--limit`), paged through the
//! server at most [`ListQuery::MAX_LIMIT`] at a time, as a table or JSON.

use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use idreview_protocol::{CardFilter, CardPage, CardSummary, ListQuery};

use super::args::ListArgs;
use super::table;
use crate::display;
use crate::error::Error;
use crate::rpc::Rpc;

/// How many cards the next call asks for, or `None` when done.
pub fn next_limit(limit: Option<u64>, fetched: u64, total: Option<u64>) -> Option<u32> {
    let wanted = match (limit, total) {
        (Some(limit), Some(total)) => limit.min(total),
        (Some(limit), None) => limit,
        (None, Some(total)) => total,
        (None, None) => u64::MAX,
    };
    let left = wanted.saturating_sub(fetched);
    (left > 0).then(|| {
        u32::try_from(left.min(u64::from(ListQuery::MAX_LIMIT))).unwrap_or(ListQuery::MAX_LIMIT)
    })
}

/// Runs the command.
pub async fn run(rpc: &Rpc, args: &ListArgs, out: &mut impl Write) -> Result<ExitCode, Error> {
    let mut query = match &args.view {
        Some(name) => {
            let (view, filter) = super::views::find(rpc, name).await?;
            ListQuery {
                filter,
                sort: view.sort,
                descending: view.descending,
                offset: 0,
                limit: 0,
            }
        }
        None => ListQuery {
            filter: CardFilter::parse(args.filter.as_deref().unwrap_or(""))
                .map_err(|why| Error::Usage(format!("--filter: {why}")))?,
            sort: args.sort,
            descending: !args.asc,
            offset: 0,
            limit: 0,
        },
    };
    let mut cards: Vec<CardSummary> = Vec::new();
    let mut seen = HashSet::new();
    let mut total = None;
    while let Some(limit) = next_limit(args.limit, cards.len() as u64, total) {
        query.limit = limit;
        let page = rpc.list_cards(query.clone()).await?;
        total = Some(page.total);
        if page.cards.is_empty() {
            break;
        }
        query.offset += page.cards.len() as u64;
        // Cards created while paging shift later pages; never print one twice.
        cards.extend(page.cards.into_iter().filter(|c| seen.insert(c.id)));
    }
    if let Some(limit) = args.limit {
        cards.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    let page = CardPage {
        total: total.unwrap_or(0),
        offset: 0,
        cards,
    };
    match args.json {
        true => {
            serde_json::to_writer_pretty(&mut *out, &super::json::PageJson::from(&page))?;
            writeln!(out)?;
        }
        false => write!(out, "{}", human(&page, Utc::now()))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The table people read.
pub fn human(page: &CardPage, now: chrono::DateTime<Utc>) -> String {
    let rows: Vec<Vec<String>> = page
        .cards
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.user_id.clone(),
                c.document_type.to_string(),
                display::or_dash(c.country.as_deref()).to_string(),
                c.status.to_string(),
                display::confidence(c.confidence),
                display::age(c.created_at, now),
                display::or_dash(c.assignee.as_deref()).to_string(),
            ]
        })
        .collect();
    let headers = [
        "id", "user", "type", "country", "status", "conf", "age", "assignee",
    ];
    let mut text = table::render(&headers, &rows);
    text.push_str(&format!("{} of {} cards\n", page.cards.len(), page.total));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures;

    #[test]
    fn pages_until_the_total_or_the_limit() {
        assert_eq!(next_limit(None, 0, None), Some(1000));
        assert_eq!(next_limit(None, 1000, Some(2500)), Some(1000));
        assert_eq!(next_limit(None, 2000, Some(2500)), Some(500));
        assert_eq!(next_limit(None, 2500, Some(2500)), None);
        assert_eq!(next_limit(Some(5), 0, None), Some(5));
        assert_eq!(next_limit(Some(5), 0, Some(3)), Some(3));
        assert_eq!(next_limit(Some(1500), 1000, Some(9000)), Some(500));
        assert_eq!(next_limit(Some(0), 0, None), None);
    }

    #[test]
    fn human_table() {
        insta::assert_snapshot!(human(&fixtures::page(0, 4, 9), fixtures::now()));
    }
}
