//! Stable numbers for people: the seed's clients know a user and a reviewer by an integer id,
//! ours by a string (a user id, a token identity). The `people` tree maps each name, with its
//! kind, to a number handed out from a counter on first sight and never changed; the table is
//! kept in memory as well, since every card the HTTP API answers names one or two.

use std::collections::HashMap;
use std::sync::RwLock;

use super::{Store, StoreError, be_u64};

/// Key in `meta` of the last person number handed out.
const NEXT_PERSON_ID: &[u8] = b"next_person_id";

/// Which name space a person's name is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Person {
    /// A card's user id (`u1`).
    User,
    /// An identity that acts on cards (`token:alice`, `local:1000`).
    Actor,
}

impl Person {
    fn key(self, name: &str) -> String {
        match self {
            Person::User => format!("user:{name}"),
            Person::Actor => format!("actor:{name}"),
        }
    }
}

/// The `people` tree and its in-memory copy.
pub(super) struct People {
    /// `user:<id>` / `actor:<identity>` -> number (u64 BE)
    tree: sled::Tree,
    table: RwLock<HashMap<String, u64>>,
    /// Serialises handing out numbers.
    writer: std::sync::Mutex<()>,
}

impl People {
    pub(super) fn open(db: &sled::Db) -> Result<People, StoreError> {
        let tree = db.open_tree("people")?;
        let mut table = HashMap::new();
        for item in tree.iter() {
            let (key, value) = item?;
            table.insert(String::from_utf8_lossy(&key).into_owned(), be_u64(&value));
        }
        Ok(People {
            tree,
            table: RwLock::new(table),
            writer: std::sync::Mutex::new(()),
        })
    }
}

impl Store {
    /// The person's number, if one was handed out.
    pub fn person_number(&self, kind: Person, name: &str) -> Option<u64> {
        let people = &self.inner.people;
        let table = people.table.read().unwrap_or_else(|p| p.into_inner());
        table.get(&kind.key(name)).copied()
    }

    /// The person's number, handed out now if this is the first time (buffered: durable with
    /// the next flush).
    pub fn person(&self, kind: Person, name: &str) -> Result<u64, StoreError> {
        if let Some(n) = self.person_number(kind, name) {
            return Ok(n);
        }
        let people = &self.inner.people;
        let _writer = people.writer.lock().map_err(|_| StoreError::Poisoned)?;
        let key = kind.key(name);
        if let Some(n) = self.person_number(kind, name) {
            return Ok(n);
        }
        let next = self.inner.meta.update_and_fetch(NEXT_PERSON_ID, |old| {
            Some((old.map_or(0, be_u64) + 1).to_be_bytes().to_vec())
        })?;
        let n = next.as_deref().map_or(1, be_u64);
        people.tree.insert(key.as_bytes(), &n.to_be_bytes())?;
        let mut table = people.table.write().unwrap_or_else(|p| p.into_inner());
        table.insert(key, n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_handed_out_once_and_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (u1, alice) = {
            let store = Store::open(dir.path(), 0.8).expect("store");
            let u1 = store.person(Person::User, "u1").expect("u1");
            let alice = store.person(Person::Actor, "token:alice").expect("alice");
            assert_eq!(store.person(Person::User, "u1").expect("again"), u1);
            assert_ne!(u1, alice);
            assert_eq!(
                store.person_number(Person::Actor, "u1"),
                None,
                "kinds apart"
            );
            (u1, alice)
        };
        let store = super::super::reopen(dir.path());
        assert_eq!(store.person_number(Person::User, "u1"), Some(u1));
        assert_eq!(
            store.person(Person::Actor, "token:alice").expect("a"),
            alice
        );
        assert!(store.person(Person::User, "u2").expect("u2") > alice);
    }
}
