//! The interactive console's event loop: connect (starting a daemon if allowed), take over the
//! terminal, then turn key presses, resizes, clock ticks and RPC answers into actions, apply
//! them and draw. The loop never awaits an RPC; the worker in [`crate::rpc`] does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use idreview_protocol::{CardId, ListQuery};
use ratatui::crossterm::event::{self, Event};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::{App, CHROME_ROWS, Theme};
use crate::error::Error;
use crate::message::{Action, Command, Request};
use crate::rpc::{self, Endpoint};
use crate::saved::SavedView;
use crate::settings::Settings;
use crate::terminal::TerminalGuard;
use crate::{spawn, ui};

/// How often the input thread checks whether the console is closing.
const INPUT_POLL: Duration = Duration::from_millis(200);

/// How long quitting waits for the daemon to take back the claims this console holds.
const RELEASE_WAIT: Duration = Duration::from_secs(3);

/// Runs the console until the user quits.
pub async fn run(settings: &Settings, allow_spawn: bool) -> Result<(), Error> {
    let endpoint = Endpoint::new(settings);
    let wait = Duration::from_secs(settings.console.spawn_wait_secs.max(1));
    let config = settings.config_file.as_deref();
    let (client, welcome) = spawn::connect_or_spawn(&endpoint, config, allow_spawn, wait).await?;

    // Answers from the RPC worker, as actions for the app.
    let (action_tx, mut actions) = mpsc::unbounded_channel();
    let worker = rpc::spawn_worker(endpoint, Some(client), action_tx);

    let mut guard = TerminalGuard::enter()?;
    // Ask the terminal which image protocol it speaks before the input thread reads stdin; a
    // terminal that does not answer in time gets half blocks.
    let mut images = ui::ImageCache::new(image_picker(&settings.console.image_protocol));
    let size = guard.terminal.size()?;
    let (rows, cols) = (size.height, size.width);
    let theme = Theme {
        bands: settings.console.confidence_bands,
        color: !settings.no_color,
    };
    let fit_page = settings.console.page_size == 0;
    let limit = match fit_page {
        true => u32::from(rows.saturating_sub(CHROME_ROWS).max(1)),
        false => settings.console.page_size,
    };
    let mut query = ListQuery {
        limit: limit.min(ListQuery::MAX_LIMIT),
        ..ListQuery::default()
    };
    let state_file = settings.state_file();
    let saved = SavedView::load(&state_file);
    if let Some(saved) = &saved {
        saved.apply(&mut query);
    }
    let mut app = App::new(Utc::now(), query, theme, fit_page);
    app.filter_history = saved.map(|s| s.history).unwrap_or_default();
    if settings.remote.is_none() {
        app.empty_hint = format!(
            "no cards yet: drop a submission folder (images and a submission.toml) into {}, or run `idreviewd demo`",
            settings.data_dir.join("inbox").display()
        );
    }
    // Checked when the settings were read; the defaults are a safe fallback.
    if let Ok(table) = settings.console.key_table() {
        app.keys = Arc::new(table);
    }
    app.next_after_decision =
        settings.console.after_decision == crate::settings::AfterDecision::Next;
    app.reasons = Arc::new(settings.console.reasons.clone());
    app.utc_offset_secs = chrono::Local::now().offset().local_minus_utc();
    app.update(Action::Connected(welcome));
    app.update(Action::Resize { rows, cols });

    let stop = Arc::new(AtomicBool::new(false));
    let mut events = spawn_input(stop.clone());
    let period = Duration::from_secs(settings.console.refresh_secs.max(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);

    // Closing the terminal or `kill` quits the way `q` does, giving claims back.
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut commands = app.start();
    let result = loop {
        let quitting = commands.contains(&Command::Quit);
        let mut releases = Vec::new();
        for command in commands.drain(..) {
            match command {
                Command::Rpc(request) => {
                    if let Request::Release(id) = &request {
                        releases.push(*id);
                    }
                    worker.send(request);
                }
                Command::SaveView(view) => {
                    if let Err(e) = view.save(&state_file) {
                        tracing::warn!(error = %e, "cannot remember the view");
                    }
                }
                Command::Quit => {}
            }
        }
        if quitting {
            await_releases(&mut actions, releases).await;
            break Ok(());
        }
        if let Err(e) = guard
            .terminal
            .draw(|frame| ui::render_with(&app, frame, &mut images))
        {
            break Err(Error::Io(e));
        }
        commands = tokio::select! {
            event = events.recv() => match event {
                Some(Event::Key(key)) => app.press(key),
                Some(Event::Resize(cols, rows)) => app.update(Action::Resize { rows, cols }),
                Some(_) => vec![],
                None => break Err(Error::Io(std::io::Error::other("the terminal input closed"))),
            },
            Some(action) = actions.recv() => app.update(action),
            _ = ticks.tick() => app.update(Action::Tick(Utc::now())),
            _ = hangup.recv() => app.update(Action::Quit),
            _ = terminate.recv() => app.update(Action::Quit),
        };
    };
    stop.store(true, Ordering::Relaxed);
    drop(guard);
    result
}

/// Waits (a short while at most) for the daemon to answer the releases sent on the way out, so
/// that a reviewer who quits never leaves a card held until its lease runs out.
async fn await_releases(actions: &mut mpsc::UnboundedReceiver<Action>, mut pending: Vec<CardId>) {
    let deadline = tokio::time::Instant::now() + RELEASE_WAIT;
    while !pending.is_empty() {
        match tokio::time::timeout_at(deadline, actions.recv()).await {
            Ok(Some(Action::Released { id, result })) => {
                if let Err(e) = result {
                    tracing::warn!(card = %id, error = %e, "could not give the claim back on quitting");
                }
                pending.retain(|p| *p != id);
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                tracing::warn!(cards = ?pending, "quit before the daemon answered the release");
                return;
            }
        }
    }
}

/// The image protocol: asked of the terminal (`auto`, with a short timeout) or half blocks.
fn image_picker(setting: &str) -> ratatui_image::picker::Picker {
    use ratatui_image::picker::{Picker, cap_parser::QueryStdioOptions};
    // A terminal that never answers leaves the query's reader thread blocked on stdin, where
    // it would eat a key press (and later switch raw mode off): multiplexers and plain
    // terminals are not asked at all.
    let term = std::env::var("TERM").unwrap_or_default();
    let multiplexed = std::env::var_os("TMUX").is_some()
        || term.starts_with("screen")
        || term.starts_with("tmux");
    if setting != "auto" || multiplexed || term.is_empty() || term == "dumb" {
        return Picker::halfblocks();
    }
    let options = QueryStdioOptions {
        timeout: Duration::from_millis(1000),
        ..QueryStdioOptions::default()
    };
    Picker::from_query_stdio_with_options(options).unwrap_or_else(|e| {
        tracing::info!(error = %e, "the terminal did not say which images it shows; using half blocks");
        Picker::halfblocks()
    })
}

/// Reads terminal events on a thread of its own (crossterm's read blocks) until `stop`.
fn spawn_input(stop: Arc<AtomicBool>) -> mpsc::UnboundedReceiver<Event> {
    // Terminal events, in order, to the event loop.
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(INPUT_POLL) {
                Ok(false) => continue,
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(ev).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reading the terminal failed");
                        return;
                    }
                },
                Err(e) => {
                    tracing::error!(error = %e, "polling the terminal failed");
                    return;
                }
            }
        }
    });
    rx
}
