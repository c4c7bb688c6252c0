//! Datasets: building from the real tables, the store, NAR JSON round trips, tfrecord, bad input.

use crate::common;

use std::path::{Path, PathBuf};

use nar::data::{Dataset, Metric, SpaceSources, store, table};
use nar::space::SearchSpace;
use nar::spaces::nb101::Cell;
use nar::spaces::nb101::nar_json as nb101_nar_json;
use nar::spaces::nb101::tfrecord;
use nar::spaces::nb201::ImageDataset as Net;
use nar::spaces::{AnyDataset, Nb101, Nb201};
use serde_json::Value;

fn nb201_built() -> Dataset<Nb201> {
    nar::data::build::<Nb201>(&[common::data_file("nb201/nb201_accuracy.csv")], &mut |_| {}).unwrap()
}

fn err_text(e: anyhow::Error) -> String {
    format!("{e:#}")
}

#[test]
fn nb201_build_reproduces_record_0_of_nar_example() {
    let ds = nb201_built();
    assert_eq!(ds.len(), 15_625);
    let example = common::read_json("examples/nasbench201_vertice_example.json");
    let rec = &example["0"];
    let pos = ds.position(&0).unwrap();
    assert_eq!(ds.archs()[pos].to_string(), rec["arch_str"].as_str().unwrap());
    for net in Net::ALL {
        let c = ds.cell_info(pos, net);
        let k = net.nar_key();
        assert_eq!(c.total_flops, rec[format!("{k}_total_flops")].as_u64().unwrap());
        assert_eq!(c.total_params, rec[format!("{k}_total_params")].as_u64().unwrap());
        for cell in &c.cells {
            let f: Vec<u64> = serde_json::from_value(rec[format!("{k}_opt_flops")][cell.key].clone()).unwrap();
            let p: Vec<u64> = serde_json::from_value(rec[format!("{k}_opt_params")][cell.key].clone()).unwrap();
            assert_eq!((&cell.flops, &cell.params), (&f, &p), "{k} {}", cell.key);
        }
    }
    for name in [
        "cifar10_val_acc",
        "cifar10_test_acc",
        "cifar100_val_acc",
        "cifar100_test_acc",
        "imagenet16_val_acc",
        "imagenet16_test_acc",
    ] {
        let ours = ds.metric(name).unwrap_or_else(|| panic!("{name}"))[pos];
        let theirs = rec[name].as_f64().unwrap();
        assert!((ours - theirs).abs() < 1e-6, "{name}: {ours} vs {theirs}");
    }
}

#[test]
fn nb201_optima_are_the_benchmark_optima() {
    let ds = nb201_built();
    let best = |name: &str| {
        let m = ds.metrics().iter().find(|m| m.name == name).unwrap();
        assert_eq!(m.labelled(), 15_625);
        (m.best().unwrap().1 * 100.0).round() / 100.0
    };
    // docs/design.md §8: the test optima NAS-Bench-201 publishes (94.37 / 73.51 / 47.31) and the
    // validation optima of the table (91.61 / 73.49 / 46.73).
    assert_eq!(
        [best("cifar10_test_acc"), best("cifar100_test_acc"), best("imagenet16_test_acc")],
        [94.37, 73.51, 47.31]
    );
    assert_eq!([best("cifar10_val_acc"), best("cifar100_val_acc"), best("imagenet16_val_acc")], [91.61, 73.49, 46.73]);
}

#[test]
fn nb101_table_joins_every_subset_hash() {
    let mut ds = common::nb101_subset_dataset();
    let r = table::join_csv(&mut ds, &common::data_file("nb101/nb101_subset_1k.csv")).unwrap();
    assert_eq!(r.rows, 1000);
    let col = ds.metric("val_acc_108ep").unwrap();
    for row in common::nb101_subset() {
        let pos = ds.position(&row.hash.parse().unwrap()).unwrap();
        assert_eq!(col[pos], row.val_acc_108);
    }
    assert_eq!(ds.metrics().iter().find(|m| m.name == "val_acc_108ep").unwrap().labelled(), 1000);
}

fn same_metrics(a: &[Metric], b: &[Metric]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.name, y.name);
        assert!(x.values.iter().zip(&y.values).all(|(p, q)| p.to_bits() == q.to_bits()), "{}", x.name);
    }
}

