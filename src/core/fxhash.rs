//! A fast hasher for the maps keyed by numbers Wireshark assigns or bounded tables hold
//! (connection index, packet id and endpoint, pointers). String keys taken from payloads keep
//! std's keyed SipHash, so a hostile capture cannot choose colliding keys cheaply.
//!
//! The multiply-rotate scheme of rustc's FxHasher: a few instructions per word, no per-map seed
//! (16 bytes less per map, and per connection there are several).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.add(b as u64);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_work_and_spread() {
        let mut m: FxMap<(u8, u64, u16), usize> = FxMap::default();
        for i in 0..10_000u16 {
            m.insert((3, 0xdead_beef, i), i as usize);
        }
        assert_eq!(m.len(), 10_000);
        assert_eq!(m[&(3, 0xdead_beef, 4242)], 4242);
        let h = |v: u32| {
            let mut x = FxHasher::default();
            x.write_u32(v);
            x.finish()
        };
        assert_ne!(h(1), h(2));
    }
}
