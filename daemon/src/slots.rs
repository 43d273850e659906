//! Values by dense numeric key (card ids come from a counter), stored in chunks of
//! [`CHUNK`] slots. A `Vec` of every row would double its allocation the first time a card
//! is added after start (at 100,000 cards, 12.8 MB of index rows become a 25.6 MB
//! allocation, kept for good); chunks grow the memory one chunk at a time and never move a
//! row.

/// Slots per chunk: 1,024 rows of the index are about 128 KB.
const CHUNK: usize = 1024;

/// A slot per key from 0 to the highest key set, each holding a value or nothing.
pub struct Slots<T> {
    chunks: Vec<Box<[Option<T>]>>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots { chunks: Vec::new() }
    }
}

impl<T> Slots<T> {
    /// The value at `key`, if one is set.
    pub fn get(&self, key: u32) -> Option<&T> {
        let (chunk, at) = place(key);
        self.chunks.get(chunk)?[at].as_ref()
    }

    /// Sets `key`'s value, adding chunks up to it when needed.
    pub fn set(&mut self, key: u32, value: T) {
        let (chunk, at) = place(key);
        while self.chunks.len() <= chunk {
            self.chunks.push((0..CHUNK).map(|_| None).collect());
        }
        self.chunks[chunk][at] = Some(value);
    }

    /// Takes `key`'s value out, leaving its slot empty.
    pub fn take(&mut self, key: u32) -> Option<T> {
        let (chunk, at) = place(key);
        self.chunks.get_mut(chunk)?[at].take()
    }

    /// Every set value with its key, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        (0u32..)
            .zip(self.chunks.iter().flat_map(|c| c.iter()))
            .filter_map(|(k, v)| Some((k, v.as_ref()?)))
    }
}

fn place(key: u32) -> (usize, usize) {
    let key = key as usize;
    (key / CHUNK, key % CHUNK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_key_across_chunks_and_taken_out() {
        let mut slots = Slots::default();
        for key in [0u32, 5, 1023, 1024, 5000] {
            slots.set(key, key * 2);
        }
        assert_eq!(slots.get(1024), Some(&2048));
        assert_eq!(slots.get(1023), Some(&2046));
        assert_eq!(slots.get(4), None);
        assert_eq!(slots.get(1_000_000), None);
        assert_eq!(slots.take(5), Some(10));
        assert_eq!(slots.take(5), None);
        assert_eq!(slots.take(9_999_999), None);
        let all: Vec<(u32, u32)> = slots.iter().map(|(k, v)| (k, *v)).collect();
        assert_eq!(all, [(0, 0), (1023, 2046), (1024, 2048), (5000, 10000)]);
        assert_eq!(
            slots.chunks.len(),
            5,
            "chunks up to the highest key, no more"
        );
    }
}