#[test]
fn store_round_trip_and_corruption() {
    let ds = nb201_built();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nb201.nar");
    store::write(&ds, &path).unwrap();
    let AnyDataset::Nb201(back) = AnyDataset::open(&path).unwrap() else { panic!("space") };
    assert_eq!(back.archs(), ds.archs());
    assert_eq!(back.ids(), ds.ids());
    assert_eq!(back.sources(), ds.sources());
    same_metrics(back.metrics(), ds.metrics());

    let bytes = std::fs::read(&path).unwrap();
    let open_bytes = |b: &[u8]| AnyDataset::from_store_bytes(b).err().map(err_text).unwrap_or_default();
    assert!(
        open_bytes(&bytes[..bytes.len() - 100]).contains("truncated"),
        "{}",
        open_bytes(&bytes[..bytes.len() - 100])
    );
    assert!(open_bytes(&bytes[..20]).contains("truncated"));
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x40;
    assert!(open_bytes(&flipped).contains("checksum mismatch"));
    assert!(open_bytes(b"{\"not\": \"a store\"}").contains("not a nar dataset"));
    let mut version = bytes.clone();
    version[8] = 9;
    assert!(open_bytes(&version).contains("version 9"));
    // The file name is part of the message.
    std::fs::write(dir.path().join("cut.nar"), &bytes[..1000]).unwrap();
    let e = err_text(AnyDataset::open(&dir.path().join("cut.nar")).err().unwrap());
    assert!(e.contains("cut.nar") && e.contains("truncated"), "{e}");
}

#[test]
fn nb101_store_round_trip() {
    let mut ds = common::nb101_subset_dataset();
    table::join_csv(&mut ds, &common::data_file("nb101/nb101_subset_1k.csv")).unwrap();
    let bytes = store::to_bytes(&ds);
    let AnyDataset::Nb101(back) = AnyDataset::from_store_bytes(&bytes).unwrap() else { panic!("space") };
    assert_eq!(back.archs(), ds.archs());
    assert_eq!(back.ids(), ds.ids());
    same_metrics(back.metrics(), ds.metrics());
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn nar_json_round_trips_exactly() {
    // NB201: import the example, export it, compare as JSON (numbers included).
    let src = common::data_file("examples/nasbench201_vertice_example.json");
    let (ds, report) = AnyDataset::import_nar_json(&src).unwrap();
    assert_eq!((report.records, report.mismatches), (1, 0));
    assert_eq!(report.checked, 3 * (2 * 15 * 6 + 2));
    let mut out = Vec::new();
    assert_eq!(ds.export_nar_json(&mut out).unwrap(), 1);
    assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), json_file(&src));

    // NB101, joined into the sample's cells (the example is the sample's first cell).
    let src = common::data_file("examples/nasbench101_vertice_example.json");
    let mut ds = common::nb101_subset_dataset();
    let report = nb101_nar_json::join(&mut ds, &src).unwrap();
    assert_eq!((report.records, report.checked, report.mismatches), (1, 2 * 63 + 2, 0));
    let mut out = Vec::new();
    assert_eq!(AnyDataset::Nb101(ds).export_nar_json(&mut out).unwrap(), 1);
    assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), json_file(&src));
}

fn write_modified(dir: &Path, name: &str, rel: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v = common::read_json(rel);
    edit(&mut v);
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    p
}

#[test]
fn nar_json_mismatches_are_reported_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_modified(dir.path(), "x.json", "examples/nasbench101_vertice_example.json", |v| {
        v[0]["vertex_flops"]["stack1/module0"][3] = Value::from(1234);
        v[0]["flops"] = Value::from(1);
    });
    let mut ds = common::nb101_subset_dataset();
    let r = nb101_nar_json::join(&mut ds, &p).unwrap();
    assert_eq!(r.mismatches, 2);
    assert!(
        r.examples[0].contains("vertex_flops[stack1/module0][3] is 1234 in the file, 75497472 by the cost model"),
        "{:?}",
        r.examples
    );
    assert!(r.summary(&p).contains("2 differ"));
}

