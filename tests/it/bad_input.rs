//! Every malformed input of tests/corpus (see its README) against the command that reads it: a clear
//! error naming the file and the field, exit status 1 (2 for an invalid architecture), and nothing
//! written — an output that existed before keeps its bytes, a run directory is not created. Then the
//! hostile cases that need a setting rather than a file: outputs equal to inputs, links and special
//! files as outputs, existing runs, crafted stores, a killed training run.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::nar;

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `args` (with `{out}` replaced by an output path that already holds a sentinel) and checks the
/// failure: status, message parts, the sentinel untouched, no temporary file left.
fn refused(args: &[&str], status: i32, parts: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.nar");
    std::fs::write(&out, b"sentinel").unwrap();
    let args: Vec<String> = args.iter().map(|a| a.replace("{out}", out.to_str().unwrap())).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = nar(&refs);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(status), "nar {}: {err}", args.join(" "));
    for p in parts {
        assert!(err.contains(p), "nar {}: the message lacks {p:?}: {err}", args.join(" "));
    }
    assert!(!err.contains("internal error"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"sentinel", "nar {}: the output was touched", args.join(" "));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 1, "nar {}: files left behind: {left:?}", args.join(" "));
}

#[test]
fn malformed_metric_tables_are_refused() {
    for (file, field, what) in [
        ("nb201_nan.csv", "record 2 (line 3), field `cifar10_val_acc`", "NaN is not a finite number"),
        ("nb201_inf.csv", "field `cifar10_val_acc`", "inf is not a finite number"),
        ("nb201_accuracy_1000.csv", "record 2 (line 3), field `cifar10_val_acc`", "1000 is not an accuracy"),
        ("nb201_accuracy_negative.csv", "field `cifar10_val_acc`", "-5 is not an accuracy"),
        ("nb201_duplicate_record.csv", "record 2 (line 3), field `index`", "0 appears twice"),
        ("nb201_duplicate_column.csv", "column `cifar10_val_acc`", "appears twice in the header"),
        ("nb201_duplicate_alias.csv", "column `cifar10_val_acc`", "appears twice in the header"),
        ("nb201_duplicate_index_column.csv", "column `index`", "appears twice in the header"),
        ("nb201_empty_column_name.csv", "column 2 of the header", "has no name"),
        ("nb201_header_only.csv", "nb201_header_only.csv", "no records below the header"),
        ("nb201_empty.csv", "nb201_empty.csv", "no identity column"),
        ("nb201_not_a_number.csv", "field `cifar10_val_acc`", "\"ninety\" is not a number"),
        ("nb201_index_out_of_range.csv", "field `index`", "index 15625 is out of range"),
        ("nb201_signed_index.csv", "field `index`", "\"+5\" is not an NB201 index"),
        ("nb201_arch_mismatch.csv", "field `arch_str`", "the architecture is 1651, not 0"),
        ("nb201_accuracy_negative.json", "record 0: field `cifar10_val_acc`", "-5 is not an accuracy"),
        ("nb201_empty.json", "nb201_empty.json", "no records"),
        ("nb201_duplicate_field.json", "record 0: field `cifar10_val_acc`", "appears twice"),
    ] {
        let path = corpus(file);
        refused(
            &["data", "build", "--space", "nb201", "-m", path.to_str().unwrap(), "-o", "{out}"],
            1,
            &[file, field, what],
        );
    }
}

#[test]
#[ignore = "enumerates NB101 for each file (about 4 s each); run by .ci/run"]
fn malformed_nb101_inputs_are_refused() {
    for (file, field, what) in [
        ("nb101_matrix_8x8.csv", "field `module_adjacency`", "more than 7 entries"),
        ("nb101_matrix_8x8.json", "record 0", "more than 7 entries"),
        ("nb101_accuracy_1000.json", "field `avg_validation_accuracy`", "1000 is not an accuracy"),
        ("nb101_duplicate_record.json", "00005c142e6f48ac74fdcf73e3439874", "appears in two records"),
        ("nb101_empty.json", "nb101_empty.json", "no records"),
        ("nb101_duplicate_field.json", "record 0", "duplicate field `avg_test_accuracy`"),
    ] {
        let path = corpus(file);
        refused(
            &["data", "build", "--space", "nb101", "-m", path.to_str().unwrap(), "-o", "{out}"],
            1,
            &[file, field, what],
        );
    }
}

