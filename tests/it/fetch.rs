//! Downloads against a small HTTP server on 127.0.0.1: checksum, resume after a cut, server errors.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

use nar::data::fetch::{MAX_DOWNLOAD, download, sha256_file};

/// How the server answers the n-th request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Serve the body (honouring a Range header).
    Serve,
    /// Announce the whole length but close after this many body bytes.
    CutAfter(usize),
    /// Answer with this status and no body.
    Status(u16),
    /// Answer a range request with 206 but the whole body, claiming it starts at byte 0.
    WrongRange,
    /// Serve the body with no Content-Length, closing the connection at its end.
    NoLength,
}

/// Serves `body` for as many requests as `plan` has entries; returns the URL and the Range headers seen.
fn serve(body: Vec<u8>, plan: Vec<Behaviour>) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/data/file.json", listener.local_addr().unwrap());
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = ranges.clone();
    thread::spawn(move || {
        for behaviour in plan {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    range = Some(v.trim().trim_end_matches('-').to_string());
                }
            }
            seen.lock().unwrap().push(range.clone());
            let start: usize = range.as_deref().map_or(0, |r| r.parse().unwrap());
            let part = &body[start..];
            let status = if start > 0 {
                format!("206 Partial Content\r\nContent-Range: bytes {start}-{}/{}", body.len() - 1, body.len())
            } else {
                "200 OK".to_string()
            };
            match behaviour {
                Behaviour::Status(code) => {
                    write!(stream, "HTTP/1.1 {code} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
                }
                Behaviour::Serve => {
                    write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", part.len())
                        .unwrap();
                    stream.write_all(part).unwrap();
                }
                Behaviour::WrongRange => {
                    let head =
                        format!("206 Partial Content\r\nContent-Range: bytes 0-{}/{}", body.len() - 1, body.len());
                    write!(stream, "HTTP/1.1 {head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                        .unwrap();
                    stream.write_all(&body).unwrap();
                }
                Behaviour::NoLength => {
                    write!(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").unwrap();
                    let _ = stream.write_all(part);
                }
                Behaviour::CutAfter(n) => {
                    write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", part.len())
                        .unwrap();
                    stream.write_all(&part[..n]).unwrap();
                }
            }
            stream.flush().unwrap();
        }
    });
    (url, ranges)
}

fn test_body() -> (Vec<u8>, String) {
    let path = common::data_file("examples/nasbench201_vertice_example.json");
    (std::fs::read(&path).unwrap(), sha256_file(&path).unwrap())
}

