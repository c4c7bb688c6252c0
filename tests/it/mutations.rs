//! Property tests: real inputs of every loader, mutated (truncated, a bit flipped, a line repeated, a
//! number turned into text, bytes inserted), must load or fail with an error — never panic, never
//! hang. Loaders: CSV tables, NAR JSON (both spaces), NB101 tfrecord, the .nar store, YAML
//! configurations, checkpoints, NB201 strings and NB101 matrices.

use crate::common;

use std::path::Path;

use nar::data::{Dataset, SpaceSources, nar_json, store, table, tfrecord};
use nar::ranker::checkpoint;
use nar::ranker::config::Config;
use nar::space::nb101::Cell;
use nar::space::{Nb201, SearchSpace};
use proptest::prelude::*;

/// One way to damage an input; positions are fractions of its length.
#[derive(Clone, Debug)]
enum Mutation {
    Truncate(f64),
    Flip(f64, u8),
    RepeatLine(f64),
    NumberToText(f64),
    Insert(f64, Vec<u8>),
    /// A flip within the first 256 bytes (headers live there).
    FlipHead(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64).prop_map(Mutation::Truncate),
        (0.0..1.0f64, 0..8u8).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (0.0..1.0f64).prop_map(Mutation::RepeatLine),
        (0.0..1.0f64).prop_map(Mutation::NumberToText),
        (0.0..1.0f64, prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(p, b)| Mutation::Insert(p, b)),
        (0..256usize, 0..8u8).prop_map(|(p, b)| Mutation::FlipHead(p, b)),
    ]
}

fn at(len: usize, f: f64) -> usize {
    ((len as f64 * f) as usize).min(len.saturating_sub(1))
}

fn mutate(input: &[u8], m: &Mutation) -> Vec<u8> {
    let mut v = input.to_vec();
    if v.is_empty() {
        return v;
    }
    match m {
        Mutation::Truncate(f) => v.truncate(at(v.len(), *f)),
        Mutation::Flip(f, bit) => {
            let i = at(v.len(), *f);
            v[i] ^= 1 << bit;
        }
        Mutation::FlipHead(i, bit) => {
            let i = (*i).min(v.len() - 1);
            v[i] ^= 1 << bit;
        }
        Mutation::RepeatLine(f) => {
            let i = at(v.len(), *f);
            let start = v[..i].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let end = v[i..].iter().position(|&b| b == b'\n').map_or(v.len(), |p| i + p + 1);
            let line = v[start..end].to_vec();
            v.splice(end..end, line);
        }
        Mutation::NumberToText(f) => {
            let i = at(v.len(), *f);
            if let Some(d) = v[i..].iter().position(u8::is_ascii_digit) {
                let s = i + d;
                let e = v[s..].iter().position(|b| !b.is_ascii_digit()).map_or(v.len(), |p| s + p);
                v.splice(s..e, b"\"text\"".iter().copied());
            }
        }
        Mutation::Insert(f, bytes) => {
            let i = at(v.len(), *f);
            v.splice(i..i, bytes.iter().copied());
        }
    }
    v
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() }
}

fn nb201_table_head() -> Vec<u8> {
    let text = std::fs::read_to_string(common::data_file("nb201/nb201_accuracy.csv")).unwrap();
    text.lines().take(40).flat_map(|l| format!("{l}\n").into_bytes()).collect()
}