#[test]
fn malformed_nar_json_names_file_record_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_modified(dir.path(), "missing.json", "examples/nasbench101_vertice_example.json", |v| {
        let rec = v[0].clone();
        v.as_array_mut().unwrap().push(rec);
        v[1].as_object_mut().unwrap().remove("flops");
    });
    let e = err_text(nb101_nar_json::join(&mut common::nb101_subset_dataset(), &p).unwrap_err());
    assert!(e.contains("missing.json") && e.contains("record 1") && e.contains("missing field `flops`"), "{e}");

    let p = write_modified(dir.path(), "badop.json", "examples/nasbench201_vertice_example.json", |v| {
        v["0"]["arch_str"] = Value::from("|conv9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    });
    let e = err_text(AnyDataset::import_nar_json(&p).err().unwrap());
    assert!(
        e.contains("badop.json") && e.contains("record 0") && e.contains("`arch_str`") && e.contains("conv9x9"),
        "{e}"
    );

    let p = dir.path().join("cut.json");
    let text = std::fs::read_to_string(common::data_file("examples/nasbench201_vertice_example.json")).unwrap();
    std::fs::write(&p, &text[..text.len() / 2]).unwrap();
    let e = err_text(AnyDataset::import_nar_json(&p).err().unwrap());
    assert!(e.contains("cut.json") && e.contains("EOF"), "{e}");

    let p = dir.path().join("hash.json");
    let mut v = common::read_json("examples/nasbench101_vertice_example.json");
    v[0]["unique_hash"] = Value::from("0000718c96730a92ea6d5242f8ce77e2");
    std::fs::write(&p, v.to_string()).unwrap();
    let e = err_text(nb101_nar_json::join(&mut common::nb101_subset_dataset(), &p).unwrap_err());
    assert!(e.contains("`unique_hash`") && e.contains("00005c142e6f48ac74fdcf73e3439874"), "{e}");
}

#[test]
fn export_refuses_datasets_without_nar_required_metrics() {
    let mut ds = common::nb101_subset_dataset();
    table::join_csv(&mut ds, &common::data_file("nb101/nb101_subset_1k.csv")).unwrap();
    let e = err_text(AnyDataset::Nb101(ds).export_nar_json(&mut Vec::new()).unwrap_err());
    assert!(e.contains("needs metric `avg_validation_accuracy`") && e.contains("val_acc_108ep"), "{e}");
}

#[test]
fn malformed_csv_names_file_record_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let mut ds = Dataset::<Nb201>::full();
    let p = write("num.csv", "index,acc\n0,91.5\n1,abc\n");
    let e = err_text(table::join_csv(&mut ds, &p).unwrap_err());
    assert!(e.contains("num.csv: record 2 (line 3), field `acc`") && e.contains("\"abc\" is not a number"), "{e}");
    let p = write("id.csv", "index,acc\n15625,1\n");
    let e = err_text(table::join_csv(&mut ds, &p).unwrap_err());
    assert!(e.contains("id.csv: record 1 (line 2), field `index`") && e.contains("out of range"), "{e}");
    let p = write("dup.csv", "index,acc\n3,1\n3,2\n");
    assert!(err_text(table::join_csv(&mut ds, &p).unwrap_err()).contains("appears twice"));
    let p = write("noid.csv", "name,acc\nx,1\n");
    let e = err_text(table::join_csv(&mut ds, &p).unwrap_err());
    assert!(e.contains("noid.csv: no identity column") && e.contains("`index`"), "{e}");
    let p = write("clash.csv", "index,arch_str,acc\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n");
    let e = err_text(table::join_csv(&mut ds, &p).unwrap_err());
    assert!(e.contains("field `arch_str`") && e.contains("not 0"), "{e}");
    let p = write("ragged.csv", "index,acc\n0,1,2\n");
    let e = err_text(table::join_csv(&mut ds, &p).unwrap_err());
    assert!(e.contains("ragged.csv: record 1 (line 2)"), "{e}");
    // A generic table identified by architecture string alone, with a missing value.
    let p = write(
        "mine.csv",
        "arch_str,my_acc\n|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|,90.5\n|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|,\n",
    );
    let r = table::join_csv(&mut ds, &p).unwrap();
    assert_eq!(r.rows, 2);
    assert_eq!(ds.metric("my_acc").unwrap()[1], 90.5);
    assert!(ds.metric("my_acc").unwrap()[0].is_nan());
    let e = err_text(table::join_csv(&mut ds, Path::new("/no/such.csv")).unwrap_err());
    assert!(e.contains("/no/such.csv"), "{e}");
}

/// One tfrecord record of NAS-Bench-101's format (real protobuf, real CRCs): run `run` of `cell` at
/// `epochs`, validation accuracy `v` at the end of training.
fn tf_run(out: &mut Vec<u8>, cell: &Cell, run: usize, epochs: u32, v: f64) {
    let eval = |frac: f64| tfrecord::EvaluationData {
        current_epoch: f64::from(epochs) * frac,
        training_time: 1000.0 * frac + run as f64,
        train_accuracy: frac,
        validation_accuracy: v * frac,
        test_accuracy: (v - 0.01) * frac,
        checkpoint_path: String::new(),
    };
    let metrics = tfrecord::ModelMetrics {
        evaluation_data: vec![eval(0.0), eval(0.5), eval(1.0)],
        trainable_parameters: nar::spaces::nb101::cost::network_cost(cell).total_params as i32,
        total_time: 1234.5,
    };
    let m: Vec<Vec<i64>> = cell.matrix().iter().map(|r| r.iter().map(|&b| b as i64).collect()).collect();
    let rec = tfrecord::Run {
        hash: cell.hash(),
        epochs,
        matrix: m,
        ops: cell.op_names().iter().map(|s| s.to_string()).collect(),
        metrics,
    };
    tfrecord::write_record(out, &rec.to_json()).unwrap();
}

/// Writes a tfrecord in NAS-Bench-101's format: three runs per cell at 108 epochs.
fn write_tfrecord(path: &Path, cells: &[(Cell, [f64; 3])]) {
    let mut out = Vec::new();
    for (cell, vals) in cells {
        for (run, v) in vals.iter().enumerate() {
            tf_run(&mut out, cell, run, 108, *v);
        }
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn tfrecord_is_read_and_averaged_like_nar() {
    let rows = common::nb101_subset();
    let cells: Vec<(Cell, [f64; 3])> = rows
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, r)| (Cell::new(&r.matrix, &r.ops).unwrap(), [0.90 + i as f64 * 0.01, 0.91, 0.93]))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nasbench_only108.tfrecord");
    write_tfrecord(&path, &cells);
    let mut ds = common::nb101_subset_dataset();
    let r = tfrecord::join(&mut ds, &path).unwrap();
    assert_eq!((r.records, r.architectures, r.epochs, r.param_mismatches), (12, 4, 108, 0));
    assert_eq!(r.runs, vec![(3, 4)]);
    for (i, (cell, vals)) in cells.iter().enumerate() {
        let pos = ds.position(&Nb101::id(cell)).unwrap();
        let mean = vals.iter().sum::<f64>() / 3.0;
        assert!((ds.metric("avg_validation_accuracy").unwrap()[pos] - mean).abs() < 1e-12, "{i}");
        assert!((ds.metric("avg_test_accuracy").unwrap()[pos] - (mean - 0.01)).abs() < 1e-12);
        assert!((ds.metric("avg_training_time").unwrap()[pos] - 1001.0).abs() < 1e-9);
    }
    // The protobuf round-trips.
    let m = tfrecord::ModelMetrics {
        evaluation_data: vec![tfrecord::EvaluationData {
            test_accuracy: 0.5,
            checkpoint_path: "x".into(),
            ..Default::default()
        }],
        trainable_parameters: 8_555_530,
        total_time: 3.5,
    };
    assert_eq!(tfrecord::ModelMetrics::decode(&m.encode()).unwrap(), m);
}

#[test]
fn corrupted_tfrecords_give_clear_errors() {
    let rows = common::nb101_subset();
    let cell = Cell::new(&rows[0].matrix, &rows[0].ops).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tfrecord");
    write_tfrecord(&good, &[(cell, [0.9, 0.9, 0.9])]);
    let bytes = std::fs::read(&good).unwrap();
    let try_bytes = |name: &str, b: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, b).unwrap();
        err_text(tfrecord::join(&mut common::nb101_subset_dataset(), &p).unwrap_err())
    };
    let e = try_bytes("cut.tfrecord", &bytes[..bytes.len() - 10]);
    assert!(e.contains("cut.tfrecord") && e.contains("record 2") && e.contains("truncated"), "{e}");
    let mut flipped = bytes.clone();
    flipped[40] ^= 1;
    let e = try_bytes("flip.tfrecord", &flipped);
    assert!(e.contains("flip.tfrecord") && e.contains("record 0") && e.contains("checksum"), "{e}");
    let mut bad = Vec::new();
    tfrecord::write_record(
        &mut bad,
        b"[\"00005c142e6f48ac74fdcf73e3439874\", 108, \"0100\", \"input,output\", \"!!\"]",
    )
    .unwrap();
    let e = try_bytes("b64.tfrecord", &bad);
    assert!(e.contains("record 0") && e.contains("field `metrics`"), "{e}");
}

