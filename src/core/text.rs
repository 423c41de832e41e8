//! Text the first pass makes for every packet without a heap allocation while it is short: an
//! owned string kept inline ([`Short`]: an Alink id, a topic) and a writer on the stack
//! ([`StackText`]: the Info column's text).

use std::fmt;

/// An owned string kept inline while it fits in `N` bytes (N ≤ 255), else on the heap.
#[derive(Clone, PartialEq, Eq)]
pub enum Short<const N: usize> {
    Inline(u8, [u8; N]),
    Heap(Box<str>),
}

impl<const N: usize> From<&str> for Short<N> {
    fn from(s: &str) -> Self {
        let mut b = [0u8; N];
        match b.get_mut(..s.len()).filter(|_| s.len() <= u8::MAX as usize) {
            Some(head) => {
                head.copy_from_slice(s.as_bytes());
                Short::Inline(s.len() as u8, b)
            }
            None => Short::Heap(s.into()),
        }
    }
}

impl<const N: usize> std::ops::Deref for Short<N> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // Copied from a `str`: always UTF-8.
            Short::Inline(n, b) => std::str::from_utf8(&b[..*n as usize]).unwrap_or_default(),
            Short::Heap(s) => s,
        }
    }
}

impl<const N: usize> fmt::Display for Short<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl<const N: usize> fmt::Debug for Short<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Text written on the stack, moved to the heap only past `N` bytes.
pub struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
    spilled: Option<String>,
}

impl<const N: usize> Default for StackText<N> {
    fn default() -> Self {
        StackText {
            buf: [0; N],
            len: 0,
            spilled: None,
        }
    }
}

impl<const N: usize> StackText<N> {
    pub fn as_str(&self) -> &str {
        match &self.spilled {
            Some(s) => s,
            // Whole `str`s were copied in: always UTF-8.
            None => std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default(),
        }
    }
}

impl<const N: usize> fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(h) = &mut self.spilled {
            h.push_str(s);
        } else if let Some(room) = self.buf.get_mut(self.len..self.len + s.len()) {
            room.copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut h = self.as_str().to_string();
            h.push_str(s);
            self.spilled = Some(h);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn short_inline_and_on_the_heap() {
        let fits = "1234567890123456789012";
        let long = "12345678901234567890123";
        assert!(matches!(Short::<22>::from(fits), Short::Inline(22, _)));
        assert!(matches!(Short::<22>::from(long), Short::Heap(_)));
        for t in ["", "7", "ü-é", fits, long] {
            let s = Short::<22>::from(t);
            assert_eq!(
                (&*s, s.to_string(), format!("{s:?}")),
                (t, t.to_string(), format!("{t:?}"))
            );
        }
        // More than 255 bytes never inline, whatever N.
        let big = "x".repeat(300);
        assert!(matches!(Short::<400>::from(&*big), Short::Heap(_)));
    }

    #[test]
    fn stack_text_spills_to_the_heap() {
        let mut t = StackText::<8>::default();
        write!(t, "abc").unwrap();
        assert_eq!((t.as_str(), t.spilled.is_none()), ("abc", true));
        write!(t, "défg{}", 42).unwrap();
        assert_eq!((t.as_str(), t.spilled.is_some()), ("abcdéfg42", true));
        write!(t, "!").unwrap();
        assert_eq!(t.as_str(), "abcdéfg42!");
    }
}
