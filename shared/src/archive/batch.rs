//! One archive batch: a chain's events as canonical JSON lines, the SHA-256 of each line, their Merkle
//! root, and the hash of the chain's previous batch, so that a changed, missing or reordered batch or
//! line breaks the chain.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::Item;

/// What a batch says of itself: its place in the chain and the hashes of what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// The chain: a clinic's id, or `platform` for events of no clinic.
    pub chain: String,
    /// 1 for a chain's first batch, one more for each after it.
    pub seq: u64,
    /// The hash of the previous batch (64 zeros before the first).
    pub prev_hash: String,
    /// SHA-256 of each line, in order.
    pub line_hashes: Vec<String>,
    pub merkle_root: String,
    pub created_at: String,
}

/// A batch: its header and its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub header: Header,
    pub lines: Vec<String>,
}

/// The hash that comes before a chain's first batch.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An item as one line of JSON with its keys in order (the same bytes for the same item, always).
pub fn canonical_line(item: &Item) -> String {
    // `serde_json::Map` keeps its keys sorted (no `preserve_order`), at every depth.
    serde_json::Value::Object(item.clone()).to_string()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Merkle root of line hashes: pairs hashed together level by level, an odd last one carried up.
pub fn merkle_root(line_hashes: &[[u8; 32]]) -> [u8; 32] {
    if line_hashes.is_empty() {
        return sha256(b"");
    }
    let mut level = line_hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => sha256(&[left.as_slice(), right.as_slice()].concat()),
                [only] => *only,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    level[0]
}

/// The SHA-256 of each line.
fn line_hashes(lines: &[String]) -> Vec<[u8; 32]> {
    lines.iter().map(|l| sha256(l.as_bytes())).collect()
}

impl Batch {
    /// The batch after `prev_hash` at `seq` of `chain`, holding `lines` in order.
    pub fn new(chain: &str, seq: u64, prev_hash: &str, lines: Vec<String>, now: &str) -> Self {
        let hashes = line_hashes(&lines);
        let header = Header {
            chain: chain.to_string(),
            seq,
            prev_hash: prev_hash.to_string(),
            line_hashes: hashes.iter().map(|h| hex(h)).collect(),
            merkle_root: hex(&merkle_root(&hashes)),
            created_at: now.to_string(),
        };
        Self { header, lines }
    }

    /// The batch's own hash, which the next batch names: SHA-256 of its header line (which holds the
    /// previous hash, every line's hash and the root).
    pub fn hash(&self) -> String {
        hex(&sha256(self.header_line().as_bytes()))
    }

    fn header_line(&self) -> String {
        serde_json::to_value(&self.header).map(|v| v.to_string()).unwrap_or_default()
    }

    /// The stored object: the header line, then one line per entry.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = self.header_line();
        for line in &self.lines {
            text.push('\n');
            text.push_str(line);
        }
        text.push('\n');
        text.into_bytes()
    }

    /// A stored object read back (checked by `problems`, not here).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "the batch is not UTF-8 text".to_string())?;
        let mut lines = text.lines();
        let header: Header = serde_json::from_str(lines.next().unwrap_or(""))
            .map_err(|_| "the batch's header line is not a header".to_string())?;
        Ok(Self { header, lines: lines.map(str::to_string).collect() })
    }

    /// What does not match inside the batch: lines against their hashes, the hashes against the root.
    pub fn problems(&self) -> Vec<String> {
        let mut found = Vec::new();
        if self.lines.len() != self.header.line_hashes.len() {
            found.push(format!(
                "holds {} lines where its header lists {}",
                self.lines.len(),
                self.header.line_hashes.len()
            ));
        }
        for (i, (line, listed)) in self.lines.iter().zip(&self.header.line_hashes).enumerate() {
            if hex(&sha256(line.as_bytes())) != *listed {
                found.push(format!("line {} does not match its hash", i + 1));
            }
        }
        let listed: Vec<[u8; 32]> = self
            .header
            .line_hashes
            .iter()
            .map(|h| {
                let mut out = [0u8; 32];
                for (i, byte) in out.iter_mut().enumerate() {
                    *byte = h.get(i * 2..i * 2 + 2).and_then(|b| u8::from_str_radix(b, 16).ok()).unwrap_or(0);
                }
                out
            })
            .collect();
        if hex(&merkle_root(&listed)) != self.header.merkle_root {
            found.push("its line hashes do not give its Merkle root".into());
        }
        found
    }

    /// Where a chain's batch is kept in the archive bucket: named by its place and its own hash, so two
    /// writers racing for one place never overwrite each other (only the one the head names counts).
    pub fn object_key(chain: &str, seq: u64, hash: &str) -> String {
        format!("{}{seq:012}-{hash}.jsonl", Self::chain_prefix(chain))
    }

    /// The folder of a chain's batches.
    pub fn chain_prefix(chain: &str) -> String {
        format!("audit/{chain}/")
    }

    /// The place and hash an object key names, if it is a batch's.
    pub fn parse_key(key: &str) -> Option<(u64, String)> {
        let name = key.rsplit('/').next()?.strip_suffix(".jsonl")?;
        let (seq, hash) = name.split_once('-')?;
        Some((seq.parse().ok()?, hash.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Batch {
        let lines = vec![r#"{"a":1}"#.to_string(), r#"{"b":2}"#.to_string(), r#"{"c":3}"#.to_string()];
        Batch::new("c-1", 1, GENESIS, lines, "2026-12-02T00:00:00Z")
    }

    #[test]
    fn a_batch_reads_back_whole_and_any_change_is_named() {
        let original = batch();
        let read = Batch::parse(&original.to_bytes()).unwrap();
        assert_eq!(read, original);
        assert!(read.problems().is_empty());
        assert_eq!(read.hash(), original.hash());

        let mut changed = read.clone();
        changed.lines[1] = r#"{"b":3}"#.into();
        assert_eq!(changed.problems(), ["line 2 does not match its hash"]);
        let mut shorter = read.clone();
        shorter.lines.remove(0);
        assert!(shorter.problems()[0].contains("holds 2 lines where its header lists 3"));
        let mut rerooted = read;
        rerooted.header.line_hashes.swap(0, 2);
        rerooted.lines.swap(0, 2);
        assert_eq!(rerooted.problems(), ["its line hashes do not give its Merkle root"]);
    }

    #[test]
    fn canonical_lines_do_not_depend_on_key_order() {
        let a: Item = serde_json::from_str(r#"{"z":1,"a":{"y":2,"b":3}}"#).unwrap();
        let b: Item = serde_json::from_str(r#"{"a":{"b":3,"y":2},"z":1}"#).unwrap();
        assert_eq!(canonical_line(&a), canonical_line(&b));
    }
}
