//! MQTT over WebSocket: the MQTT spec lets one MQTT packet span several WebSocket messages and one
//! message carry several packets. This cuts each direction's stream of WebSocket payloads back
//! into whole MQTT packets.

/// The platform's largest MQTT packet is 256 KiB; a length beyond this (plus header) is not waited
/// for: the bytes are handed on as they are and MQTT shows them as malformed.
pub const MAX_PACKET: usize = 256 * 1024 + 5;

/// A whole MQTT packet found in a WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Lies inside the current message at this offset and length.
    InMessage { offset: usize, len: usize },
    /// Began in earlier messages: its bytes, put back together.
    Reassembled(Vec<u8>),
}

/// One direction of one WebSocket connection.
#[derive(Debug, Default)]
pub struct Stream {
    pending: Vec<u8>,
}

/// Total length of the MQTT packet at the start of `b` (fixed header + remaining length), or
/// `None` while the fixed header is incomplete. Malformed lengths give `Some(usize::MAX)`.
pub fn packet_len(b: &[u8]) -> Option<usize> {
    let mut len = 0usize;
    for i in 0..4 {
        let byte = *b.get(1 + i)?;
        len |= ((byte & 0x7f) as usize) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(1 + i + 1 + len);
        }
    }
    Some(usize::MAX)
}

impl Stream {
    /// Bytes waiting for the rest of their packet.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Takes the next WebSocket message; returns the whole packets it completes or contains.
    pub fn push(&mut self, msg: &[u8]) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let mut pos = 0;
        while !self.pending.is_empty() && pos < msg.len() {
            match packet_len(&self.pending) {
                Some(total) if total > MAX_PACKET => {
                    // Not a length worth waiting for: give up on the pending bytes.
                    self.pending.clear();
                }
                Some(total) => {
                    let take = (total - self.pending.len()).min(msg.len() - pos);
                    self.pending.extend_from_slice(&msg[pos..pos + take]);
                    pos += take;
                    if self.pending.len() == total {
                        pieces.push(Piece::Reassembled(std::mem::take(&mut self.pending)));
                    }
                }
                None => {
                    self.pending.push(msg[pos]);
                    pos += 1;
                    // The byte that completes the header may complete the packet too (remaining
                    // length 0: PINGREQ, PINGRESP, DISCONNECT).
                    if packet_len(&self.pending) == Some(self.pending.len()) {
                        pieces.push(Piece::Reassembled(std::mem::take(&mut self.pending)));
                    }
                }
            }
        }
        while pos < msg.len() {
            match packet_len(&msg[pos..]) {
                Some(total) if total > MAX_PACKET => {
                    pieces.push(Piece::InMessage {
                        offset: pos,
                        len: msg.len() - pos,
                    });
                    pos = msg.len();
                }
                Some(total) if pos + total <= msg.len() => {
                    pieces.push(Piece::InMessage {
                        offset: pos,
                        len: total,
                    });
                    pos += total;
                }
                _ => {
                    self.pending = msg[pos..].to_vec();
                    pos = msg.len();
                }
            }
        }
        pieces
    }
}

/// MQTT over WebSocket in a capture: each direction's stream, and each message's pieces by
/// (frame, n-th WebSocket message of the frame), so every pass cuts them the same way.
#[derive(Debug, Default)]
pub struct Streams {
    streams: std::collections::HashMap<(u32, u64), Stream>,
    pieces: std::collections::HashMap<(u32, u32), Vec<Piece>>,
}

impl Streams {
    /// The pieces of WebSocket message `msg`, the `seq`-th of frame `frame` on `stream`
    /// (connection, sender): cut from the stream on the first pass, the same again on later ones.
    pub fn pieces(
        &mut self,
        stream: (u32, u64),
        frame: u32,
        seq: u32,
        first_pass: bool,
        msg: &[u8],
    ) -> &[Piece] {
        let key = (frame, seq);
        if first_pass || !self.pieces.contains_key(&key) {
            let pieces = self.streams.entry(stream).or_default().push(msg);
            self.pieces.insert(key, pieces);
        }
        self.pieces.get(&key).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINGREQ: &[u8] = &[0xc0, 0x00];

    fn publish(n: usize) -> Vec<u8> {
        let body: Vec<u8> = std::iter::repeat_n(b'x', n).collect();
        let mut p = vec![0x30];
        let mut len = body.len();
        loop {
            let mut b = (len % 128) as u8;
            len /= 128;
            if len > 0 {
                b |= 0x80;
            }
            p.push(b);
            if len == 0 {
                break;
            }
        }
        p.extend(body);
        p
    }

    #[test]
    fn later_passes_see_the_first_pass_pieces() {
        let mut s = Streams::default();
        let p = publish(300);
        let (head, tail) = p.split_at(100);
        assert!(s.pieces((1, 7), 10, 0, true, head).is_empty());
        let cut = s.pieces((1, 7), 11, 0, true, tail).to_vec();
        assert_eq!(cut, [Piece::Reassembled(p.clone())]);
        // A later pass in any order: the stream is not cut again.
        assert_eq!(s.pieces((1, 7), 11, 0, false, tail), &cut[..]);
        assert!(s.pieces((1, 7), 10, 0, false, head).is_empty());
    }

    #[test]
    fn whole_and_coalesced() {
        let mut s = Stream::default();
        let mut msg = publish(10);
        msg.extend_from_slice(PINGREQ);
        assert_eq!(
            s.push(&msg),
            [
                Piece::InMessage { offset: 0, len: 12 },
                Piece::InMessage { offset: 12, len: 2 }
            ]
        );
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn split_across_messages_even_inside_the_length() {
        let p = publish(600); // remaining length takes two bytes
        let mut s = Stream::default();
        // Cut after the first byte: the length itself is split.
        assert!(s.push(&p[..1]).is_empty());
        assert!(s.push(&p[1..300]).is_empty());
        let mut rest = p[300..].to_vec();
        rest.extend_from_slice(PINGREQ);
        assert_eq!(
            s.push(&rest),
            [
                Piece::Reassembled(p.clone()),
                Piece::InMessage {
                    offset: rest.len() - 2,
                    len: 2
                }
            ]
        );
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn empty_packet_split_after_its_first_byte() {
        // mqtt.js writes the fixed header and the remaining length separately: a PINGREQ or a
        // DISCONNECT then arrives as two one-byte messages and must not wait for a third.
        let mut s = Stream::default();
        assert!(s.push(&PINGREQ[..1]).is_empty());
        assert_eq!(
            s.push(&PINGREQ[1..]),
            [Piece::Reassembled(PINGREQ.to_vec())]
        );
        assert_eq!(s.pending(), 0);
        // Also when the completing byte starts a longer message.
        assert!(s.push(&[0xe0]).is_empty());
        assert_eq!(
            s.push(&[0x00, 0xc0, 0x00]),
            [
                Piece::Reassembled(vec![0xe0, 0x00]),
                Piece::InMessage { offset: 1, len: 2 }
            ]
        );
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn hostile_lengths_are_not_waited_for() {
        let mut s = Stream::default();
        let pieces = s.push(&[0x30, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]);
        assert_eq!(pieces, [Piece::InMessage { offset: 0, len: 8 }]);
        assert_eq!(s.pending(), 0);
        let pieces = s.push(&[0x30, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(pieces, [Piece::InMessage { offset: 0, len: 6 }]);
    }
}
