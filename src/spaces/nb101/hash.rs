//! NAS-Bench-101's isomorphism-invariant cell hash (`graph_util.hash_module`), byte for byte.
//!
//! Labels: -1 input, -2 output, else the op's index in `[conv3x3, conv1x1, maxpool3x3]`.
//! 1. Each vertex starts as md5 hex of Python's `str((out_degree, in_degree, label))`, e.g. `"(3, 0, -1)"`.
//! 2. V times, every vertex becomes md5 hex of
//!    `''.join(sorted(in-neighbour hashes)) + '|' + ''.join(sorted(out-neighbour hashes)) + '|' + own hash`.
//! 3. The fingerprint is md5 of Python's `str(sorted(hashes))`, i.e. `"['ab…', 'cd…']"`.

use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};

use super::Cell;

/// A 32-digit lowercase hex md5, as Python's `hexdigest()` writes it.
type Hex = [u8; 32];

fn md5_hex(data: &[u8]) -> Hex {
    hex_bytes(&Md5::digest(data).into())
}

fn hex_bytes(raw: &[u8; 16]) -> Hex {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, b) in raw.iter().enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 15) as usize];
    }
    out
}

/// Formats a raw fingerprint as the 32 hex digits NAS-Bench-101 uses as `unique_hash`.
pub fn to_hex(raw: &[u8; 16]) -> String {
    String::from_utf8(hex_bytes(raw).to_vec()).expect("hex digits are ASCII")
}

/// Parses a 32-digit hex hash into its 16 bytes.
pub fn from_hex(hex: &str) -> Option<[u8; 16]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 16];
    for i in 0..16 {
        out[i] = digit(bytes[2 * i])? << 4 | digit(bytes[2 * i + 1])?;
    }
    Some(out)
}

/// The raw 16 bytes of the cell's fingerprint; [`to_hex`] gives NAS-Bench-101's string.
pub fn fingerprint(cell: &Cell) -> [u8; 16] {
    let labels: Vec<i32> = cell.ops().iter().map(|op| op.hash_label()).collect();
    graph_fingerprint(cell.num_vertices(), |v, w| cell.has_edge(v, w), &labels)
}

/// NAS-Bench-101's graph hash of any DAG of `n` vertices (`edge(v, w)`: an edge
/// v → w) with integer vertex labels (NAS-Bench-101's: input −1, output −2, an op its index in the
/// available ops): iterated MD5 of each vertex's in- and out-neighbours' hashes, then of the sorted
/// vertex hashes. Isomorphic labelled graphs share it.
pub fn graph_fingerprint(n: usize, edge: impl Fn(usize, usize) -> bool, labels: &[i32]) -> [u8; 16] {
    let mut hashes: Vec<Hex> = vec![[0u8; 32]; n];
    for (v, slot) in hashes.iter_mut().enumerate() {
        let out_degree = (0..n).filter(|&w| edge(v, w)).count();
        let in_degree = (0..n).filter(|&w| edge(w, v)).count();
        let label = labels[v];
        *slot = md5_hex(format!("({out_degree}, {in_degree}, {label})").as_bytes());
    }
    let mut buf = Vec::with_capacity(32 * (2 * n + 1) + 2);
    let mut neighbours: Vec<Hex> = Vec::with_capacity(n);
    for _ in 0..n {
        let mut next: Vec<Hex> = vec![[0u8; 32]; n];
        for (v, slot) in next.iter_mut().enumerate() {
            buf.clear();
            neighbours.clear();
            neighbours.extend((0..n).filter(|&w| edge(w, v)).map(|w| hashes[w]));
            neighbours.sort_unstable();
            neighbours.iter().for_each(|h| buf.extend_from_slice(h));
            buf.push(b'|');
            neighbours.clear();
            neighbours.extend((0..n).filter(|&w| edge(v, w)).map(|w| hashes[w]));
            neighbours.sort_unstable();
            neighbours.iter().for_each(|h| buf.extend_from_slice(h));
            buf.push(b'|');
            buf.extend_from_slice(&hashes[v]);
            *slot = md5_hex(&buf);
        }
        hashes = next;
    }
    let mut sorted = hashes[..n].to_vec();
    sorted.sort_unstable();
    buf.clear();
    buf.push(b'[');
    for (i, h) in sorted.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(b", ");
        }
        buf.push(b'\'');
        buf.extend_from_slice(h);
        buf.push(b'\'');
    }
    buf.push(b']');
    Md5::digest(&buf).into()
}

/// A cell's NAS-Bench-101 hash (`unique_hash`), kept as its 16 bytes; displays as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellHash(pub [u8; 16]);

impl fmt::Display for CellHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&hex_bytes(&self.0)).expect("hex digits are ASCII"))
    }
}

impl fmt::Debug for CellHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CellHash({self})")
    }
}

impl FromStr for CellHash {
    type Err = String;
    fn from_str(s: &str) -> Result<CellHash, String> {
        from_hex(s.trim()).map(CellHash).ok_or_else(|| format!("{s:?} is not a 32-digit hex NAS-Bench-101 hash"))
    }
}