/// Every tfrecord record is validated, not only the first of each hash: a later record whose cell is
/// garbage (a 7×7 matrix of ones, unknown ops) or another cell, or whose accuracy is out of range, is
/// refused with the record's number.
#[test]
fn every_tfrecord_record_is_checked() {
    let rows = common::nb101_subset();
    let cell = Cell::new(&rows[0].matrix, &rows[0].ops).unwrap();
    let other = Cell::new(&rows[1].matrix, &rows[1].ops).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.tfrecord");
    let run_of = |matrix: Vec<Vec<i64>>, ops: Vec<String>, val: f64| {
        let eval = tfrecord::EvaluationData {
            current_epoch: 108.0,
            training_time: 100.0,
            train_accuracy: 1.0,
            validation_accuracy: val,
            test_accuracy: 0.9,
            checkpoint_path: String::new(),
        };
        let metrics = tfrecord::ModelMetrics {
            evaluation_data: vec![eval.clone(), eval.clone(), eval],
            trainable_parameters: nar::spaces::nb101::cost::network_cost(&cell).total_params as i32,
            total_time: 1.0,
        };
        tfrecord::Run { hash: cell.hash(), epochs: 108, matrix, ops, metrics }.to_json()
    };
    let m = |c: &Cell| c.matrix().iter().map(|r| r.iter().map(|&b| b as i64).collect()).collect::<Vec<Vec<i64>>>();
    let names = |c: &Cell| c.op_names().iter().map(|s| s.to_string()).collect::<Vec<String>>();
    for (second, what) in [
        (run_of(vec![vec![1; 7]; 7], vec!["foo".into(), "bar".into()], 0.9), "field `adjacency`/`operations`"),
        (run_of(m(&other), names(&other), 0.9), "not the cell of the earlier records"),
        (run_of(m(&cell), names(&cell), 250.0), "field `validation_accuracy`: 250 is not an accuracy"),
    ] {
        let mut out = Vec::new();
        tfrecord::write_record(&mut out, &run_of(m(&cell), names(&cell), 0.9)).unwrap();
        tfrecord::write_record(&mut out, &second).unwrap();
        std::fs::write(&path, out).unwrap();
        let mut ds = common::nb101_subset_dataset();
        let e = format!("{:#}", tfrecord::join(&mut ds, &path).unwrap_err());
        assert!(e.contains("bad.tfrecord: record 1") && e.contains(what), "{e}");
    }
}

