//! The zone as read on the detail screen, and the image outside the console: unsure characters
//! in reverse video with `^` under them, repaired ones underlined with `*`, nothing for a card
//! read without a zone; `o` opens the image in the system viewer and `W` writes it where the
//! reviewer says, errors on the status line; the image shown first is the side of the zone.

use idreview_protocol::CardId;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Modifier;

use super::tests::{detail, draw_sized, lines, press};
use crate::app::{Level, fixtures};
use crate::message::{Action, Command, Request};

#[test]
fn the_zone_shows_as_read_with_unsure_and_repaired_characters_marked() {
    let app = detail();
    let screen = draw_sized(&app, 40);
    let text = lines(&screen);
    let row = text
        .iter()
        .position(|l| l.starts_with("  C01XO0T478D"))
        .unwrap_or_else(|| panic!("the second row:\n{}", text.join("\n")));
    assert!(text[row - 4].contains("Machine-readable zone (front side)"));
    assert!(text[row - 2].contains("P<D<<MUSTERMANN<<ERIKA<<<"));
    // Under the row: `^` under the O read at 0.42 (column 4), `*` under the repair (column 9).
    assert_eq!(text[row + 1].trim_end(), "      ^    *");
    let buffer = screen.buffer();
    let y = u16::try_from(row).expect("row");
    assert_eq!(buffer[(6, y)].symbol(), "O");
    assert!(
        buffer[(6, y)].modifier.contains(Modifier::REVERSED),
        "the unsure O"
    );
    assert!(
        !buffer[(7, y)].modifier.contains(Modifier::REVERSED),
        "the sure 0"
    );
    assert!(
        buffer[(11, y)].modifier.contains(Modifier::UNDERLINED),
        "the repair"
    );
    insta::assert_snapshot!("detail_with_zone", screen);

    // A card read without a zone (ID Analyzer) has no such section.
    let mut app = detail();
    let mut card = fixtures::card(3);
    card.raw_zone = None;
    app.update(Action::CardLoaded {
        id: CardId(3),
        result: Ok(card),
    });
    let text = lines(&draw_sized(&app, 40));
    assert!(!text.iter().any(|l| l.contains("Machine-readable zone")));
}

#[test]
fn o_opens_the_image_in_the_viewer_and_w_writes_it_where_asked() {
    let mut app = detail();
    let commands = press(&mut app, KeyCode::Char('o'));
    let open = Request::ExportImage {
        id: CardId(3),
        name: "front.jpg".into(),
        to: None,
    };
    assert_eq!(commands, vec![Command::Rpc(open)]);
    app.update(Action::ImageExported(Err(
        "xdg-open is not installed; press W to write the image to a file instead".into(),
    )));
    let status = app.status.clone().expect("a status line");
    assert_eq!(status.level, Level::Error);
    assert!(status.text.contains("xdg-open is not installed"));

    assert!(press(&mut app, KeyCode::Char('W')).is_empty());
    let prompt = app.prompt.clone().expect("a path prompt");
    assert_eq!(prompt.text, "./card-3-front.jpg");
    assert_eq!(prompt.label(), "write card 3 front.jpg to: ");
    let commands = press(&mut app, KeyCode::Enter);
    let write = Request::ExportImage {
        id: CardId(3),
        name: "front.jpg".into(),
        to: Some("./card-3-front.jpg".into()),
    };
    assert_eq!(commands, vec![Command::Rpc(write)]);
    app.update(Action::ImageExported(Ok(
        "wrote card 3 front.jpg to ./card-3-front.jpg".into(),
    )));
    assert_eq!(app.status.map(|s| s.level), Some(Level::Info));
}

#[test]
fn the_image_shown_first_is_the_side_the_zone_was_read_from() {
    let mut app = detail();
    let mut card = fixtures::card(3);
    card.files.push(idreview_protocol::fixtures::file(
        idreview_protocol::FileRole::Back,
        "back.jpg",
        "users/user-003/id-card/3/back.jpg",
    ));
    if let Some(zone) = card.raw_zone.as_mut() {
        zone.side = idreview_protocol::Side::Back;
    }
    app.update(Action::CardLoaded {
        id: CardId(3),
        result: Ok(card),
    });
    let back = Request::Image {
        id: CardId(3),
        name: "back.jpg".into(),
    };
    assert_eq!(
        press(&mut app, KeyCode::Char('i')),
        vec![Command::Rpc(back)]
    );
}
