//! Reading an NB101 adjacency matrix from JSON without ever holding more than the space allows: rows
//! and entries past [`MAX_VERTICES`] stop the parse at once, so a file with a huge matrix costs no
//! more memory than a valid one.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, SeqAccess, Visitor};

use super::MAX_VERTICES;

/// `#[serde(deserialize_with = "…")]` for a matrix field: at most 7 rows of at most 7 integers.
pub fn matrix<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<i64>>, D::Error> {
    d.deserialize_seq(Rows)
}

/// Parses a matrix written as JSON text (a table's `module_adjacency` column).
pub fn matrix_from_json(text: &str) -> Result<Vec<Vec<i64>>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let m = matrix(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(m)
}

struct Rows;
struct Row;

impl<'de> Visitor<'de> for Rows {
    type Value = Vec<Vec<i64>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a matrix of at most {MAX_VERTICES} rows of 0/1 integers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::new();
        while let Some(row) = seq.next_element_seed(RowSeed)? {
            if rows.len() == MAX_VERTICES {
                return Err(de::Error::custom(format!(
                    "the matrix has more than {MAX_VERTICES} rows: an NB101 cell has at most {MAX_VERTICES} vertices"
                )));
            }
            rows.push(row);
        }
        Ok(rows)
    }
}

struct RowSeed;

impl<'de> de::DeserializeSeed<'de> for RowSeed {
    type Value = Vec<i64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<i64>, D::Error> {
        d.deserialize_seq(Row)
    }
}

impl<'de> Visitor<'de> for Row {
    type Value = Vec<i64>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a row of at most {MAX_VERTICES} integers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut row = Vec::new();
        while let Some(v) = seq.next_element::<i64>()? {
            if row.len() == MAX_VERTICES {
                return Err(de::Error::custom(format!(
                    "a matrix row has more than {MAX_VERTICES} entries: an NB101 cell has at most {MAX_VERTICES} vertices"
                )));
            }
            row.push(v);
        }
        Ok(row)
    }
}
