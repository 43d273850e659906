use crate::FieldSource::Mrz;
use crate::Role;
use crate::fixtures::{card, field};

#[test]
fn the_holder_is_the_full_name_or_given_names_then_surname() {
    let zone = card(1)
        .field(field("surname", "MUELLER", 0.9, Mrz))
        .field(field("given_names", "LEON MARIE", 0.9, Mrz))
        .build();
    assert_eq!(zone.holder().as_deref(), Some("LEON MARIE MUELLER"));
    let provider = card(2)
        .field(field("last_name", "Dupont", 0.9, Mrz))
        .field(field("first_name", "Anna", 0.9, Mrz))
        .field(field("full_name", "Anna Dupont-Leroy", 0.9, Mrz))
        .build();
    assert_eq!(provider.holder().as_deref(), Some("Anna Dupont-Leroy"));
    let surname_only = card(3).field(field("surname", "NOWAK", 0.9, Mrz)).build();
    assert_eq!(surname_only.holder().as_deref(), Some("NOWAK"));
    let blank = card(4).field(field("surname", "  ", 0.9, Mrz)).build();
    assert_eq!(blank.holder(), None);
    assert_eq!(card(5).build().holder(), None);
}

#[test]
fn the_permission_table() {
    let table = [
        (Role::Submitter, [true, false, false, false]),
        (Role::Reviewer, [true, true, false, false]),
        (Role::Admin, [true, true, true, false]),
        (Role::Service, [true, false, false, true]),
    ];
    for (role, allowed) in table {
        for (needed, ok) in Role::ALL.iter().zip(allowed) {
            assert_eq!(role.may(*needed), ok, "{role} for {needed}");
        }
    }
}
