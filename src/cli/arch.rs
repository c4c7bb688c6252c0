//! `nar arch`: everything about one architecture.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::thousands;
use crate::cost::NetworkCost;
use crate::encode::FeatureTensor;
use crate::spaces::nb101::{self, Cell, CellSpec, Pruned};
use crate::spaces::nb201::{self, Arch, ImageDataset as Dataset};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The architecture: an NB201 string (`|nor_conv_3x3~0|+|…|`), an NB201 index, an NB101 hash, or
    /// JSON (`{"matrix": [[…]], "ops": […]}` for NB101; NAR's `module_adjacency`/`module_operations`
    /// and NB201 `arch_str`/`cell_adjacency` keys work too).
    #[arg(required_unless_present = "file")]
    arch: Option<String>,
    /// Read the architecture (JSON, one object or a list of them) from a file.
    #[arg(long, short, conflicts_with = "arch")]
    file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also print the feature tensor the ranker reads.
    #[arg(long)]
    encode: bool,
    /// NB201 only: which dataset's network to cost (default: all three).
    #[arg(long, value_parser = parse_dataset)]
    dataset: Option<Dataset>,
    /// The space the architecture is of, where it is a declared one (FILE.yaml): its text form is then
    /// read against the declaration (the built-in spaces are recognised from the text).
    #[arg(long, value_parser = super::space_or_file)]
    space: Option<super::SpaceOrFile>,
}

fn parse_dataset(s: &str) -> Result<Dataset, String> {
    Dataset::from_name(s).ok_or_else(|| format!("unknown dataset {s:?} (cifar10, cifar100, imagenet16)"))
}

/// One architecture as given, validated or not.
enum Given {
    Nb101(Result<Pruned, nb101::CellError>),
    Nb201(Result<Arch, nb201::ArchError>),
}

pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(super::SpaceOrFile::Declared(path)) = &args.space {
        let text = match (&args.arch, &args.file) {
            (_, Some(file)) => crate::io::read_to_string_capped(file, 8 << 20, "an architecture file")?,
            (Some(text), None) => text.clone(),
            (None, None) => unreachable!("clap requires one"),
        };
        return super::arch_declared::run(path, &text, args.json);
    }
    let (given, source) = match (&args.arch, &args.file) {
        (_, Some(path)) => {
            // JSON is parsed whole: a cap keeps a hostile file from costing gigabytes.
            let text = crate::io::read_to_string_capped(path, 8 << 20, "an architecture file")?;
            (parse_json_text(&text).with_context(|| format!("in {}", path.display()))?, path.display().to_string())
        }
        (Some(text), None) => (parse_argument(text)?, "the command line".to_string()),
        (None, None) => unreachable!("clap requires one"),
    };
    let mut all_valid = true;
    let mut reports = Vec::new();
    for (i, g) in given.iter().enumerate() {
        let report = report(g, &args);
        all_valid &= report["valid"] == Value::Bool(true);
        if !args.json {
            if given.len() > 1 {
                println!("== record {i} of {source}");
            }
            print_text(&report);
        }
        reports.push(report);
    }
    if args.json {
        let out = if reports.len() == 1 { reports.remove(0) } else { Value::Array(reports) };
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn parse_argument(text: &str) -> Result<Vec<Given>> {
    let t = text.trim();
    if t.starts_with('|') {
        return Ok(vec![Given::Nb201(t.parse())]);
    }
    if t.starts_with('{') || t.starts_with('[') {
        return parse_json_text(t).context("in the JSON given on the command line");
    }
    // 32 hexadecimal digits are an NB101 hash, even when they are all decimal digits (`000…0`).
    let is_hash = t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_hash && !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only; an index too large for the machine is still just out of range, said as written.
        return Ok(vec![Given::Nb201(match t.parse::<usize>() {
            Ok(index) => Arch::from_index(index),
            Err(_) => Err(nb201::ArchError::HugeIndex { text: t.to_string() }),
        })]);
    }
    if let Some(rest) = t.strip_prefix(['-', '+'])
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(vec![Given::Nb201(Err(nb201::ArchError::SignedIndex { text: t.to_string() }))]);
    }
    if let Some(raw) = nb101::hash::from_hex(t) {
        let entries = nb101::enumerate::all_cells();
        let pos = entries
            .binary_search_by_key(&raw, |e| e.hash)
            .map_err(|_| anyhow::anyhow!("no NAS-Bench-101 cell has hash {t}"))?;
        return Ok(vec![Given::Nb101(Ok(Pruned { cell: entries[pos].cell, removed: vec![] }))]);
    }
    bail!(
        "cannot read {t:?} as an architecture: expected an NB201 string starting with '|', an NB201 index, \
         a 32-digit NB101 hash or JSON"
    )
}

