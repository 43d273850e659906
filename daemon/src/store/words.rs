//! The inverted word index behind free-text search: each lower-case word of a card (user id,
//! its parts, field values, country) maps to the ids of the cards that hold it, so a search
//! word is answered by a range of the sorted map (every word it is a prefix of), not by a scan
//! of every card.

use std::collections::BTreeMap;
use std::ops::Bound;

use compact_str::CompactString;
use roaring::RoaringBitmap;

/// Cards holding one word. Most words (user ids, document numbers) belong to one card, which
/// needs no bitmap; the others name their bitmap by its place in [`Words::many`], so that an
/// entry of the map is 32 bytes, not 40.
#[derive(Clone, Copy)]
enum Posting {
    One(u32),
    Many(u32),
}

/// Word -> cards. Words are short, so they are kept inline (up to 24 bytes) rather than each in
/// an allocation of its own: a store of 100,000 cards has some 300,000 distinct words.
#[derive(Default)]
pub struct Words {
    map: BTreeMap<CompactString, Posting>,
    /// The bitmaps of words on more than one card; free places are in `free`.
    many: Vec<RoaringBitmap>,
    free: Vec<u32>,
    /// While loading (see [`Words::loading`]): every word and card inserted, in any order.
    pending: Option<Vec<(CompactString, u32)>>,
}

impl Words {
    /// An empty index about to receive many words (the rebuild at start): inserts are only
    /// collected, then sorted and built into a packed map at once by [`Words::compact`]. A
    /// sort of half a million words costs a fraction of as many searches and inserts in the
    /// map, one at a time.
    pub fn loading() -> Words {
        Words {
            pending: Some(Vec::new()),
            ..Words::default()
        }
    }

    pub fn insert(&mut self, word: &str, id: u32) {
        if let Some(pending) = &mut self.pending {
            pending.push((word.into(), id));
            return;
        }
        match self.map.get(word).copied() {
            None => {
                self.map.insert(word.into(), Posting::One(id));
            }
            Some(Posting::One(other)) if other == id => {}
            Some(Posting::One(other)) => {
                let ids = RoaringBitmap::from_iter([other, id]);
                let slot = match self.free.pop() {
                    Some(slot) => {
                        self.many[slot as usize] = ids;
                        slot
                    }
                    None => {
                        self.many.push(ids);
                        u32::try_from(self.many.len() - 1).unwrap_or(u32::MAX)
                    }
                };
                self.map.insert(word.into(), Posting::Many(slot));
            }
            Some(Posting::Many(slot)) => {
                if let Some(ids) = self.many.get_mut(slot as usize) {
                    ids.insert(id);
                }
            }
        }
    }

    pub fn remove(&mut self, word: &str, id: u32) {
        self.finish_loading();
        let now_empty = match self.map.get(word).copied() {
            Some(Posting::One(other)) => other == id,
            Some(Posting::Many(slot)) => match self.many.get_mut(slot as usize) {
                Some(ids) => {
                    ids.remove(id);
                    let empty = ids.is_empty();
                    if empty {
                        *ids = RoaringBitmap::new();
                        self.free.push(slot);
                    }
                    empty
                }
                None => false,
            },
            None => false,
        };
        if now_empty {
            self.map.remove(word);
        }
    }

    /// Packs the map's nodes full. Words inserted in ascending order (each new card's user id
    /// and document number) leave the nodes they split about half full; rebuilt from its
    /// sorted entries, the map takes about half the memory. For after the rebuild at start.
    /// Ends loading, if the index was loading.
    pub fn compact(&mut self) {
        if !self.finish_loading() {
            self.map = std::mem::take(&mut self.map).into_iter().collect();
        }
    }

