//! nar — the Neural Architecture Ranker, in Rust: exact NAS-Bench-101/201 search spaces and their cell
//! information, predictors that rank a space from a few labelled architectures (NAR's transformer on a
//! CPU engine, tree models on graph features), NAR's search and nar's budgeted searches through a counting
//! oracle, and the pipeline, reports and command line over them.
//!
//! The modules, bottom up, and what each holds are in `docs/design.md` ("Layout"); the `layering` test
//! below keeps every module importing only what is below it. Start at [`space::SearchSpace`] (what a
//! space is), [`predictor::Predictor`] (what a predictor is), [`search::oracle`] (how a search reads
//! accuracies) and [`pipeline`] (the steps a user runs).

// Matrix code reads best with explicit (i, j) indices.
#![allow(clippy::needless_range_loop)]

pub mod benchmark;
pub mod cli;
pub mod config;
pub mod cost;
pub mod data;
pub mod encode;
pub mod features;
pub mod io;
pub mod pipeline;
pub mod predictor;
pub mod process;
pub mod progress;
pub mod ranker;
pub mod report;
pub mod rng;
pub mod run_dir;
pub mod sampler;
pub mod search;
pub mod space;
pub mod spaces;
pub mod speed;
pub mod stats;
pub mod usage;

/// The layering docs/design.md's "Layout" states, checked on the source: each module imports only the
/// modules below it (a module a newcomer adds cannot quietly reach up).
#[cfg(test)]
mod layering {
    use std::path::Path;

    /// The crate modules `dir` (a file or a folder of src/) refers to, outside comments.
    fn uses(rel: &str) -> std::collections::BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel);
        let mut files = vec![];
        let mut stack = vec![root];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.push(p);
            }
        }
        let mut found = std::collections::BTreeSet::new();
        for f in files {
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                let code = line.split("//").next().unwrap();
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + "crate::".len()..];
                    let module: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    found.insert(module);
                }
            }
        }
        found
    }

    /// Every module of the crate, bottom up, as docs/design.md's "Layout" lists them: a module may
    /// import only the modules of earlier layers and of its own layer (a layer of several modules would
    /// be a cycle; there is none).
    const LAYERS: &[&[&str]] = &[
        &["space"],
        &["stats"],
        &["io"],
        &["rng"],
        &["usage"],
        &["process"],
        &["run_dir"],
        &["progress"],
        &["cost"],
        &["encode"],
        &["benchmark"],
        &["features"],
        &["sampler"],
        &["data"],
        &["spaces"],
        &["ranker"],
        &["predictor"],
        &["config"],
        &["search"],
        &["report"],
        &["pipeline"],
        &["speed"],
        &["cli"],
    ];

    /// The module a `crate::NAME` refers to (the exported macros are their modules').
    fn module_of(name: &str) -> &str {
        match name {
            "with_space" | "with_dataset" => "spaces",
            other => other,
        }
    }

    #[test]
    fn every_module_imports_only_what_is_below_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut listed: Vec<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
        listed.sort();
        let mut found: Vec<String> = std::fs::read_dir(&src)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "lib.rs" && n != "main.rs")
            .filter_map(|n| {
                if n.ends_with(".rs") {
                    Some(n.trim_end_matches(".rs").to_string())
                } else if !n.contains('.') {
                    Some(n)
                } else {
                    None
                }
            })
            .collect();
        found.sort();
        assert_eq!(found, listed, "src/ holds modules the layering does not list, or the other way round");
        for (i, layer) in LAYERS.iter().enumerate() {
            let allowed: Vec<&str> = LAYERS[..=i].iter().flat_map(|l| l.iter().copied()).collect();
            for module in layer.iter() {
                let path = if src.join(module).is_dir() { module.to_string() } else { format!("{module}.rs") };
                let extra: Vec<String> = uses(&path).into_iter().filter(|m| !allowed.contains(&module_of(m))).collect();
                assert!(
                    extra.is_empty(),
                    "src/{path} imports {extra:?}, which are not below it (docs/design.md, Layout)"
                );
            }
        }
    }

    /// The check itself catches an upward import: `space` (the bottom) importing `data` would fail it.
    #[test]
    fn the_layering_check_sees_crate_paths_outside_comments() {
        let found = uses("space");
        assert!(found.iter().all(|m| m == "space"), "{found:?}");
        let cli = uses("cli");
        assert!(cli.contains("pipeline") && cli.contains("data"), "{cli:?}");
    }

    /// Nothing outside the registry branches on a space (an arm or a test of `SpaceKind::…`): the
    /// names in `src/space/mod.rs` and the dispatch in `src/spaces/mod.rs` are the only places, so a
    /// new space cannot be misrouted anywhere else (docs/design.md, "Adding a search space").
    #[test]
    fn only_the_registry_branches_on_a_space() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut found = std::collections::BTreeMap::new();
        let mut stack = vec![root.join("src"), root.join("python/src")];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            if !rel.ends_with(".rs") {
                continue;
            }
            let mut n = 0;
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                let code = line.split("//").next().unwrap();
                for (i, _) in code.match_indices("SpaceKind::") {
                    let variant: String = code[i + 11..].chars().take_while(|c| c.is_alphanumeric()).collect();
                    let before = code[..i].trim_end();
                    let compared = before.ends_with("==") || before.ends_with("!=");
                    if variant != "ALL"
                        && variant.starts_with(char::is_uppercase)
                        && (code[i..].contains("=>") || compared)
                    {
                        n += 1;
                    }
                }
            }
            if n > 0 {
                found.insert(rel, n);
            }
        }
        // The built-in spaces and the declared one.
        let spaces = crate::space::SpaceKind::ALL.len() + 1;
        let listed: std::collections::BTreeMap<String, usize> = [
            // Each space's name.
            ("src/space/mod.rs", spaces),
            // `with_space!`'s arms (`with_dataset!` matches `AnyDataset`'s variants), and the check that
            // a declared space's store carries its declaration, `is_declared`.
            ("src/spaces/mod.rs", spaces + 2),
        ]
        .into_iter()
        .map(|(f, n)| (f.to_string(), n))
        .collect();
        assert_eq!(found, listed, "branches on a space outside the registry (docs/design.md, Adding a search space)");
        // The registry's other lists have one entry per space: `AnyDataset`'s variants and
        // `with_dataset!`'s arms.
        let registry = std::fs::read_to_string(root.join("src/spaces/mod.rs")).unwrap();
        let count = |pat: &str| registry.lines().filter(|l| l.trim_start().starts_with(pat)).count();
        assert_eq!(count("$crate::spaces::AnyDataset::"), spaces, "with_dataset! arms");
        let variants = registry.split("pub enum AnyDataset {").nth(1).unwrap().split('}').next().unwrap();
        assert_eq!(variants.lines().filter(|l| l.contains("(Dataset<")).count(), spaces, "AnyDataset variants");
    }
}