proptest! {
    #![proptest_config(config())]

    /// An NB201 table's accuracy column moved to the fraction scale is refused, naming the column; the
    /// real column is read.
    #[test]
    fn nb201_columns_on_the_fraction_scale(column in 2..9usize, rows in 1..40usize) {
        let text = String::from_utf8(nb201_table_head()).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let name = header[column];
        prop_assume!(name.contains("acc"));
        let mut edited = format!("{}\n", header.join(","));
        for line in text.lines().skip(1).take(rows) {
            let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
            cells[column] = (cells[column].parse::<f64>().unwrap() / 100.0).to_string();
            edited.push_str(&cells.join(","));
            edited.push('\n');
        }
        let mut ds = Dataset::<Nb201>::full();
        let e = table::join_csv_reader(&mut ds, edited.as_bytes(), "t.csv").unwrap_err();
        // The field as the file spells it (`cifar10_valid_val_acc`, not the name it is stored under).
        prop_assert!(format!("{e:#}").contains(&format!("field `{name}`")), "{e:#}");
        prop_assert!(table::join_csv_reader(&mut Dataset::<Nb201>::full(), text.as_bytes(), "t.csv").is_ok());
    }

    /// An NB101 record's accuracy moved to the percentage scale (any factor from 2 to 100) is refused,
    /// naming the field.
    #[test]
    fn nb101_accuracies_on_the_percentage_scale(field in 0..3usize, factor in 2.0..100.0f64) {
        let field = ["avg_train_accuracy", "avg_validation_accuracy", "avg_test_accuracy"][field];
        let mut v = common::read_json("examples/nasbench101_vertice_example.json");
        v[0][field] = serde_json::Value::from(v[0][field].as_f64().unwrap() * factor);
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.json", serde_json::to_string(&v).unwrap().as_bytes());
        let e = common::nb101_subset_dataset().join_nar_json(&p).unwrap_err();
        prop_assert!(format!("{e:#}").contains(&format!("field `{field}`")), "{e:#}");
    }

    #[test]
    fn csv_tables(m in mutation()) {
        let bytes = mutate(&nb201_table_head(), &m);
        let mut ds = Dataset::<Nb201>::full();
        let _ = table::join_csv_reader(&mut ds, bytes.as_slice(), "t.csv");
    }

    #[test]
    fn nar_json_nb201(m in mutation()) {
        let src = std::fs::read(common::data_file("examples/nasbench201_vertice_example.json")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.json", &mutate(&src, &m));
        let _ = Dataset::<Nb201>::full().join_nar_json(&p);
    }

    #[test]
    fn nar_json_nb101(m in mutation()) {
        let src = std::fs::read(common::data_file("examples/nasbench101_vertice_example.json")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.json", &mutate(&src, &m));
        let _ = nar_json::sniff_space(&p);
        let _ = common::nb101_subset_dataset().join_nar_json(&p);
    }

    #[test]
    fn tfrecords(m in mutation()) {
        let rows = common::nb101_subset();
        let mut out = Vec::new();
        for r in rows.iter().take(2) {
            let cell = Cell::new(&r.matrix, &r.ops).unwrap();
            let eval = tfrecord::EvaluationData {
                current_epoch: 108.0,
                training_time: 10.0,
                train_accuracy: 1.0,
                validation_accuracy: 0.9,
                test_accuracy: 0.9,
                checkpoint_path: String::new(),
            };
            let metrics = tfrecord::ModelMetrics {
                evaluation_data: vec![eval.clone(), eval],
                trainable_parameters: nar::cost::nb101::network_cost(&cell).total_params as i32,
                total_time: 1.0,
            };
            let run = tfrecord::Run { hash: cell.hash(), epochs: 108, matrix: r.matrix.clone(), ops: r.ops.clone(), metrics };
            tfrecord::write_record(&mut out, &run.to_json()).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.tfrecord", &mutate(&out, &m));
        let _ = tfrecord::join(&mut common::nb101_subset_dataset(), &p);
    }

    #[test]
    fn stores(m in mutation()) {
        let mut ds = common::nb101_subset_dataset();
        table::join_csv(&mut ds, &common::data_file("nb101/nb101_subset_1k.csv")).unwrap();
        let _ = store::from_bytes(&mutate(&store::to_bytes(&ds), &m));
    }

    #[test]
    fn configurations(m in mutation()) {
        let text = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/nb201.yaml")).unwrap();
        let _ = Config::parse(&String::from_utf8_lossy(&mutate(&text, &m)));
    }

    #[test]
    fn checkpoints(m in mutation(), keep_checksum in any::<bool>()) {
        let cfg = Config::parse(&common::tiny_nb201_config()).unwrap();
        let mut t = nar::ranker::trainer::Trainer::new(&cfg);
        let dir = tempfile::tempdir().unwrap();
        let run = nar::run_dir::RunDir::create(dir.path()).unwrap();
        t.save(&run.checkpoints()).unwrap();
        let p = run.checkpoint(nar::run_dir::Checkpoint::Last);
        if !keep_checksum {
            let mut state: serde_json::Value = serde_json::from_slice(&std::fs::read(&p.state).unwrap()).unwrap();
            state.as_object_mut().unwrap().remove("weights_sha256");
            std::fs::write(&p.state, state.to_string()).unwrap();
        }
        let w = std::fs::read(&p.weights).unwrap();
        std::fs::write(&p.weights, mutate(&w, &m)).unwrap();
        let mut model = nar::ranker::model::Ranker::<f32>::new(&cfg.ranker, 1);
        let _ = checkpoint::load_weights(&p, &mut model);
        let s = std::fs::read(&p.state).unwrap();
        std::fs::write(&p.state, mutate(&s, &m)).unwrap();
        let _ = checkpoint::load_state(&p).map(|s| s.check(cfg.ranker.n_tier, &p.state));
    }

    #[test]
    fn architectures(m in mutation()) {
        let s = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|";
        let _ = String::from_utf8_lossy(&mutate(s.as_bytes(), &m)).parse::<nar::space::nb201::Arch>();
        let _ = Nb201::parse_id(&String::from_utf8_lossy(&mutate(b"1234", &m)));
        let json = br#"[[0,1,1,1,0,1,0],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,1,0,0],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,0,0,0]]"#;
        if let Ok(matrix) = nar::space::nb101::bounded::matrix_from_json(&String::from_utf8_lossy(&mutate(json, &m))) {
            let ops = ["input", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"];
            let _ = Cell::new(&matrix, &ops);
        }
        let ops = String::from_utf8_lossy(&mutate(br#"["input","conv3x3-bn-relu","output"]"#, &m)).into_owned();
        if let Ok(ops) = serde_json::from_str::<Vec<String>>(&ops) {
            let _ = Cell::new(&[vec![0, 1, 0], vec![0, 0, 1], vec![0, 0, 0]], &ops);
        }
    }
}
