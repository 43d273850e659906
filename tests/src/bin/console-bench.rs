//! `console-bench`: the console's speed at 100,000 cards. Fills a fresh store with synthetic
//! cards (the same code as the hidden `idreviewd fill`), runs the real daemon in this process
//! on its Unix socket, then drives the real console state, RPC worker and renderer (ratatui's
//! `TestBackend` at 120x40) the way the event loop does, and prints one table.
//!
//! Run: `cargo run --release -p idreview-tests --bin console-bench [-- CARDS]`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use idreview_daemon::config::Config;
use idreview_protocol::ListQuery;
use idreview_tui::app::{App, Theme};
use idreview_tui::message::{Action, Command, Request};
use idreview_tui::rpc::{Endpoint, RpcHandle, spawn_worker};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

/// Filters typed into the filter bar, one redraw measured each.
const FILTERS: [&str; 8] = [
    "status:needs_review",
    "status:needs_review type:passport",
    "conf:<0.5",
    "country:DE,FR conf:0.5..0.8",
    "bench-0421",
    "mustermann erika",
    "low:yes verified:no",
    "",
];

#[tokio::main]
async fn main() -> Result<()> {
    let cards: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().context("the argument is a number of cards")?,
        None => 100_000,
    };
    let dir = tempfile::tempdir().context("temp dir")?;
    let mut config = Config::default();
    config.daemon.data_dir = Some(dir.path().to_path_buf());
    let mut rows: Vec<(String, String, &str)> = Vec::new();

    let started = Instant::now();
    {
        let store = idreview_daemon::store::Store::open(
            &config.store_dir(),
            config.verification.confidence_threshold,
        )?;
        idreview_daemon::cli::fill::fill(&store, cards, "bench").await?;
    }
    rows.push((
        "fill the store (not the console)".into(),
        ms(started.elapsed()),
        "",
    ));

    let started = Instant::now();
    let shutdown = CancellationToken::new();
    let daemon = tokio::spawn(idreview_daemon::run(config.clone(), shutdown.clone()));
    let socket = config.socket_path();
    let endpoint = Endpoint {
        socket: socket.clone(),
        data_dir: config.data_dir(),
        token: None,
        timeout: Duration::from_secs(10),
        remote: None,
    };
    // The socket is bound before the store opens: ready is when a call is answered.
    loop {
        if let Ok((rpc, _)) = endpoint.connect().await
            && rpc.health().await.is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    rows.push((
        "daemon start to first answer (index rebuild)".into(),
        ms(started.elapsed()),
        "",
    ));

    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    let started = Instant::now();
    let (rpc, welcome) = endpoint.connect().await?;
    let (tx, mut actions) = mpsc::unbounded_channel();
    let worker = spawn_worker(endpoint, Some(rpc), tx);
    let query = ListQuery {
        limit: u32::from(HEIGHT - idreview_tui::app::CHROME_ROWS),
        ..ListQuery::default()
    };
    let mut app = App::new(Utc::now(), query, Theme::default(), false);
    app.update(Action::Connected(welcome));
    let commands = app.start();
    settle(&mut app, &worker, &mut actions, commands).await;
    terminal.draw(|f| idreview_tui::ui::render(&app, f))?;
    let first = started.elapsed();
    let total = app.list.total();
    rows.push((
        format!("start to first drawn list ({total} cards)"),
        ms(first),
        "< 300 ms",
    ));

    let mut times = Vec::new();
    for filter in FILTERS {
        press(&mut app, &worker, KeyCode::Char('/'));
        app.update(Action::ClearInput);
        for c in filter.chars() {
            press(&mut app, &worker, KeyCode::Char(c));
        }
        let started = Instant::now();
        let commands = press_commands(&mut app, KeyCode::Enter);
        settle(&mut app, &worker, &mut actions, commands).await;
        terminal.draw(|f| idreview_tui::ui::render(&app, f))?;
        times.push(started.elapsed());
    }
    times.sort();
    rows.push((
        format!("filter change to redrawn list (median of {})", times.len()),
        ms(times[times.len() / 2]),
        "< 50 ms",
    ));
    rows.push((
        "filter change, slowest".into(),
        ms(times[times.len() - 1]),
        "< 50 ms",
    ));

    let mut sorts = Vec::new();
    for _ in 0..8 {
        let started = Instant::now();
        let commands = press_commands(&mut app, KeyCode::Char('o'));
        settle(&mut app, &worker, &mut actions, commands).await;
        terminal.draw(|f| idreview_tui::ui::render(&app, f))?;
        sorts.push((started.elapsed(), app.list.query.sort.as_str()));
    }
    sorts.sort();
    let (median, _) = sorts[sorts.len() / 2];
    let (slowest, key) = sorts[sorts.len() - 1];
    rows.push((
        "sort change to redrawn list (median of 8 keys)".into(),
        ms(median),
        "< 50 ms",
    ));
    rows.push((
        format!("sort change, slowest (by {key})"),
        ms(slowest),
        "< 50 ms",
    ));
    // One page turn is a fraction of a millisecond: the median of several says more.
    let mut pages = Vec::new();
    for _ in 0..9 {
        let started = Instant::now();
        let commands = press_commands(&mut app, KeyCode::PageDown);
        settle(&mut app, &worker, &mut actions, commands).await;
        terminal.draw(|f| idreview_tui::ui::render(&app, f))?;
        pages.push(started.elapsed());
    }
    pages.sort();
    rows.push((
        format!(
            "next page, sorted by {} (median of {})",
            app.list.query.sort.as_str(),
            pages.len()
        ),
        ms(pages[pages.len() / 2]),
        "< 50 ms",
    ));

    let frames = 500;
    let mut frame_times = Vec::with_capacity(frames);
    for _ in 0..frames {
        let started = Instant::now();
        terminal.draw(|f| idreview_tui::ui::render(&app, f))?;
        frame_times.push(started.elapsed());
    }
    frame_times.sort();
    let p99 = frame_times[frames * 99 / 100];
    rows.push((
        format!("frame render {WIDTH}x{HEIGHT}, p99 of {frames}"),
        ms(p99),
        "< 16 ms",
    ));

    let started = Instant::now();
    app.update(Action::ClearInput);
    let commands = app.update(Action::MarkAll);
    settle_marks(&mut app, &worker, &mut actions, commands).await;
    rows.push((
        format!(
            "mark all {} matching cards (ids and versions, up to 100,000 per call)",
            app.list.marks.len()
        ),
        ms(started.elapsed()),
        "",
    ));

    println!("| measure | time | target |");
    println!("|---|---:|---|");
    for (what, time, target) in rows {
        println!("| {what} | {time} | {target} |");
    }
    shutdown.cancel();
    let _ = daemon.await;
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn press_commands(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.press(KeyEvent::new(code, KeyModifiers::NONE))
}

fn press(app: &mut App, worker: &RpcHandle, code: KeyCode) {
    send(worker, press_commands(app, code));
}

fn send(worker: &RpcHandle, commands: Vec<Command>) {
    for command in commands {
        if let Command::Rpc(request) = command {
            worker.send(request);
        }
    }
}

/// Applies answers until the page on screen answers the current query.
async fn settle(
    app: &mut App,
    worker: &RpcHandle,
    actions: &mut mpsc::UnboundedReceiver<Action>,
    commands: Vec<Command>,
) {
    let waits_for_list = commands
        .iter()
        .any(|c| matches!(c, Command::Rpc(Request::List(_))));
    send(worker, commands);
    if !waits_for_list && !app.list.loading.busy {
        return;
    }
    while let Some(action) = actions.recv().await {
        let page = matches!(action, Action::PageLoaded { .. });
        let more = app.update(action);
        send(worker, more);
        if page && !app.list.loading.busy {
            return;
        }
    }
}

/// Applies answers until the marking fetch is done.
async fn settle_marks(
    app: &mut App,
    worker: &RpcHandle,
    actions: &mut mpsc::UnboundedReceiver<Action>,
    commands: Vec<Command>,
) {
    send(worker, commands);
    while let Some(action) = actions.recv().await {
        let done = matches!(action, Action::Collected { .. });
        let more = app.update(action);
        send(worker, more);
        if done {
            return;
        }
    }
}
