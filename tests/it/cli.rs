//! The `nar` binary end to end: output, exit codes and error messages.

use crate::common;

use nar::spaces::AnyDataset;

use std::process::Output;

use common::nar;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn arch_reads_nar_example_file_and_reports_its_costs() {
    let path = common::data_file("examples/nasbench101_vertice_example.json");
    let o = nar(&["arch", "--file", path.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let example = common::read_json("examples/nasbench101_vertice_example.json");
    assert_eq!(v["hash"], example[0]["unique_hash"]);
    assert_eq!(v["networks"]["cifar10"]["total_params"], example[0]["trainable_parameters"]);
    assert_eq!(v["networks"]["cifar10"]["total_flops"], example[0]["flops"]);
    assert_eq!(v["networks"]["cifar10"]["vertex_or_edge_flops"], example[0]["vertex_flops"]);
    assert_eq!(v["networks"]["cifar10"]["vertex_or_edge_params"], example[0]["vertex_params"]);
}

#[test]
fn arch_nb201_string_index_and_encoding() {
    let rows = common::nb201_strings();
    let (index, text) = &rows[1234];
    let o = nar(&["arch", text, "--json", "--encode", "--dataset", "cifar100"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["index"].as_u64().unwrap() as usize, *index);
    assert_eq!(v["encoding"]["cifar100"].as_array().unwrap().len(), 31);
    // By index, human-readable.
    let o = nar(&["arch", &index.to_string()]);
    assert!(o.status.success());
    assert!(stdout(&o).contains(text.as_str()));
    assert!(stdout(&o).contains("network  ImageNet16-120:"));
}

#[test]
fn arch_invalid_input_exits_2_with_the_reason() {
    let o = nar(&["arch", r#"{"matrix": [[0,1,0],[0,0,0],[0,0,0]], "ops": ["input","conv3x3-bn-relu","output"]}"#]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("no path leads from the input to the output"), "{}", stdout(&o));
    let o = nar(&["arch", "|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["error"].as_str().unwrap().contains("node 2 must have 2 incoming edges"));
}

#[test]
fn arch_bad_files_name_the_file_and_the_problem() {
    let o = nar(&["arch", "--file", "/nonexistent/cell.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read /nonexistent/cell.json"), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[{\"matrix\": [[0,1],[0,0]], \"ops\": [\"input\", \"output\"]}, {\"matrix\": 3}]").unwrap();
    let o = nar(&["arch", "--file", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("bad.json") && err.contains("record 1"), "{err}");
    std::fs::write(&bad, "{\"matrix\": [[0,1],[0,0]]").unwrap();
    let err = stderr(&nar(&["arch", "--file", bad.to_str().unwrap()]));
    assert!(err.contains("malformed JSON") && err.contains("bad.json"), "{err}");
}

#[test]
fn space_enumerate_nb201_writes_every_architecture_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nb201.csv");
    let o = nar(&["space", "enumerate", "nb201", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 15_625);
    let expected = common::nb201_strings();
    for (row, (index, text)) in rows.iter().zip(&expected) {
        assert_eq!(row[0].parse::<usize>().unwrap(), *index);
        assert_eq!(&row[1], text);
    }
    let example = common::read_json("examples/nasbench201_vertice_example.json");
    assert_eq!(rows[0][2].parse::<u64>().unwrap(), example["0"]["cifar10-valid_total_params"].as_u64().unwrap());
    assert_eq!(rows[0][7].parse::<u64>().unwrap(), example["0"]["ImageNet16-120_total_flops"].as_u64().unwrap());
    // Only the output file is left in the directory: no temporary file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn space_enumerate_into_missing_parent_that_cannot_be_created_fails_cleanly() {
    let o = nar(&["space", "enumerate", "nb201", "-o", "/proc/nar-no-such/x.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/proc/nar-no-such"), "{}", stderr(&o));
}

#[test]
fn data_build_info_export_on_the_nb201_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("nb201.nar");
    let csv = common::data_file("nb201/nb201_accuracy.csv");
    let o = nar(&["data", "build", "--space", "nb201", "-m", csv.to_str().unwrap(), "-o", store.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("joined 15625 rows"), "{}", stderr(&o));
    let o = nar(&["data", "info", store.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // The benchmark optima NAS-Bench-201 publishes (Dong & Yang, ICLR 2020, Table 5, "optimal" row).
    for (metric, best) in
        [("cifar10_test_acc", "94.37"), ("cifar100_test_acc", "73.51"), ("imagenet16_test_acc", "47.31")]
    {
        let line = out.lines().find(|l| l.starts_with(metric)).unwrap();
        assert!(line.contains("15625           0") && line.contains(&format!("max {best}")), "{line}");
    }
    // NAR JSON export of all 15,625, loadable: one record per index, the example's record 0 included.
    let json = dir.path().join("nb201.json");
    let o = nar(&["data", "export", store.to_str().unwrap(), "--format", "nar-json", "-o", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 15_625);
    let example = common::read_json("examples/nasbench201_vertice_example.json");
    for key in ["arch_str", "cell_adjacency", "cifar10-valid_opt_flops", "ImageNet16-120_total_params"] {
        assert_eq!(v["0"][key], example["0"][key], "{key}");
    }
    // Unknown format and missing input fail with status 1 and say why.
    let o = nar(&["data", "info", dir.path().join("none.nar").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("none.nar"), "{}", stderr(&o));
    let bad = dir.path().join("m.txt");
    std::fs::write(&bad, "x").unwrap();
    let o = nar(&["data", "build", "--space", "nb201", "-m", bad.to_str().unwrap(), "-o", store.to_str().unwrap()]);
    assert!(stderr(&o).contains("unknown metrics format"), "{}", stderr(&o));
    // The failed build left the earlier store intact.
    assert!(nar(&["data", "info", store.to_str().unwrap()]).status.success());
    // Without metric files, `data build --space nb201` joins the table compiled into the binary: the
    // same metrics, value for value, as the store built from data/nb201/nb201_accuracy.csv.
    let embedded = dir.path().join("embedded.nar");
    let o = nar(&["data", "build", "--space", "nb201", "-o", embedded.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("embedded NAS-Bench-201 table"), "{}", stderr(&o));
    let (AnyDataset::Nb201(a), AnyDataset::Nb201(b)) =
        (AnyDataset::open(&store).unwrap(), AnyDataset::open(&embedded).unwrap())
    else {
        panic!("both stores are nb201")
    };
    assert_eq!(a.ids(), b.ids());
    assert_eq!(a.metrics().len(), 8); // the table's columns less `index` and `arch_str`
    for (x, y) in a.metrics().iter().zip(b.metrics()) {
        assert_eq!(x.name, y.name);
        assert!(x.values.iter().zip(&y.values).all(|(p, q)| p.to_bits() == q.to_bits()), "{}", x.name);
    }
    // And a space name falls back to it when the data directory has no store.
    let empty = tempfile::tempdir().unwrap();
    let o = nar(&["data", "info", "nb201", "--data-dir", empty.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("embedded NAS-Bench-201 table"), "{}", stdout(&o));
}

#[test]
#[ignore = "enumerates all of NAS-Bench-101: run in release (`cargo test --release -- --include-ignored`)"]
fn data_build_nb101_joins_the_sample_into_the_whole_space() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("nb101.nar");
    let csv = common::data_file("nb101/nb101_subset_1k.csv");
    let o = nar(&["data", "build", "--space", "nb101", "-m", csv.to_str().unwrap(), "-o", store.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&nar(&["data", "info", store.to_str().unwrap()]));
    assert!(out.contains("archs     423624"), "{out}");
    let line = out.lines().find(|l| l.starts_with("val_acc_108ep")).unwrap();
    assert!(line.contains("1000      422624"), "{line}");
    // Exporting to NAR JSON needs NAR's averaged accuracies, which the sample lacks.
    let never = dir.path().join("never.json");
    let o = nar(&["data", "export", store.to_str().unwrap(), "--format", "nar-json", "-o", never.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("needs metric `avg_validation_accuracy`"), "{}", stderr(&o));
    assert!(!never.exists());
}

#[test]
fn thirty_two_digits_are_an_nb101_hash_not_an_nb201_index() {
    let o = nar(&["arch", "00000000000000000000000000000000"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no NAS-Bench-101 cell has hash 00000000000000000000000000000000"), "{err}");
    // 31 digits are still an (out-of-range) NB201 index.
    let o = nar(&["arch", "0000000000000000000000000000001"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("index"), "{}", String::from_utf8_lossy(&o.stdout));
}

/// Outputs get the permissions any file a tool writes gets: 0666 less the user's umask.
#[test]
fn outputs_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for (umask, mode) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let out = dir.path().join(format!("nb201-{umask}.nar"));
        let script = format!("umask {umask} && exec \"$0\" data build --space nb201 -o \"$1\"");
        let o = std::process::Command::new("sh")
            .args(["-c", &script, env!("CARGO_BIN_EXE_nar"), out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, mode, "umask {umask}");
    }
}