/// What nar writes, nar reads: NAR JSON exported from a table that has only NAR's required NB101
/// accuracies (so training time and train accuracy are written as null) imports back, values equal.
#[test]
fn nb101_export_without_optional_metrics_imports_back() {
    let rows = common::nb101_subset();
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("required_only.csv");
    let mut text = String::from("unique_hash,avg_validation_accuracy,avg_test_accuracy\n");
    for r in rows.iter().take(50) {
        text += &format!("{},{},{}\n", r.hash, r.val_acc_108, r.val_acc_108 - 0.01);
    }
    std::fs::write(&table, text).unwrap();
    let mut ds = common::nb101_subset_dataset();
    table::join_csv(&mut ds, &table).unwrap();
    let mut json = Vec::new();
    assert_eq!(AnyDataset::Nb101(ds.clone()).export_nar_json(&mut json).unwrap(), 50);
    assert!(String::from_utf8_lossy(&json).contains("\"avg_training_time\":null"));
    let path = dir.path().join("exported.json");
    std::fs::write(&path, &json).unwrap();
    let mut back = common::nb101_subset_dataset();
    back.join_nar_json(&path).unwrap();
    for name in ["avg_validation_accuracy", "avg_test_accuracy"] {
        let (a, b) = (ds.metric(name).unwrap(), back.metric(name).unwrap());
        assert!(a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan())), "{name}");
    }
    assert!(back.metric("avg_training_time").unwrap().iter().all(|v| v.is_nan()));
}

