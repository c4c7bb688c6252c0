//! The `proxies` feature set: zero-cost proxies of each architecture's freshly initialised network, read
//! from a table the space ships (`data/nb201/nb201_proxies.csv`, `data/nb101/nb101_proxies.csv`), made once
//! by `python -m nar.torch.proxies` (its provenance and time in `data/README.md`).
//!
//! A table is CSV: the space's identity column (`index`, `unique_hash`) and its architecture columns
//! (`arch_str`; `module_adjacency`, `module_operations`), as in its accuracy tables — the architecture
//! is checked against the identity — then `{task}_{proxy}` for every task of the table, the same
//! proxies for each (`cifar10_synflow`, `cifar10_naswot`, `cifar100_synflow`, …). Its SHA-256 is checked
//! against the one recorded with it before any value is read.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

use crate::space::SearchSpace;

/// A space's proxy table, parsed.
#[derive(Debug)]
pub struct ProxyTable {
    /// The file the table was made as (named in errors).
    pub file: &'static str,
    /// The proxies, in the feature set's column order.
    pub proxies: Vec<String>,
    /// The tasks the table has columns for.
    pub tasks: Vec<String>,
    rows: HashMap<String, usize>,
    /// `rows × (tasks × proxies)`, each row's tasks in `tasks` order.
    values: Vec<f64>,
}

impl ProxyTable {
    /// Parses `text`, the table `file`, whose SHA-256 must be `sha256`. `key` names the space's identity
    /// column and then its architecture columns; `check(id, arch)` says why a row's architecture
    /// columns are not the architecture of its identity.
    pub fn parse(
        file: &'static str,
        text: &str,
        sha256: &str,
        key: &[&str],
        check: impl Fn(&str, &[&str]) -> std::result::Result<(), String>,
    ) -> Result<ProxyTable> {
        let found = crate::io::sha256_hex(text.as_bytes());
        if found != sha256 {
            bail!("{file}: SHA-256 {found}, but the proxy table nar was built with has {sha256}");
        }
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> =
            reader.headers().with_context(|| format!("{file}: header"))?.iter().map(String::from).collect();
        let k = key.len();
        if header.len() <= k || header[..k] != *key {
            bail!("{file}: the header must start with `{}` and name at least one proxy column", key.join(","));
        }
        let mut tasks: Vec<String> = Vec::new();
        let mut by_task: HashMap<String, Vec<String>> = HashMap::new();
        for name in &header[k..] {
            let Some((task, proxy)) = name.split_once('_') else {
                bail!("{file}: column {name:?} is not `TASK_PROXY`");
            };
            if !by_task.contains_key(task) {
                tasks.push(task.to_string());
            }
            by_task.entry(task.to_string()).or_default().push(proxy.to_string());
        }
        let proxies = by_task[&tasks[0]].clone();
        for t in &tasks {
            if by_task[t] != proxies {
                bail!("{file}: task {t} has proxies {:?}, task {} has {:?}", by_task[t], tasks[0], proxies);
            }
        }
        let expected = tasks.iter().flat_map(|t| proxies.iter().map(move |p| format!("{t}_{p}")));
        if !expected.eq(header[k..].iter().cloned()) {
            bail!("{file}: each task's columns must be adjacent, in the order {proxies:?}");
        }
        let mut rows = HashMap::new();
        let mut values = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.with_context(|| format!("{file}: line {line}"))?;
            let id = record[0].to_string();
            let arch: Vec<&str> = record.iter().skip(1).take(k - 1).collect();
            check(&id, &arch).map_err(|e| anyhow::anyhow!("{file}: line {line}: {} {id}: {e}", key[0]))?;
            for (c, v) in record.iter().enumerate().skip(k) {
                let x: f64 = v
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{file}: line {line}: {}: {v:?} is not a number", header[c]))?;
                if !x.is_finite() {
                    bail!("{file}: line {line}: {}: {v} is not finite", header[c]);
                }
                values.push(x);
            }
            if rows.insert(id.clone(), i).is_some() {
                bail!("{file}: line {line}: {} {id} appears twice", key[0]);
            }
        }
        Ok(ProxyTable { file, proxies, tasks, rows, values })
    }

    /// The proxies of the architecture `id` on `task`'s network; an error naming the table and what it
    /// lacks.
    pub fn row(&self, id: &str, task: &str) -> Result<&[f64]> {
        let Some(t) = self.tasks.iter().position(|x| x == task) else {
            bail!("{}: no proxies for task {task} (the table has {})", self.file, self.tasks.join(", "));
        };
        let Some(&r) = self.rows.get(id) else {
            bail!("{}: no proxies for architecture {id} (the table has {} architectures)", self.file, self.rows.len());
        };
        let k = self.proxies.len();
        Ok(&self.values[(r * self.tasks.len() + t) * k..][..k])
    }

    /// How many architectures the table has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A proxy table compiled into the binary (gzip, by `build.rs`), parsed on first use: `file` as the
