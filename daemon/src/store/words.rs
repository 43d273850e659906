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
}

impl Words {
    pub fn insert(&mut self, word: &str, id: u32) {
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
    pub fn compact(&mut self) {
        self.map = std::mem::take(&mut self.map).into_iter().collect();
    }

    /// Cards holding a word that starts with `prefix` (already lower-case).
    pub fn with_prefix(&self, prefix: &str) -> RoaringBitmap {
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

    #[test]
    fn splits_on_anything_but_letters_and_digits() {
        let got: Vec<String> = split("demo-1-3 ANNA<MARIA 1974-08-12").collect();
        assert_eq!(
            got,
            vec!["demo", "1", "3", "anna", "maria", "1974", "08", "12"]
        );
    }
}