// Each format held to its own published shape (docs/design.md §3, "What each format must satisfy").

/// The first cell of the NB101 sample.
fn first_sample_cell() -> Cell {
    let r = &common::nb101_subset()[0];
    Cell::new(&r.matrix, &r.ops).unwrap()
}

#[test]
fn accuracies_on_the_other_scale_are_refused_per_format() {
    let dir = tempfile::tempdir().unwrap();
    // NB101 NAR JSON holds fractions: 93.0 is a percentage.
    let p = write_modified(dir.path(), "pct.json", "examples/nasbench101_vertice_example.json", |v| {
        v[0]["avg_test_accuracy"] = Value::from(93.0);
    });
    let e = err_text(nb101_nar_json::join(&mut common::nb101_subset_dataset(), &p).unwrap_err());
    assert!(
        e.contains("pct.json")
            && e.contains("record 0")
            && e.contains("field `avg_test_accuracy`: 93 is not an accuracy: NAS-Bench-101 accuracies are fractions in [0, 1]; a percentage in a fraction field?"),
        "{e}"
    );
    // NB201 NAR JSON holds percentages: 0.93 on CIFAR-10 is below half of chance (10 %).
    let p = write_modified(dir.path(), "frac.json", "examples/nasbench201_vertice_example.json", |v| {
        v["0"]["cifar10_val_acc"] = Value::from(0.93);
    });
    let e = err_text(AnyDataset::import_nar_json(&p).err().unwrap());
    assert!(
        e.contains("frac.json")
            && e.contains("record 0: field `cifar10_val_acc`: 0.93 is below half of chance (10.000 %): NAS-Bench-201 accuracies are percentages"),
        "{e}"
    );
    // A whole NB201 record in fractions: CIFAR-100's 0.53 is above half of chance (0.5 %), but the
    // column's median is below 90 % of chance.
    let p = write_modified(dir.path(), "fracs.json", "examples/nasbench201_vertice_example.json", |v| {
        for (k, x) in v["0"].as_object_mut().unwrap() {
            if k.ends_with("_acc") {
                *x = Value::from(x.as_f64().unwrap() / 100.0);
            }
        }
    });
    let e = err_text(AnyDataset::import_nar_json(&p).err().unwrap());
    assert!(e.contains("fracs.json") && e.contains("record 0: field `cifar10_val_acc`"), "{e}");

    // A CSV column mixing the scales: 73.0 among CIFAR-100 fractions near 0.6 (NB201: percentages).
    let csv = dir.path().join("mixed.csv");
    std::fs::write(&csv, "index,cifar100_val_acc\n1,0.61\n2,0.62\n3,73.0\n4,0.65\n5,0.66\n").unwrap();
    let e = err_text(table::join_csv(&mut Dataset::<Nb201>::full(), &csv).unwrap_err());
    assert!(
        e.contains(
            "mixed.csv: record 1 (line 2), field `cifar100_val_acc`: 0.61 is a fraction: the column's median is 0.65"
        ),
        "{e}"
    );
    // The same column on the right scale is read.
    std::fs::write(&csv, "index,cifar100_val_acc\n1,61\n2,62\n3,73.0\n4,0.99\n5,66\n").unwrap();
    table::join_csv(&mut Dataset::<Nb201>::full(), &csv).unwrap();
    // NB101 tables hold fractions: 93.0 among values near 0.9 is refused at its record.
    let r = &common::nb101_subset()[..3];
    let hashes: Vec<String> = r.iter().map(|r| Nb101::id(&Cell::new(&r.matrix, &r.ops).unwrap()).to_string()).collect();
    std::fs::write(
        &csv,
        format!("unique_hash,val_acc_108ep\n{},0.91\n{},93.0\n{},0.92\n", hashes[0], hashes[1], hashes[2]),
    )
    .unwrap();
    let e = err_text(table::join_csv(&mut common::nb101_subset_dataset(), &csv).unwrap_err());
    assert!(e.contains("record 2 (line 3), field `val_acc_108ep`: 93 is not an accuracy"), "{e}");
    // The tfrecord holds fractions.
    let mut out = Vec::new();
    tf_run(&mut out, &first_sample_cell(), 0, 108, 92.0);
    let tf = dir.path().join("pct.tfrecord");
    std::fs::write(&tf, out).unwrap();
    let e = err_text(tfrecord::join(&mut common::nb101_subset_dataset(), &tf).unwrap_err());
    assert!(e.contains("pct.tfrecord: record 0: field `validation_accuracy`: 92 is not an accuracy"), "{e}");
    // A store's column is held to the space's scale too.
    let ds = Dataset::<Nb201>::full();
    let frac = Metric::new("cifar10_val_acc", vec![0.9; ds.len()]);
    let e = err_text(
        Dataset::<Nb201>::from_parts(ds.archs().to_vec(), ds.ids().to_vec(), vec![frac], vec![]).err().unwrap(),
    );
    assert!(e.contains("metric cifar10_val_acc, architecture 0 (0): 0.9 is below half of chance"), "{e}");
}