#[test]
fn broken_configurations_are_refused_before_anything_is_made() {
    for (file, what) in [
        ("config_val_batch_size0.yaml", "val_batch_size must be between 1 and 65536, found 0"),
        ("config_d_k0.yaml", "ranker.d_k must be between 1 and 1024, found 0"),
        ("config_d_model100000.yaml", "ranker.d_model (100000)"),
        ("config_n_arch_patch19.yaml", "must be 31 and 4 for nb201"),
        ("config_ranker_epochs0.yaml", "ranker_epochs must be between 1"),
        ("config_eps0.yaml", "optimizer.eps is out of range: 0"),
        ("config_lr_mulnan.yaml", "lr_scheduler.lr_mul is out of range: NaN"),
        ("config_bins0.yaml", "bins must be between 1 and 1024, found 0"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let path = corpus(file);
        let o = nar(&["train", "--config", path.to_str().unwrap(), "--data", "nb201", "--out", run.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(file) && err.contains(what), "{file}: {err}");
        assert!(!run.exists(), "{file}: the run directory was made");
    }
}

#[test]
fn bad_architecture_files_and_arguments() {
    refused(
        &["arch", "--file", corpus("arch_empty_list.json").to_str().unwrap()],
        1,
        &["arch_empty_list.json", "an empty list"],
    );
    refused(
        &["arch", "--file", corpus("arch_matrix_30x30.json").to_str().unwrap()],
        1,
        &["arch_matrix_30x30.json", "more than 7 entries"],
    );
    refused(&["arch", "--file", "/dev/zero"], 1, &["/dev/zero", "larger than 8 MiB"]);
    refused(&["arch", "[]"], 1, &["an empty list"]);
    // Signed and out-of-range indexes are invalid architectures alike (status 2).
    for a in ["-1", "+5", "15625", "99999999999999999999999"] {
        let o = nar(&["arch", "--", a]);
        assert_eq!(o.status.code(), Some(2), "{a}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("valid    no:"), "{a}: {out}");
        // The number is echoed as given, never as another.
        assert!(out.contains(a.trim_start_matches('+')), "{a}: {out}");
    }
}

#[test]
fn outputs_never_clobber_inputs_links_or_special_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An output equal to an input (by another name) is refused before anything is read.
    let table = d.join("table.csv");
    std::fs::write(&table, "index,cifar10_val_acc\n0,91.5\n").unwrap();
    let alias = d.join("alias.csv");
    std::os::unix::fs::symlink(&table, &alias).unwrap();
    let o = nar(&["data", "build", "--space", "nb201", "-m", table.to_str().unwrap(), "-o", alias.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is the input"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&table).unwrap(), "index,cifar10_val_acc\n0,91.5\n");
    // A link as output: its target is written, the link kept.
    let target = d.join("target.csv");
    std::fs::write(&target, "old").unwrap();
    let link = d.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    common::ok(&nar(&["space", "enumerate", "nb201", "-o", link.to_str().unwrap()]));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap().lines().count(), 15_626);
    // Special files are written into: /dev/null takes it, /dev/full says the device is full.
    common::ok(&nar(&["space", "enumerate", "nb201", "-o", "/dev/null"]));
    let o = nar(&["space", "enumerate", "nb201", "-o", "/dev/full"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/dev/full") && stderr(&o).contains("No space left on device"), "{}", stderr(&o));
    // A directory is not an output file.
    let o = nar(&["space", "enumerate", "nb201", "-o", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
}

#[test]
fn existing_runs_need_resume_or_force() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::tiny_run(dir.path(), "run", 1);
    let cfg = common::tiny_config_file(dir.path());
    let before = std::fs::read(RunPaths::meta(&run)).unwrap();
    let train = |extra: &[&str]| {
        let mut args =
            vec!["train", "--config", &cfg, "--data", "nb201", "--out", run.to_str().unwrap(), "--epochs", "1"];
        args.extend_from_slice(extra);
        nar(&args)
    };
    let o = train(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("already holds a run: `--resume` continues it, `--force` replaces it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(RunPaths::meta(&run)).unwrap(), before, "run.json was rewritten");
    // A folder that is not a run is never replaced.
    let other = dir.path().join("photos");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("cat.jpg"), b"meow").unwrap();
    let o = nar(&["train", "--config", &cfg, "--data", "nb201", "--out", other.to_str().unwrap(), "--force"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not a run directory: nar replaces run directories only"), "{}", stderr(&o));
    assert_eq!(std::fs::read(other.join("cat.jpg")).unwrap(), b"meow");
    // --force replaces the run.
    common::ok(&train(&["--force"]));
    assert!(RunPaths::meta(&run).exists());
}

struct RunPaths;
impl RunPaths {
    fn meta(run: &Path) -> PathBuf {
        nar::run_dir::RunDir::open(run).unwrap().meta_path()
    }
}

#[test]
fn crafted_stores_are_refused() {
    use nar::spaces::AnyDataset;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.nar");
    common::ok(&nar(&["data", "build", "--space", "nb201", "-o", good.to_str().unwrap()]));
    let bytes = std::fs::read(&good).unwrap();
    assert!(matches!(AnyDataset::from_store_bytes(&bytes).unwrap(), AnyDataset::Nb201(_)));
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[16..16 + header_len].to_vec()).unwrap();
    // A count past the space (2^63 + 5), with a valid checksum around it.
    let rebuilt = |header: &str| -> Vec<u8> {
        let mut b = bytes[..12].to_vec();
        b.extend_from_slice(&(header.len() as u32).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(&bytes[16 + header_len..]);
        b
    };
    let count = header.split("\"count\":").nth(1).unwrap().split([',', '}']).next().unwrap().to_string();
    let huge = rebuilt(&header.replace(&format!("\"count\":{count}"), "\"count\":9223372036854775813"));
    let e = format!("{:#}", AnyDataset::from_store_bytes(&huge).err().unwrap());
    assert!(e.contains("9223372036854775813 architectures; the nb201 space has 15625"), "{e}");
    // Copies of one architecture: the checksum is recomputed, the order check catches it.
    let mut copies = bytes.clone();
    let archs_at = (16 + header_len).div_ceil(8) * 8;
    for i in 1..15_625 {
        let (a, b) = copies.split_at_mut(archs_at + 2 * i);
        b[..2].copy_from_slice(&a[archs_at..archs_at + 2]);
    }
    let end = copies.len() - 8;
    let crc = crc32fast::hash(&copies[..end]);
    copies[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    let e = format!("{:#}", AnyDataset::from_store_bytes(&copies).err().unwrap());
    assert!(e.contains("out of the space's order or repeated"), "{e}");
    // Not a store at all: refused from its first bytes, never read whole.
    let o = nar(&["data", "info", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/dev/zero") && stderr(&o).contains("no NARSTORE magic"), "{}", stderr(&o));
}

/// Kills `nar train` (SIGKILL: no cleanup of any kind) twice at different moments, resumes it each time,
/// and ends with the weights of an uninterrupted run: no epoch that was logged is lost, and every
/// checkpoint left behind loads (a save cut between its commit point and its last rename is finished
/// by the next load).
#[test]
fn a_killed_training_run_resumes_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let epochs = 12;
    let full = common::tiny_run(dir.path(), "full", epochs);
    let cfg = common::tiny_config_file(dir.path());
    let store = dir.path().join("nb201.nar");
    let run = dir.path().join("killed");
    let e = epochs.to_string();
    let log_lines = || std::fs::read_to_string(run.join("metrics.jsonl")).map_or(0, |t| t.lines().count());
    let start = |resume: bool| {
        let mut c = common::nar_command(&[]);
        if resume {
            c.args(["train", "--resume", "--out", run.to_str().unwrap()]);
        } else {
            c.args(["train", "--config", &cfg, "--data", store.to_str().unwrap(), "--out", run.to_str().unwrap()]);
            c.args(["--epochs", &e]);
        }
        c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap()
    };
    for (round, (wait_for, extra_ms)) in [(2usize, 7u64), (6, 23)].into_iter().enumerate() {
        let mut child = start(round > 0);
        while log_lines() < wait_for {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(std::time::Duration::from_millis(extra_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let logged = log_lines();
        let state = nar::run_dir::RunDir::open(&run).unwrap();
        let last =
            nar::ranker::checkpoint::load_state(&state.checkpoint(nar::ranker::checkpoint::Checkpoint::Last)).unwrap();
        assert!(last.epochs_done >= logged, "round {round}: {logged} epochs logged, {} checkpointed", last.epochs_done);
        assert!(last.epochs_done < epochs, "round {round}: the run finished before it was killed");
    }
    common::ok(&nar(&["train", "--resume", "--out", run.to_str().unwrap()]));
    let weights = |root: &Path| {
        let r = nar::run_dir::RunDir::open(root).unwrap();
        std::fs::read(r.checkpoint(nar::ranker::checkpoint::Checkpoint::Last).weights).unwrap()
    };
    assert!(weights(&run) == weights(&full), "the resumed run's weights differ from the uninterrupted run's");
    assert_eq!(log_lines(), epochs);
    // Both checkpoints load through the command line.
    common::ok(&nar(&["eval", run.to_str().unwrap()]));
}

/// SIGINT or SIGTERM while an output is being written: the temporary file goes, the output is not
/// made, and the status says which signal (128 + its number).
#[test]
#[ignore = "enumerates NB101 (about 6 s each); run by .ci/run"]
fn signals_remove_the_temporary_files() {
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("space.csv");
        let mut child = common::nar_command(&["space", "enumerate", "nb101", "-o", out.to_str().unwrap()])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let temporary = || {
            std::fs::read_dir(dir.path())
                .unwrap()
                .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(".nar-tmp-"))
        };
        let t = std::time::Instant::now();
        while !temporary() {
            assert!(t.elapsed().as_secs() < 60, "no temporary file appeared");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // SAFETY: signalling the child started above.
        unsafe { libc::kill(child.id() as libc::pid_t, sig) };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code));
        assert!(!temporary(), "a temporary file was left");
        assert!(!out.exists(), "the output was made");
    }
}

/// A panic is reported as a bug, with its location, and exits with 70 — never as a normal failure.
#[test]
fn a_panic_says_internal_error_and_exits_70() {
    let o = common::nar_command(&["data", "info", "nb201"]).env("NAR_DEBUG_PANIC", "1").output().unwrap();
    assert_eq!(o.status.code(), Some(70));
    let err = stderr(&o);
    assert!(err.starts_with("internal error, please report: ") && err.contains("src/main.rs"), "{err}");
}

/// An output folder is resolved before the never-overwrite rule: `new/..` names the folder that holds
/// `new`, so a run there is refused (not overwritten through a folder that does not exist yet), and an
/// empty path names no folder.
#[test]
fn an_output_path_through_a_new_folder_cannot_reach_an_existing_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::tiny_run(dir.path(), "run", 1);
    let config = std::fs::read(nar::run_dir::RunDir::open(&run).unwrap().config_path()).unwrap();
    let cfg = common::tiny_config_file(dir.path());
    let store = dir.path().join("nb201.nar");
    for out in ["run/newsub/..", "run/a/b/../..", "./run/."] {
        let o = common::nar_command(&["train", "--config", &cfg, "--data", store.to_str().unwrap(), "--out", out])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{out}: {err}");
        assert!(err.contains("already holds a run") && err.contains("--force"), "{out}: {err}");
        assert!(!run.join("newsub").exists() && !run.join("a").exists(), "{out}: a folder was made");
        assert_eq!(std::fs::read(nar::run_dir::RunDir::open(&run).unwrap().config_path()).unwrap(), config, "{out}");
    }
    let o = common::nar_command(&["train", "--config", &cfg, "--data", store.to_str().unwrap(), "--out", ""])
        .current_dir(dir.path())
        .output()
        .unwrap();
    // The command line refuses it as a usage error; the library (Python's `nar.train(…, "")`) says why.
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("a value is required for '--out <OUT>'"), "{}", stderr(&o));
    let e = nar::io::resolve_output_dir(std::path::Path::new("")).unwrap_err();
    assert_eq!(e.to_string(), "an empty path names no folder: give the output folder");
}