#[test]
fn download_verifies_the_checksum() {
    let (body, sha) = test_body();
    let (url, _) = serve(body.clone(), vec![Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0u64;
    let d = download(&url, dir.path(), "nb201.json", Some(&sha), MAX_DOWNLOAD, 3, &mut |_, n| seen += n).unwrap();
    assert!(d.verified);
    assert_eq!(d.bytes as usize, body.len());
    assert_eq!(seen as usize, body.len());
    assert_eq!(std::fs::read(dir.path().join("nb201.json")).unwrap(), body);
    assert!(!dir.path().join("nb201.json.part").exists());
}

#[test]
fn checksum_mismatch_deletes_the_download() {
    let (body, _) = test_body();
    let (url, _) = serve(body, vec![Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();
    let wrong = "0".repeat(64);
    let e = format!(
        "{:#}",
        download(&url, dir.path(), "x.json", Some(&wrong), MAX_DOWNLOAD, 3, &mut |_, _| {}).unwrap_err()
    );
    assert!(e.contains("checksum mismatch") && e.contains(&wrong), "{e}");
    assert!(!dir.path().join("x.json").exists());
    assert!(!dir.path().join("x.json.part").exists());
}

#[test]
fn cut_connection_is_resumed_with_a_range_request() {
    let (body, sha) = test_body();
    let (url, ranges) =
        serve(body.clone(), vec![Behaviour::CutAfter(1000), Behaviour::CutAfter(500), Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();
    let d = download(&url, dir.path(), "r.json", Some(&sha), MAX_DOWNLOAD, 5, &mut |_, _| {}).unwrap();
    assert_eq!(d.resumed, 2);
    assert_eq!(*ranges.lock().unwrap(), vec![None, Some("1000".to_string()), Some("1500".to_string())]);
    assert_eq!(std::fs::read(dir.path().join("r.json")).unwrap(), body);
}

/// A 206 answer that does not continue where the file stops is not appended: the download starts over.
#[test]
fn a_resume_answered_from_the_wrong_byte_starts_over() {
    let (body, sha) = test_body();
    let (url, ranges) = serve(body.clone(), vec![Behaviour::CutAfter(1000), Behaviour::WrongRange, Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();
    let d = download(&url, dir.path(), "w.json", Some(&sha), MAX_DOWNLOAD, 5, &mut |_, _| {}).unwrap();
    assert_eq!(*ranges.lock().unwrap(), vec![None, Some("1000".to_string()), None]);
    assert_eq!(std::fs::read(&d.path).unwrap(), body);
    // A checksum that is not one is refused before anything is fetched.
    let e = format!(
        "{:#}",
        download(&url, dir.path(), "x.json", Some("abc"), MAX_DOWNLOAD, 1, &mut |_, _| {}).unwrap_err()
    );
    assert!(e.contains("\"abc\" is not a SHA-256 checksum"), "{e}");
    assert!(!dir.path().join("x.json.part").exists());
}

#[test]
fn interrupted_download_is_kept_for_the_next_run() {
    let (body, sha) = test_body();
    let (url, _) = serve(body.clone(), vec![Behaviour::CutAfter(777)]);
    let dir = tempfile::tempdir().unwrap();
    let e =
        format!("{:#}", download(&url, dir.path(), "k.json", Some(&sha), MAX_DOWNLOAD, 1, &mut |_, _| {}).unwrap_err());
    assert!(e.contains("run again to resume") && e.contains("k.json.part"), "{e}");
    assert_eq!(std::fs::metadata(dir.path().join("k.json.part")).unwrap().len(), 777);
    // The next run resumes from byte 777.
    let (url, ranges) = serve(body.clone(), vec![Behaviour::Serve]);
    download(&url, dir.path(), "k.json", Some(&sha), MAX_DOWNLOAD, 1, &mut |_, _| {}).unwrap();
    assert_eq!(*ranges.lock().unwrap(), vec![Some("777".to_string())]);
    assert_eq!(std::fs::read(dir.path().join("k.json")).unwrap(), body);
}

#[test]
fn server_error_is_reported() {
    let (url, _) = serve(Vec::new(), vec![Behaviour::Status(500)]);
    let dir = tempfile::tempdir().unwrap();
    let e = format!("{:#}", download(&url, dir.path(), "e.json", None, MAX_DOWNLOAD, 3, &mut |_, _| {}).unwrap_err());
    assert!(e.contains("500") && e.contains(&url), "{e}");
}

#[test]
fn cli_fetch_downloads_verifies_and_imports() {
    let (body, sha) = test_body();
    let (url, _) = serve(body, vec![Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();
    let o = common::nar_command(&["data", "fetch", "nb201", "--url", &url, "--sha256", &sha, "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("verified"), "{err}");
    // The dataset lands in the data directory and is found by space name.
    let o = common::nar_command(&["data", "info", "nb201"]).env("NAR_DATA_DIR", dir.path()).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let example = common::read_json("examples/nasbench201_vertice_example.json");
    let line = out.lines().find(|l| l.starts_with("cifar10_test_acc")).unwrap_or_else(|| panic!("{out}"));
    let best = format!("max {} at 0", example["0"]["cifar10_test_acc"].as_f64().unwrap());
    assert!(line.contains(&best), "{line}");
}

#[test]
fn a_response_larger_than_its_file_may_be_is_refused_and_nothing_kept() {
    let (body, sha) = test_body();
    let max = (body.len() / 2) as u64;
    // Announced by Content-Length: refused before the body is read.
    let (url, _) = serve(body.clone(), vec![Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();
    let e = format!("{:#}", download(&url, dir.path(), "big.json", Some(&sha), max, 1, &mut |_, _| {}).unwrap_err());
    assert!(e.contains(&format!("announces {} bytes, more than this file may have ({max})", body.len())), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing kept");
    // No length announced: stopped once it runs past.
    let (url, _) = serve(body.clone(), vec![Behaviour::NoLength]);
    let e = format!("{:#}", download(&url, dir.path(), "big.json", Some(&sha), max, 1, &mut |_, _| {}).unwrap_err());
    assert!(e.contains(&format!("passed {max} bytes, more than this file may have")), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing kept");
    // Within its size, the same body downloads.
    let (url, _) = serve(body.clone(), vec![Behaviour::NoLength]);
    let d = download(&url, dir.path(), "ok.json", Some(&sha), body.len() as u64, 1, &mut |_, _| {}).unwrap();
    assert_eq!(d.bytes, body.len() as u64);
}