    /// Builds the map from the words collected while loading (nodes packed full: the map is
    /// built from sorted entries); false when the index was not loading.
    fn finish_loading(&mut self) -> bool {
        let Some(mut pending) = self.pending.take() else {
            return false;
        };
        pending.sort_unstable();
        pending.dedup();
        let mut entries: Vec<(CompactString, Posting)> = Vec::new();
        let mut pending = pending.into_iter().peekable();
        while let Some((word, id)) = pending.next() {
            let posting = match pending.next_if(|(w, _)| *w == word) {
                None => Posting::One(id),
                Some((_, second)) => {
                    let mut ids = RoaringBitmap::from_iter([id, second]);
                    while let Some((_, next)) = pending.next_if(|(w, _)| *w == word) {
                        ids.insert(next);
                    }
                    self.many.push(ids);
                    Posting::Many(u32::try_from(self.many.len() - 1).unwrap_or(u32::MAX))
                }
            };
            entries.push((word, posting));
        }
        // Built from sorted entries, the map fills its nodes (one insert at a time would
        // leave them half full).
        self.map = entries.into_iter().collect();
        true
    }

    /// Cards holding a word that starts with `prefix` (already lower-case).
    pub fn with_prefix(&self, prefix: &str) -> RoaringBitmap {
        debug_assert!(
            self.pending.is_none(),
            "a search while the words are loading"
        );
        let mut out = RoaringBitmap::new();
        let range = self
            .map
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded));
        for (_, posting) in range.take_while(|(w, _)| w.starts_with(prefix)) {
            match *posting {
                Posting::One(id) => {
                    out.insert(id);
                }
                Posting::Many(slot) => {
                    if let Some(ids) = self.many.get(slot as usize) {
                        out |= ids;
                    }
                }
            }
        }
        out
    }
}

/// The words of a text: lower-case runs of letters and digits.
pub fn split(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_find_every_card_holding_a_longer_word() {
        let mut words = Words::default();
        words.insert("eriksson", 1);
        words.insert("erika", 2);
        words.insert("erik", 3);
        words.insert("eriksson", 4);
        words.insert("smith", 5);
        let ids: Vec<u32> = words.with_prefix("erik").iter().collect();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        let ids: Vec<u32> = words.with_prefix("eriks").iter().collect();
        assert_eq!(ids, vec![1, 4]);
        words.remove("eriksson", 1);
        words.remove("eriksson", 4);
        assert_eq!(words.with_prefix("eriks").len(), 0);
        assert!(words.with_prefix("zzz").is_empty());
        // The emptied bitmap's place is taken by the next word on two cards.
        assert_eq!(words.free.len(), 1);
        words.insert("smith", 6);
        assert!(words.free.is_empty());
        words.compact();
        let ids: Vec<u32> = words.with_prefix("").iter().collect();
        assert_eq!(ids, vec![2, 3, 5, 6]);
    }

    /// Loaded in bulk (the rebuild at start), the index answers as one built insert by insert.
    #[test]
    fn a_loaded_index_answers_as_one_built_word_by_word() {
        let mut live = Words::default();
        let mut loaded = Words::loading();
        // Words shared by many cards, by two, and by one, inserted out of order and twice.
        let mut seed = 7u64;
        for id in (0..2_000u32).rev() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let words = [
                format!("user{id}"),
                format!("pair{}", id / 2),
                format!("w{}", seed >> 60),
                "common".to_string(),
            ];
            for word in words.iter().chain(&words[..1]) {
                live.insert(word, id);
                loaded.insert(word, id);
            }
        }
        live.compact();
        loaded.compact();
        assert_eq!(loaded.map.len(), live.map.len());
        for prefix in [
            "", "user1", "user1999", "pair", "pair7", "w", "w1", "common", "zz",
        ] {
            assert_eq!(
                loaded.with_prefix(prefix),
                live.with_prefix(prefix),
                "{prefix}"
            );
        }
        for word in live.map.keys() {
            assert_eq!(loaded.with_prefix(word), live.with_prefix(word), "{word}");
        }
        // Removal after loading keeps working.
        loaded.remove("common", 5);
        live.remove("common", 5);
        assert_eq!(loaded.with_prefix("common"), live.with_prefix("common"));
    }

    #[test]
    fn splits_on_anything_but_letters_and_digits() {
        let got: Vec<String> = split("demo-1-3 ANNA<MARIA 1974-08-12").collect();
        assert_eq!(
            got,
            vec!["demo", "1", "3", "anna", "maria", "1974", "08", "12"]
        );
    }
}
