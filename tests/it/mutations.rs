//! Property tests: real inputs of every loader, mutated (truncated, a bit flipped, a line repeated, a
//! number turned into text, bytes inserted), must give a right answer — never a panic, never a hang:
//! an error that names the file, or a result that holds what a loader may hold (every value a valid
//! value of its metric; a checksummed file exactly as it was written; an architecture that reads back
//! to itself). Loaders: CSV tables, NAR JSON (both spaces), NB101 tfrecord, the .nar store, YAML
//! configurations, checkpoints, NB201 strings and NB101 matrices.

use crate::common;

use std::path::Path;

use nar::config::Config;
use nar::data::metric::check_value;
use nar::data::{Dataset, SpaceSources, store, table};
use nar::ranker::checkpoint;
use nar::space::SearchSpace;
use nar::spaces::Nb201;
use nar::spaces::nb101::Cell;
use nar::spaces::nb101::tfrecord;
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

/// What a load of a mutated file may end in: an error that names `file`, or a dataset every value of
/// which is a valid value of its metric (finite, on the space's scale).
fn loaded_or_named<S: SearchSpace, T>(
    result: &anyhow::Result<T>,
    ds: &Dataset<S>,
    file: &str,
) -> Result<(), TestCaseError> {
    match result {
        Err(e) => prop_assert!(format!("{e:#}").contains(file), "the error does not name {file}: {e:#}"),
        Ok(_) => {
            for m in ds.metrics() {
                for v in m.values.iter().filter(|v| !v.is_nan()) {
                    prop_assert!(check_value::<S>(&m.name, *v).is_ok(), "{} holds {v}", m.name);
                }
            }
        }
    }
    Ok(())
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
        let r = table::join_csv_reader(&mut ds, bytes.as_slice(), "t.csv");
        loaded_or_named(&r, &ds, "t.csv")?;
    }

    #[test]
    fn nar_json_nb201(m in mutation()) {
        let src = std::fs::read(common::data_file("examples/nasbench201_vertice_example.json")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.json", &mutate(&src, &m));
        let mut ds = Dataset::<Nb201>::full();
        let r = ds.join_nar_json(&p);
        loaded_or_named(&r, &ds, "x.json")?;
    }

    #[test]
    fn nar_json_nb101(m in mutation()) {
        let src = std::fs::read(common::data_file("examples/nasbench101_vertice_example.json")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.json", &mutate(&src, &m));
        if let Err(e) = nar::spaces::nar_json_space(&p) {
            prop_assert!(format!("{e:#}").contains("x.json"), "{e:#}");
        }
        let mut ds = common::nb101_subset_dataset();
        let r = ds.join_nar_json(&p);
        loaded_or_named(&r, &ds, "x.json")?;
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
                trainable_parameters: nar::spaces::nb101::cost::network_cost(&cell).total_params as i32,
                total_time: 1.0,
            };
            let run = tfrecord::Run { hash: cell.hash(), epochs: 108, matrix: r.matrix.clone(), ops: r.ops.clone(), metrics };
            tfrecord::write_record(&mut out, &run.to_json()).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.tfrecord", &mutate(&out, &m));
        let mut ds = common::nb101_subset_dataset();
        let r = tfrecord::join(&mut ds, &p);
        loaded_or_named(&r, &ds, "x.tfrecord")?;
    }

    #[test]
    fn stores(m in mutation()) {
        let mut ds = common::nb101_subset_dataset();
        table::join_csv(&mut ds, &common::data_file("nb101/nb101_subset_1k.csv")).unwrap();
        let bytes = store::to_bytes(&ds);
        let mutated = mutate(&bytes, &m);
        // The store is checksummed: whatever loads is exactly what was written.
        if let Ok(loaded) = nar::spaces::AnyDataset::from_store_bytes(&mutated) {
            let nar::spaces::AnyDataset::Nb101(loaded) = loaded else { return Err(TestCaseError::fail("not NB101")) };
            prop_assert_eq!(store::to_bytes(&loaded), bytes);
        }
    }

    #[test]
    fn configurations(m in mutation()) {
        let text = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/nb201.yaml")).unwrap();
        match Config::parse(&String::from_utf8_lossy(&mutate(&text, &m))) {
            // A configuration that parses is a valid one, and reads back to itself as a run saves it.
            Ok(cfg) => {
                prop_assert!(cfg.check().is_ok());
                let again = Config::parse(&serde_yaml::to_string(&cfg).unwrap()).unwrap();
                prop_assert_eq!(again, cfg);
            }
            Err(e) => prop_assert!(format!("{e:#}").starts_with("invalid configuration") || format!("{e:#}").contains(" must ") || format!("{e:#}").contains("out of range") || format!("{e:#}").contains("is larger than") || format!("{e:#}").contains("at least"), "{e:#}"),
        }
    }

    #[test]
    fn checkpoints(m in mutation(), keep_checksum in any::<bool>()) {
        let cfg = Config::parse(&common::tiny_nb201_config()).unwrap();
        let mut t = nar::ranker::trainer::Trainer::new(&cfg.transformer(), cfg.seed);
        let dir = tempfile::tempdir().unwrap();
        let run = nar::run_dir::RunDir::create(dir.path()).unwrap();
        t.save(&run.checkpoints()).unwrap();
        let p = run.checkpoint(nar::ranker::checkpoint::Checkpoint::Last);
        if !keep_checksum {
            let mut state: serde_json::Value = serde_json::from_slice(&std::fs::read(&p.state).unwrap()).unwrap();
            state.as_object_mut().unwrap().remove("weights_sha256");
            std::fs::write(&p.state, state.to_string()).unwrap();
        }
        let w = std::fs::read(&p.weights).unwrap();
        std::fs::write(&p.weights, mutate(&w, &m)).unwrap();
        let mut model = nar::ranker::model::Ranker::<f32>::new(&cfg.ranker, 1);
        // With the checksum, the damaged weights are refused (naming the file); without it, weights
        // that load are finite.
        match checkpoint::load_weights(&p, &mut model) {
            Ok(()) => prop_assert!(!keep_checksum || mutate(&w, &m) == w, "damaged weights loaded past their checksum"),
            Err(e) => prop_assert!(format!("{e:#}").contains("last"), "{e:#}"),
        }
        let s = std::fs::read(&p.state).unwrap();
        let mutated = mutate(&s, &m);
        std::fs::write(&p.state, &mutated).unwrap();
        // A state that loads and passes its check is the one written, or a text of equal meaning.
        if let Ok(state) = checkpoint::load_state(&p)
            && state.check(cfg.ranker.n_tier, &p.state).is_ok()
        {
            let original: checkpoint::TrainState = serde_json::from_slice(&s).unwrap();
            prop_assert!(state.distri.len() == original.distri.len());
        }
    }

    #[test]
    fn architectures(m in mutation()) {
        // Whatever parses reads back to itself: a string to the same architecture, an index in range.
        let s = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|";
        let text = String::from_utf8_lossy(&mutate(s.as_bytes(), &m)).into_owned();
        if let Ok(arch) = text.parse::<nar::spaces::nb201::Arch>() {
            prop_assert_eq!(arch.to_string().parse::<nar::spaces::nb201::Arch>().unwrap(), arch);
        }
        if let Ok(i) = Nb201::parse_id(&String::from_utf8_lossy(&mutate(b"1234", &m))) {
            prop_assert!(i < 15_625);
        }
        let json = br#"[[0,1,1,1,0,1,0],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,1,0,0],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,0,0,0]]"#;
        if let Ok(matrix) = nar::spaces::nb101::bounded::matrix_from_json(&String::from_utf8_lossy(&mutate(json, &m))) {
            let ops = ["input", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"];
            // A valid cell is pruned to itself: its own matrix and ops give the same cell and hash.
            if let Some(cell) = ops.get(..matrix.len()).and_then(|o| Cell::new(&matrix, o).ok()) {
                let spec = cell.spec();
                prop_assert_eq!(Cell::new(&spec.matrix, &spec.ops).unwrap().hash(), cell.hash());
            }
        }
        let ops = String::from_utf8_lossy(&mutate(br#"["input","conv3x3-bn-relu","output"]"#, &m)).into_owned();
        if let Ok(ops) = serde_json::from_str::<Vec<String>>(&ops) {
            match Cell::new(&[vec![0, 1, 0], vec![0, 0, 1], vec![0, 0, 0]], &ops) {
                Ok(cell) => prop_assert_eq!(ops, vec!["input", "conv3x3-bn-relu", "output"].into_iter().map(String::from).collect::<Vec<_>>(), "{:?}", cell),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}