fn parse_json_text(text: &str) -> Result<Vec<Given>> {
    let value: Value = serde_json::from_str(text).context("malformed JSON")?;
    match value {
        Value::Array(items) if items.is_empty() => bail!("an empty list: no architecture to read"),
        Value::Array(items) => {
            items.iter().enumerate().map(|(i, v)| parse_json(v).with_context(|| format!("record {i}"))).collect()
        }
        v => Ok(vec![parse_json(&v)?]),
    }
}

fn parse_json(v: &Value) -> Result<Given> {
    let obj = v.as_object().context("expected a JSON object")?;
    if let Some(s) = obj.get("arch_str") {
        let s = s.as_str().context("field \"arch_str\" must be a string")?;
        return Ok(Given::Nb201(s.parse()));
    }
    if let Some(m) = obj.get("cell_adjacency") {
        let m: Vec<Vec<i64>> =
            serde_json::from_value(m.clone()).context("field \"cell_adjacency\" must be a matrix of integers")?;
        return Ok(Given::Nb201(Arch::from_matrix(&m)));
    }
    let spec: CellSpec = serde_json::from_value(v.clone())
        .context("expected NB101 fields \"matrix\" (0/1 rows) and \"ops\" (names), or NB201 \"arch_str\"")?;
    Ok(Given::Nb101(Cell::prune(&spec.matrix, &spec.ops)))
}

fn cost_json(cost: &NetworkCost) -> Value {
    serde_json::to_value(cost.summary()).expect("a cost serializes")
}

fn tensor_json(t: &FeatureTensor) -> Value {
    json!((0..t.channels).map(|c| t.channel(c)).collect::<Vec<_>>())
}

fn report(given: &Given, args: &Args) -> Value {
    match given {
        Given::Nb101(Err(e)) => json!({"space": "nb101", "valid": false, "error": e.to_string()}),
        Given::Nb201(Err(e)) => json!({"space": "nb201", "valid": false, "error": e.to_string()}),
        Given::Nb101(Ok(p)) => {
            let cost = crate::spaces::nb101::cost::network_cost(&p.cell);
            let mut r = json!({
                "space": "nb101",
                "valid": true,
                "hash": p.cell.hash(),
                "matrix": p.cell.matrix(),
                "ops": p.cell.op_names(),
                "num_vertices": p.cell.num_vertices(),
                "num_edges": p.cell.num_edges(),
                "pruned_vertices": p.removed,
                "networks": {"cifar10": cost_json(&cost)},
            });
            if args.encode {
                r["encoding"] = json!({"cifar10": tensor_json(&crate::spaces::nb101::encode::tensor(&p.cell, &cost))});
            }
            r
        }
        Given::Nb201(Ok(a)) => {
            let datasets: Vec<Dataset> = args.dataset.map_or(Dataset::ALL.to_vec(), |d| vec![d]);
            let costs: Vec<(Dataset, NetworkCost)> =
                datasets.iter().map(|&d| (d, crate::spaces::nb201::cost::network_cost(a, d))).collect();
            let mut r = json!({
                "space": "nb201",
                "valid": true,
                "index": a.index(),
                "arch_str": a.to_string(),
                "cell_matrix": a.matrix(),
                "function": a.function(),
                "canonical": {"index": a.canonical().index(), "arch_str": a.canonical().to_string()},
                "equivalent_cells": Arch::all().iter().filter(|b| b.equivalent(a)).count(),
                "op_counts": nb201::Op::ALL
                    .iter()
                    .zip(a.op_counts())
                    .map(|(op, n)| (op.name().to_string(), json!(n)))
                    .collect::<serde_json::Map<_, _>>(),
                "networks": costs.iter().map(|(d, c)| (d.nar_key().to_string(), cost_json(c))).collect::<serde_json::Map<_, _>>(),
            });
            if args.encode {
                r["encoding"] = costs
                    .iter()
                    .map(|(d, c)| (d.nar_key().to_string(), tensor_json(&crate::spaces::nb201::encode::tensor(a, c))))
                    .collect::<serde_json::Map<_, _>>()
                    .into();
            }
            r
        }
    }
}

