//! Downloads of the published datasets: resumable, with progress and SHA-256 verification.
//!
//! A download goes to `<dir>/<file>.part`; an interrupted one is resumed with an HTTP range request
//! (automatically, a few times, and on the next run). Only a file whose SHA-256 matches is renamed to
//! its final name; a mismatching one is deleted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};

use super::{Dataset, SpaceSources};
use crate::space::{SearchSpace, SpaceKind};

/// A published file nar knows how to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub space: SpaceKind,
    /// Short name (`nar-json`, `tfrecord`).
    pub kind: &'static str,
    pub url: String,
    pub file_name: String,
    /// Expected SHA-256 (hex), when published.
    pub sha256: Option<String>,
    /// The published file's size in bytes (about): a download may not run past it by more than a
    /// small margin ([`Source::max_bytes`]).
    pub size: u64,
}

impl Source {
    /// The most a download of this file may bring: its size plus 10 % and 8 MiB.
    pub fn max_bytes(&self) -> u64 {
        (self.size + self.size / 10 + (8 << 20)).min(MAX_DOWNLOAD)
    }
}

fn google_drive(id: &str) -> String {
    format!("https://drive.usercontent.google.com/download?id={id}&export=download&confirm=t")
}

/// Where a published file is: a Google Drive file id or a URL.
pub enum Location {
    Drive(&'static str),
    Url(&'static str),
}

/// A published file of a space, as its folder lists it (`SpaceSources::PUBLISHED`).
pub struct Published {
    /// Short name (`nar-json`, `tfrecord`).
    pub kind: &'static str,
    pub location: Location,
    pub file_name: &'static str,
    /// Its SHA-256, where published.
    pub sha256: Option<&'static str>,
    /// Its size in bytes, about.
    pub size: u64,
}

/// The known sources of space `S` (none for a space nothing was published for).
pub fn sources<S: SearchSpace>() -> Vec<Source>
where
    Dataset<S>: SpaceSources,
{
    <Dataset<S> as SpaceSources>::PUBLISHED
        .iter()
        .map(|p| Source {
            space: S::KIND,
            kind: p.kind,
            url: match p.location {
                Location::Drive(id) => google_drive(id),
                Location::Url(url) => url.to_string(),
            },
            file_name: p.file_name.to_string(),
            sha256: p.sha256.map(String::from),
            size: p.size,
        })
        .collect()
}

/// SHA-256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// How a download went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    /// Whether the checksum was verified against a published one.
    pub verified: bool,
    /// Requests that resumed an interrupted transfer.
    pub resumed: usize,
}

/// The most any download may bring, whatever its source says: a server that sends no length, or a
/// wrong one, cannot fill the disk.
pub const MAX_DOWNLOAD: u64 = 4 << 30;

/// Downloads `url` to `dir/file_name`, resuming `dir/file_name.part` if present, and checks `sha256`.
/// A response that announces, or brings, more than `max_bytes` is refused and deleted.
/// `progress` is told the total length (when known) and each chunk's size.
pub fn download(
    url: &str,
    dir: &Path,
    file_name: &str,
    sha256: Option<&str>,
    max_bytes: u64,
    attempts: usize,
    progress: &mut dyn FnMut(Option<u64>, u64),
) -> Result<Downloaded> {
    if let Some(s) = sha256
        && (s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        bail!("{s:?} is not a SHA-256 checksum (64 hexadecimal digits)");
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let final_path = dir.join(file_name);
    let part = dir.join(format!("{file_name}.part"));
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .build();
    let mut resumed = 0;
    let mut last_err = None;
    for _ in 0..attempts.max(1) {
        let have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let mut req = agent.get(url);
        if have > 0 {
            req = req.set("Range", &format!("bytes={have}-"));
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(416, _)) if have > 0 => break, // already complete
            Err(ureq::Error::Status(code, r)) => {
                bail!("{url}: the server answered {code} {}", r.status_text())
            }
            Err(e) => {
                last_err = Some(anyhow!("{url}: {e}"));
                continue;
            }
        };
        // A resumed answer must continue where the file stops; anything else starts again.
        let continues = resp
            .header("Content-Range")
            .and_then(|r| r.strip_prefix("bytes "))
            .and_then(|r| r.split('-').next())
            .and_then(|s| s.trim().parse::<u64>().ok())
            == Some(have);
        if have > 0 && resp.status() == 206 && !continues {
            // Not the bytes asked for: start over without a range.
            fs::remove_file(&part).ok();
            progress(None, 0);
            last_err = Some(anyhow!("{url}: the server resumed from the wrong byte"));
            continue;
        }
        let append = have > 0 && resp.status() == 206;
        if have > 0 {
            if append {
                resumed += 1;
            } else {
                progress(None, 0); // the server ignored the range: start again
            }
        }
        let length: Option<u64> = resp.header("Content-Length").and_then(|v| v.parse().ok());
        let start = if append { have } else { 0 };
        let max_bytes = max_bytes.min(MAX_DOWNLOAD);
        if length.is_some_and(|l| l.saturating_add(start) > max_bytes) {
            fs::remove_file(&part).ok();
            bail!(
                "{url}: the server announces {} bytes, more than this file may have ({max_bytes}); nothing kept",
                length.unwrap_or(0).saturating_add(start)
            );
        }
        progress(length.map(|l| if append { l + have } else { l }), if append { have } else { 0 });
        let mut out = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&part)
            .with_context(|| format!("cannot write {}", part.display()))?;
        let mut reader = resp.into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0u64;
        let outcome: io::Result<()> = loop {
            match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    if start + got + n as u64 > max_bytes {
                        drop(out);
                        fs::remove_file(&part).ok();
                        bail!(
                            "{url}: the download passed {max_bytes} bytes, more than this file may have; stopped and deleted"
                        );
                    }
                    out.write_all(&buf[..n])?;
                    got += n as u64;
                    progress(None, n as u64);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        out.flush()?;
        match outcome {
            Ok(()) if length.is_none_or(|l| got >= l) => {
                last_err = None;
                break;
            }
            Ok(()) => {
                last_err = Some(anyhow!("{url}: the connection closed after {got} of {} bytes", length.unwrap_or(0)))
            }
            Err(e) => last_err = Some(anyhow!("{url}: the transfer broke off after {got} bytes: {e}")),
        }
    }
    if let Some(e) = last_err {
        let note = match fs::metadata(&part) {
            Ok(m) if m.len() > 0 => format!("download incomplete; {} is kept, run again to resume", part.display()),
            _ => "download failed; nothing was kept".to_string(),
        };
        return Err(e.context(note));
    }
    let digest = sha256_file(&part)?;
    let bytes = fs::metadata(&part)?.len();
    if let Some(expected) = sha256
        && !digest.eq_ignore_ascii_case(expected)
    {
        fs::remove_file(&part).ok();
        bail!("{url}: checksum mismatch: SHA-256 {digest}, expected {expected}; the download was deleted");
    }
    fs::rename(&part, &final_path).with_context(|| format!("cannot move the download to {}", final_path.display()))?;
    Ok(Downloaded { path: final_path, bytes, sha256: digest, verified: sha256.is_some(), resumed })
}
