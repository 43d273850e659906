//! The console at the two sizes reviewers use, 80x24 and 200x50: the list's columns by
//! priority, the counts never cut off, search words highlighted, the help without overlapping
//! columns, and the detail screen with the image beside the text when wide.

use idreview_protocol::CardId;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Modifier;

use super::tests::{detail, lines, loaded, press, type_text};
use crate::app::{App, fixtures};
use crate::message::{Action, Command, Request};

const NAMES: [&str; 8] = [
    "ANNA MUELLER",
    "LUCAS DUPONT",
    "SOFIA JANSSEN",
    "NOAH GARCIA",
    "LEON MARIE LINDQVIST",
    "MATEO ROSSI",
    "LINA NOWAK",
    "CLARA PEETERS-VAN DEN BERGHE",
];

/// A loaded console of `cols` x `rows` whose cards have long user ids and holder names, and
/// counts in every status.
fn sized(cols: u16, rows: u16) -> App {
    let mut app = loaded();
    let mut page = fixtures::page(0, 8, 8);
    for (card, name) in page.cards.iter_mut().zip(NAMES) {
        card.user_id = format!("demo-1765066000-{:05}", card.id.0);
        card.holder = Some(name.into());
    }
    let query = app.list.query.clone();
    app.update(Action::PageLoaded {
        query,
        result: Ok(page),
    });
    let mut health = fixtures::health();
    health.by_status = idreview_protocol::Status::ALL
        .iter()
        .map(|s| (*s, 1000))
        .collect();
    health.cards = 7000;
    app.update(Action::HealthLoaded(Ok(health)));
    app.update(Action::Resize { rows, cols });
    app
}

fn draw(app: &App) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(app.cols, app.rows)).expect("test terminal");
    terminal
        .draw(|frame| super::render(app, frame))
        .expect("draws");
    terminal.backend().clone()
}

#[test]
fn the_list_at_80_columns_keeps_user_ids_apart_and_every_count() {
    let app = sized(80, 24);
    let screen = draw(&app);
    let text = lines(&screen);
    for status in idreview_protocol::Status::ALL {
        let count = format!("{} 1000", status.as_str());
        assert!(
            text.iter().any(|l| l.contains(&count)),
            "{count} is on screen:\n{}",
            text.join("\n")
        );
    }
    assert!(text.iter().any(|l| l.contains("7000 cards:")));
    // Each row's user id keeps its distinguishing end.
    for id in 1..=8 {
        let end = format!("{id:05}");
        assert!(
            text.iter().any(|l| l.contains(&end) && l.contains("demo-")),
            "user {end}:\n{}",
            text.join("\n")
        );
    }
    assert!(text.iter().any(|l| l.contains("ANNA MUELLER")));
    // The page fits under the taller header: the last of 8 rows and the hint bar both show.
    assert!(text.iter().any(|l| l.contains("00008")));
    insta::assert_snapshot!("list_80x24", screen);
}

#[test]
fn the_list_at_200_columns_gives_the_user_column_only_what_it_needs() {
    let app = sized(200, 50);
    let screen = draw(&app);
    let text = lines(&screen);
    let titles = text
        .iter()
        .find(|l| l.contains("holder") && l.contains("assignee"))
        .expect("every column at 200");
    let user = titles.find("user").expect("user title");
    let next = titles.find("type").expect("type title");
    assert!(
        next - user <= 33,
        "the user column is {} wide:\n{titles}",
        next - user
    );
    assert!(
        text[0].contains("needs_review 1000") && text[0].contains("rejected 1000"),
        "the counts fit beside the connection: {}",
        text[0]
    );
    assert!(
        text.iter()
            .any(|l| l.contains("CLARA PEETERS-VAN DEN BERGHE"))
    );
    insta::assert_snapshot!("list_200x50", screen);
}

#[test]
fn search_words_are_highlighted_in_the_list() {
    let mut app = sized(120, 24);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "muel");
    let commands = press(&mut app, KeyCode::Enter);
    let Some(Command::Rpc(Request::List(query))) = commands.first().cloned() else {
        panic!("no list request: {commands:?}");
    };
    let mut page = fixtures::page(0, 1, 1);
    page.cards[0].holder = Some("ANNA MUELLER".into());
    app.update(Action::PageLoaded {
        query,
        result: Ok(page),
    });
    let screen = draw(&app);
    let buffer = screen.buffer();
    let row = (0..buffer.area.height)
        .find(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, *y)].symbol())
                .collect::<String>()
                .contains("ANNA MUELLER")
        })
        .expect("the row");
    let line: String = (0..buffer.area.width)
        .map(|x| buffer[(x, row)].symbol())
        .collect();
    let at = line.find("MUELLER").expect("name") as u16;
    let marked = |x: u16| buffer[(x, row)].modifier.contains(Modifier::UNDERLINED);
    assert!((at..at + 4).all(marked), "MUEL is highlighted");
    assert!(!marked(at + 4), "LER is not");
    assert!(!marked(at - 2), "ANNA is not");
}

#[test]
fn the_help_at_80x24_is_one_column_with_every_text_whole() {
    let mut app = sized(80, 24);
    press(&mut app, KeyCode::Char('?'));
    let screen = draw(&app);
    insta::assert_snapshot!("help_80x24", screen);
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..120 {
        seen.extend(lines(&draw(&app)));
        press(&mut app, KeyCode::Char('j'));
    }
    let has = |text: &str| seen.iter().any(|l| l.contains(text));
    for text in [
        "the review queue: every card needing a person, oldest first",
        "mark this card and the previous, moving up",
        "accept the field as it is, go to the next unsure one",
        "complete a filter key; in a reason, the next preset",
    ] {
        assert!(
            has(text),
            "{text:?} whole on one line:\n{}",
            seen.join("\n")
        );
    }
    assert!(
        !seen
            .iter()
            .any(|l| l.contains("Card list") && l.contains("List and detail")),
        "one column at 80"
    );
    assert!(
        has("Everywhere") && has("quit the console"),
        "the help scrolls to its end"
    );
}

#[test]
fn the_detail_at_200_columns_shows_the_image_beside_the_fields() {
    let mut app = detail();
    app.update(Action::Resize {
        rows: 50,
        cols: 200,
    });
    // Opening a card on a wide screen fetches its image at once.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Enter);
    let commands = app.update(Action::Claimed {
        id: CardId(3),
        result: Ok(fixtures::card(3)),
    });
    let wanted = Request::Image {
        id: CardId(3),
        name: "front.jpg".into(),
    };
    assert_eq!(commands, vec![Command::Rpc(wanted)]);
    super::tests::show_picture(&mut app, 3);
    let screen = draw(&app);
    let text = lines(&screen);
    let row = text
        .iter()
        .find(|l| l.contains("MUSTERMANN"))
        .expect("the fields");
    assert!(
        row.contains('▀') || row.contains('▄'),
        "the image beside: {row}"
    );
    insta::assert_snapshot!("detail_200x50", screen);
    // `i` hides the image: the text alone, full width.
    press(&mut app, KeyCode::Char('i'));
    let text = lines(&draw(&app));
    assert!(text.iter().all(|l| !l.contains('▀')));

    // At 80 columns, a card opens on its text and `i` swaps to the image.
    let mut narrow = detail();
    narrow.update(Action::Resize { rows: 24, cols: 80 });
    let text = lines(&draw(&narrow));
    assert!(text.iter().any(|l| l.contains("MUSTERMANN")));
    assert!(narrow.detail.as_ref().is_some_and(|d| d.image.is_none()));
}