fn print_text(r: &Value) {
    let space = r["space"].as_str().unwrap_or("?");
    if r["valid"] != Value::Bool(true) {
        println!("space    {space}");
        println!("valid    no: {}", r["error"].as_str().unwrap_or("?"));
        return;
    }
    println!("space    {space}");
    if space == "nb101" {
        println!("hash     {}", r["hash"].as_str().unwrap_or(""));
        println!("size     {} vertices, {} edges", r["num_vertices"], r["num_edges"]);
        let removed = r["pruned_vertices"].as_array().map_or(0, Vec::len);
        if removed > 0 {
            println!("pruned   removed vertices {} (not on an input→output path)", r["pruned_vertices"]);
        }
        let ops: Vec<&str> = r["ops"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        println!("cell     (pruned)");
        for (i, row) in r["matrix"].as_array().into_iter().flatten().enumerate() {
            let bits: Vec<String> = row.as_array().into_iter().flatten().map(|b| b.to_string()).collect();
            println!("  {i}  {}  {}", bits.join(" "), ops.get(i).unwrap_or(&""));
        }
    } else {
        println!("index    {}", r["index"]);
        println!("arch     {}", r["arch_str"].as_str().unwrap_or(""));
        println!("cell     (entry i,j = op code of edge i→j: 0 none, 1 skip, 2 conv1x1, 3 conv3x3, 4 avg_pool)");
        for row in r["cell_matrix"].as_array().into_iter().flatten() {
            let codes: Vec<String> = row.as_array().into_iter().flatten().map(|b| b.to_string()).collect();
            println!("  {}", codes.join(" "));
        }
        let f = r["function"].as_str().unwrap_or("");
        println!("function {}", if f.is_empty() { "0 (no input→output path)" } else { f });
        println!(
            "canonical {} {} ({} cells compute this function; docs/design.md §1)",
            r["canonical"]["index"],
            r["canonical"]["arch_str"].as_str().unwrap_or(""),
            r["equivalent_cells"]
        );
    }
    let unit = if space == "nb101" { "vertex" } else { "edge" };
    for (net, c) in r["networks"].as_object().into_iter().flatten() {
        let num = |v: &Value| thousands(v.as_u64().unwrap_or(0));
        println!("network  {net}: {} params, {} FLOPs", num(&c["total_params"]), num(&c["total_flops"]));
        println!("  {:<16} {:<60} per-{unit} params", "cell", format!("per-{unit} FLOPs"));
        let flops = c["vertex_or_edge_flops"].as_object();
        let params = c["vertex_or_edge_params"].as_object();
        for ((key, f), (_, p)) in flops.into_iter().flatten().zip(params.into_iter().flatten()) {
            let list = |v: &Value| v.as_array().into_iter().flatten().map(num).collect::<Vec<_>>().join(" ");
            println!("  {key:<16} {:<60} {}", list(f), list(p));
        }
    }
    if let Some(enc) = r.get("encoding").and_then(Value::as_object) {
        for (net, t) in enc {
            println!("encoding {net}: {} channels", t.as_array().map_or(0, Vec::len));
            for (c, ch) in t.as_array().into_iter().flatten().enumerate() {
                let rows: Vec<String> = ch
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|row| {
                        row.as_array()
                            .into_iter()
                            .flatten()
                            .map(|x| format!("{:>9}", x.to_string()))
                            .collect::<String>()
                    })
                    .collect();
                println!("  [{c}] {}", rows.join(" /"));
            }
        }
    }
}