/// repository names it, `sha256` the checksum recorded with it in `data/README.md`. Every row's
/// architecture columns are checked against its identity in space `S`.
pub fn embedded<S: SearchSpace>(
    cell: &'static OnceLock<std::result::Result<ProxyTable, String>>,
    file: &'static str,
    gz: &'static [u8],
    sha256: &'static str,
) -> Result<&'static ProxyTable> {
    cell.get_or_init(|| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .map_err(|e| format!("{file}: the copy built into nar does not decompress: {e}"))?;
        let mut key = vec![S::id_column()];
        key.extend_from_slice(S::arch_column_names());
        let check = |id: &str, arch: &[&str]| {
            let id = S::parse_id(id)?;
            let a = S::parse_arch_columns(arch)?;
            if S::id(&a) == id { Ok(()) } else { Err(format!("its architecture columns are {}", S::id(&a))) }
        };
        ProxyTable::parse(file, &text, sha256, &key, check).map_err(|e| format!("{e:#}"))
    })
    .as_ref()
    .map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test space: index 0 is `a`, 1 is `b`.
    fn check(id: &str, arch: &[&str]) -> std::result::Result<(), String> {
        let expected = match id {
            "0" => "a",
            "1" => "b",
            _ => return Err("not an architecture of the test space".into()),
        };
        if arch[0] == expected {
            Ok(())
        } else {
            Err(format!("arch {:?} is not its architecture ({expected})", arch[0]))
        }
    }

    fn parse(text: &str) -> Result<ProxyTable> {
        let sha = crate::io::sha256_hex(text.as_bytes());
        ProxyTable::parse("t.csv", text, &sha, &["index", "arch"], check)
    }

    #[test]
    fn rows_are_read_by_task_and_bad_tables_are_named() {
        let t = parse("index,arch,c10_syn,c10_nw,c100_syn,c100_nw\n0,a,1,2,3,4\n1,b,5,6,7,8\n").unwrap();
        assert_eq!(t.proxies, ["syn", "nw"]);
        assert_eq!(t.row("1", "c100").unwrap(), [7.0, 8.0]);
        assert_eq!(t.row("0", "c10").unwrap(), [1.0, 2.0]);
        assert_eq!(
            t.row("2", "c10").unwrap_err().to_string(),
            "t.csv: no proxies for architecture 2 (the table has 2 architectures)"
        );
        assert_eq!(
            t.row("0", "in16").unwrap_err().to_string(),
            "t.csv: no proxies for task in16 (the table has c10, c100)"
        );
        let e = parse("index,arch,c10_syn\n0,b,1\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2: index 0: arch \"b\" is not its architecture (a)");
        let e = parse("index,arch,c10_syn\n0,a,x\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2: c10_syn: \"x\" is not a number");
        let e = parse("index,arch,c10_syn\n7,a,1\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2: index 7: not an architecture of the test space");
        let e = parse("index,arch,c10_syn,c100_nw\n0,a,1,2\n").unwrap_err().to_string();
        assert!(e.starts_with("t.csv: task c100 has proxies [\"nw\"]"), "{e}");
        let e = ProxyTable::parse("t.csv", "index,arch,c10_syn\n0,a,1\n", "00", &["index", "arch"], check).unwrap_err();
        assert!(e.to_string().ends_with("but the proxy table nar was built with has 00"), "{e}");
    }
}