/// A file name, an edit of a NAR JSON example, and what the error must say.
type EditCase = (&'static str, Box<dyn Fn(&mut Value)>, &'static str);

#[test]
fn nar_json_fields_are_required_and_unknown_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nb201 = "examples/nasbench201_vertice_example.json";
    let cases: [EditCase; 4] = [
        (
            "missing.json",
            Box::new(|v| drop(v["0"].as_object_mut().unwrap().remove("cifar10_val_acc"))),
            "record 0: missing field `cifar10_val_acc`",
        ),
        (
            "latency.json",
            Box::new(|v| drop(v["0"].as_object_mut().unwrap().remove("cifar100_latency"))),
            "record 0: missing field `cifar100_latency`",
        ),
        (
            "null.json",
            Box::new(|v| v["0"]["imagenet16_test_acc"] = Value::Null),
            "record 0: field `imagenet16_test_acc` is null",
        ),
        (
            "typo.json",
            Box::new(|v| {
                let x = v["0"].as_object_mut().unwrap().remove("cifar10_val_acc").unwrap();
                v["0"]["cifar10_val_accc"] = x;
            }),
            "record 0: unknown field `cifar10_val_accc` (NB201 records hold `arch_str`",
        ),
    ];
    for (name, edit, what) in cases {
        let p = write_modified(dir.path(), name, nb201, edit);
        let e = err_text(AnyDataset::import_nar_json(&p).err().unwrap());
        assert!(e.contains(name) && e.contains(what), "{name}: {e}");
    }
    // A latency may be null (nar's export writes null where a dataset has none).
    let p = write_modified(dir.path(), "nolat.json", nb201, |v| v["0"]["cifar10_latency"] = Value::Null);
    AnyDataset::import_nar_json(&p).unwrap();

    let nb101 = "examples/nasbench101_vertice_example.json";
    let cases: [EditCase; 4] = [
        (
            "missing101.json",
            Box::new(|v| drop(v[0].as_object_mut().unwrap().remove("avg_validation_accuracy"))),
            "record 0: missing field `avg_validation_accuracy`",
        ),
        (
            "time101.json",
            Box::new(|v| drop(v[0].as_object_mut().unwrap().remove("avg_training_time"))),
            "record 0: missing field `avg_training_time`",
        ),
        (
            "null101.json",
            Box::new(|v| v[0]["avg_test_accuracy"] = Value::Null),
            "record 0: invalid type: null, expected f64",
        ),
        (
            "typo101.json",
            Box::new(|v| v[0]["avg_tset_accuracy"] = Value::from(0.9)),
            "record 0: unknown field `avg_tset_accuracy`",
        ),
    ];
    for (name, edit, what) in cases {
        let p = write_modified(dir.path(), name, nb101, edit);
        let e = err_text(nb101_nar_json::join(&mut common::nb101_subset_dataset(), &p).unwrap_err());
        assert!(e.contains(name) && e.contains(what), "{name}: {e}");
    }
    let p = write_modified(dir.path(), "nulltime.json", nb101, |v| v[0]["avg_training_time"] = Value::Null);
    nb101_nar_json::join(&mut common::nb101_subset_dataset(), &p).unwrap();
}

