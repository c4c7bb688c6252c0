//! `nar arch --space FILE.yaml ARCH`: one architecture of a declared space — whether it is one (and
//! why not), its canonical form, its hash and function class.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Value, json};

use crate::spaces::declared::DeclaredSpace;
use crate::spaces::declared::edges::Classes;

pub fn run(path: &Path, text: &str, as_json: bool) -> Result<ExitCode> {
    let space = super::space::load(path)?;
    let name = space.declaration().name.clone();
    let report = match &space {
        DeclaredSpace::Edges(s) => match s.parse(text) {
            Err(why) => json!({"space": name, "valid": false, "error": why}),
            Ok(cell) => {
                let mut r = json!({
                    "space": name,
                    "valid": true,
                    "arch": s.text(&cell),
                    "function": s.function(&cell),
                    "hash": s.hash(&cell),
                });
                if s.enumerable() {
                    let cells = s.all();
                    let classes = Classes::of(s, &cells);
                    let i = s.index(&cell) as usize;
                    let k = classes.class[i] as usize;
                    r["index"] = json!(i);
                    r["canonical"] = json!(s.text(&cells[classes.canonical[k]]));
                    r["class_size"] = json!(classes.sizes[k]);
                    r["classes"] = json!(classes.canonical.len());
                }
                r
            }
        },
        DeclaredSpace::Vertices(s) => match s.parse(text).and_then(|c| s.check(&c)) {
            Err(why) => json!({"space": name, "valid": false, "error": why}),
            Ok(pruned) => json!({
                "space": name,
                "valid": true,
                "pruned": s.text(&pruned),
                "hash": s.hash(&pruned),
                "function_hash": s.class_hash(&pruned),
                "function": s.function_form(&pruned).map(|f| s.text(&f)),
            }),
        },
    };
    let valid = report["valid"] == Value::Bool(true);
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("space    {name} ({})", path.display());
        if !valid {
            println!("valid    no: {}", report["error"].as_str().unwrap_or(""));
        } else {
            println!("valid    yes");
            for (key, label) in [
                ("arch", "arch    "),
                ("pruned", "pruned  "),
                ("index", "index   "),
                ("hash", "hash    "),
                ("function", "function"),
                ("function_hash", "class   "),
                ("canonical", "canonical"),
                ("class_size", "class of"),
            ] {
                match &report[key] {
                    Value::Null => {}
                    Value::String(v) => println!("{label} {v}"),
                    v => println!("{label} {v}"),
                }
            }
        }
    }
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
