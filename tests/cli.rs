//! The `nar` binary end to end: output, exit codes and error messages.

mod common;

use std::process::{Command, Output};

fn nar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nar")).args(args).output().expect("nar runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn arch_reads_nar_example_file_and_reports_its_costs() {
    let path = common::shared_file("testdata/nasbench101_vertice_example.json");
    let o = nar(&["arch", "--file", path.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let example = common::read_json("testdata/nasbench101_vertice_example.json");
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
    let example = common::read_json("testdata/nasbench201_vertice_example.json");
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