#[test]
fn tfrecord_run_counts_and_epoch_budgets_are_nas_bench_101_s() {
    let dir = tempfile::tempdir().unwrap();
    let cell = first_sample_cell();
    let try_runs = |name: &str, runs: &[(u32, usize)]| {
        let mut out = Vec::new();
        for &(epochs, n) in runs {
            (0..n).for_each(|r| tf_run(&mut out, &cell, r, epochs, 0.9));
        }
        let p = dir.path().join(name);
        std::fs::write(&p, out).unwrap();
        tfrecord::join(&mut common::nb101_subset_dataset(), &p).map_err(err_text)
    };
    let e = try_runs("ten.tfrecord", &[(108, 10)]).unwrap_err();
    assert!(
        e.contains("ten.tfrecord: record 3: hash")
            && e.contains("has more than 3 training runs at 108 epochs: NAS-Bench-101 trains each cell 3 times"),
        "{e}"
    );
    // Four runs at a smaller budget are as wrong, even after the largest budget was read.
    let e = try_runs("four.tfrecord", &[(108, 3), (36, 4)]).unwrap_err();
    assert!(e.contains("record 6") && e.contains("at 36 epochs"), "{e}");
    let e = try_runs("odd.tfrecord", &[(100, 3)]).unwrap_err();
    assert!(e.contains("record 0: field `epochs`: 100: NAS-Bench-101 trains for 4, 12, 36 or 108 epochs"), "{e}");
    // nasbench_full's shape: three runs at each of the four budgets, the largest one kept.
    let r = try_runs("full.tfrecord", &[(4, 3), (12, 3), (36, 3), (108, 3)]).unwrap();
    assert_eq!((r.records, r.epochs, r.runs.clone()), (12, 108, vec![(3, 1)]));
}

/// A store's bytes with another header (its layout and checksum recomputed).
fn with_header(bytes: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&bytes[16..16 + header_len]).unwrap();
    edit(&mut header);
    let header = serde_json::to_vec(&header).unwrap();
    let mut b = bytes[..12].to_vec();
    b.extend_from_slice(&(header.len() as u32).to_le_bytes());
    b.extend_from_slice(&header);
    b.resize(b.len().div_ceil(8) * 8, 0);
    b.extend_from_slice(&bytes[(16 + header_len).div_ceil(8) * 8..bytes.len() - 8]);
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b.extend_from_slice(b"NEND");
    b
}

#[test]
fn a_store_holds_its_whole_space_or_says_it_is_a_subset() {
    use nar::spaces::nb201::Arch;
    let archs: Vec<Arch> = [0, 7, 100, 5000, 15_624].iter().map(|&i| Arch::from_index(i).unwrap()).collect();
    let ids: Vec<usize> = archs.iter().map(Nb201::id).collect();
    let five = Dataset::<Nb201>::from_parts(archs, ids, vec![], vec![]).unwrap();
    let bytes = store::to_bytes(&five);
    let AnyDataset::Nb201(back) = AnyDataset::from_store_bytes(&bytes).unwrap() else { panic!("space") };
    assert_eq!(back.ids(), five.ids());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("five.nar");
    std::fs::write(&path, &bytes).unwrap();
    let info = common::ok(&common::nar(&["data", "info", path.to_str().unwrap()]));
    assert!(info.contains("archs     5\nsubset    5 of the space's 15625 architectures\n"), "{info}");
    // The same five without the header's word that they are a subset: refused.
    let silent = with_header(&bytes, |h| drop(h.as_object_mut().unwrap().remove("subset")));
    let e = err_text(AnyDataset::from_store_bytes(&silent).err().unwrap());
    assert!(
        e.contains(
            "the header says 5 architectures without saying it is a subset: a nb201 store holds the whole space (15625)"
        ),
        "{e}"
    );
    // No architecture at all, and a "subset" that is the whole space.
    let empty = store::to_bytes(&Dataset::<Nb201>::from_parts(vec![], vec![], vec![], vec![]).unwrap());
    assert!(err_text(AnyDataset::from_store_bytes(&empty).err().unwrap()).contains("holds no architectures"));
    let full = store::to_bytes(&Dataset::<Nb201>::full());
    let e = err_text(
        AnyDataset::from_store_bytes(&with_header(&full, |h| h["subset"] = Value::from("all"))).err().unwrap(),
    );
    assert!(e.contains("says it is a subset but holds all 15625"), "{e}");
    // A full store says nothing of subsets (and reads as before).
    assert!(!String::from_utf8_lossy(&full[..200]).contains("subset"));
}
