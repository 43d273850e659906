//! Short texts that many rows of an in-memory index share (countries, reviewers' names, the
//! names of a card's unsure fields), each kept once and named by a 4-byte [`Code`]: 100,000
//! rows naming one of a few dozen countries hold a code each instead of a string each. A text
//! is forgotten when the last row holding it lets go, so the table never outgrows what the rows
//! name.

use std::collections::HashMap;
use std::num::NonZeroU32;

/// A text's number in its [`Interned`] table (`Option<Code>` is 4 bytes too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code(NonZeroU32);

impl Code {
    fn slot(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// The table: each text once, with how many holders it has.
#[derive(Default)]
pub struct Interned {
    /// By [`Code::slot`]: the text and its holders (0: the slot is free for another text).
    texts: Vec<(Box<str>, u32)>,
    codes: HashMap<Box<str>, Code>,
    free: Vec<Code>,
}

impl Interned {
    /// The code of `text`, counting one more holder of it.
    pub fn hold(&mut self, text: &str) -> Code {
        if let Some(&code) = self.codes.get(text) {
            self.texts[code.slot()].1 += 1;
            return code;
        }
        let code = match self.free.pop() {
            Some(code) => {
                self.texts[code.slot()] = (text.into(), 1);
                code
            }
            None => {
                self.texts.push((text.into(), 1));
                let n = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
                Code(NonZeroU32::MIN.saturating_add(n - 1))
            }
        };
        self.codes.insert(text.into(), code);
        code
    }

    /// Lets go of one holder of `code`; the text goes with its last holder.
    pub fn release(&mut self, code: Code) {
        let Some((text, holders)) = self.texts.get_mut(code.slot()) else {
            return;
        };
        *holders = holders.saturating_sub(1);
        if *holders == 0 {
            let text = std::mem::take(text);
            self.codes.remove(&text);
            self.free.push(code);
        }
    }

    /// The text of `code`.
    pub fn get(&self, code: Code) -> &str {
        self.texts.get(code.slot()).map_or("", |(text, _)| text)
    }

    /// How many different texts are held.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_kept_once_and_forgotten_with_its_last_holder() {
        let mut t = Interned::default();
        let de = t.hold("DE");
        let fr = t.hold("FR");
        assert_eq!(t.hold("DE"), de);
        assert_ne!(de, fr);
        assert_eq!((t.get(de), t.get(fr), t.len()), ("DE", "FR", 2));
        t.release(de);
        assert_eq!(t.get(de), "DE", "one holder left");
        t.release(de);
        assert_eq!(t.len(), 1);
        // The freed code is reused for the next new text, not the table grown.
        let it = t.hold("IT");
        assert_eq!((it, t.get(it)), (de, "IT"));
        assert_eq!(t.hold("DE"), Code(NonZeroU32::MIN.saturating_add(2)));
        assert_eq!(t.len(), 3);
    }
}
