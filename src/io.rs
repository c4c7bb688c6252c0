//! Output files are written whole or not at all: into a temporary file beside the target, then renamed.
//!
//! - A target that is a symbolic link is written through: its final target is replaced, the link kept.
//! - A target that exists and is not a regular file (a FIFO, `/dev/stdout`, `/dev/full`) is written into
//!   directly, since a rename would replace it.
//! - Temporary files are registered while they exist; the command line's signal thread removes them
//!   when SIGINT or SIGTERM arrives ([`remove_temporaries`]).
//! - [`refuse_clobbering`] stops a command whose output is one of its inputs (or another output) before anything is read.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

/// Temporary files being written now.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every registered temporary file (called on SIGINT/SIGTERM before the process exits). The
/// list stays locked afterwards, so no thread can create another temporary file before the exit: a
/// temporary file is created and registered under the same lock ([`write_atomic`]).
pub fn remove_temporaries() {
    let list = TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner());
    for p in list.iter() {
        let _ = fs::remove_file(p);
    }
    std::mem::forget(list);
}

fn unregister(p: &Path) {
    TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner()).retain(|q| q != p);
}

/// Whether two paths name the same existing file (through links, hard links included).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

/// The one rule for a command's output files: none may be one of the command's inputs (it would be
/// replaced before or while it is read) or another of its outputs, through links too. (A run
/// directory's own files are guarded by [`crate::run_dir::RunDir::refuse_output`], which also knows the
/// names a run writes before they exist.)
pub fn refuse_clobbering(outputs: &[&Path], inputs: &[&Path]) -> Result<()> {
    for (i, out) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|input| same_file(out, input)) {
            bail!("the output {} is the input {}: write somewhere else", out.display(), input.display());
        }
        if outputs[..i].iter().any(|o| *o == *out || same_file(o, out)) {
            bail!("{} is given for two outputs: give each its own file", out.display());
        }
    }
    Ok(())
}

/// Writes `path` atomically: `write` fills a temporary file in the same directory, which is renamed over
/// `path` only if `write` succeeds. On error nothing is left behind. See the module's notes on links
/// and special files.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    write_through_links(path, write, 0)
}

fn write_through_links<F>(path: &Path, write: F, depth: usize) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    if depth > 40 {
        bail!("{}: too many levels of symbolic links", path.display());
    }
    let link = fs::symlink_metadata(path).ok();
    // What the path names, through links (None: nothing there yet).
    let meta = match &link {
        Some(l) if l.file_type().is_symlink() => match fs::metadata(path) {
            Ok(m) => Some(m),
            // A link to a file not made yet: make it there.
            Err(_) => {
                let to = fs::read_link(path).with_context(|| format!("cannot read the link {}", path.display()))?;
                let target = path.parent().map_or(to.clone(), |dir| dir.join(&to));
                return write_through_links(&target, write, depth + 1);
            }
        },
        other => other.clone(),
    };
    if link.as_ref().is_some_and(|l| l.file_type().is_symlink()) && meta.as_ref().is_some_and(|m| m.is_file()) {
        let target = fs::canonicalize(path).with_context(|| format!("cannot resolve {}", path.display()))?;
        return write_through_links(&target, write, depth + 1);
    }
    if meta.as_ref().is_some_and(|m| !m.is_file() && !m.is_dir()) {
        let file =
            fs::OpenOptions::new().write(true).open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut out = BufWriter::new(file);
        write(&mut out).with_context(|| format!("while writing {}", path.display()))?;
        return out.flush().with_context(|| format!("cannot write {}", path.display()));
    }
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        bail!("{} is a directory, not a file", path.display());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like any file a tool writes: 0666 less the umask, which the kernel applies to the mode
        // tempfile creates the file with (tempfile's default is 0600).
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    // Created and registered under one lock: a signal's cleanup sees every temporary file that exists.
    let (tmp, tmp_path) = {
        let mut list = TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = builder
            .prefix(".nar-tmp-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        let tmp_path = tmp.path().to_path_buf();
        list.push(tmp_path.clone());
        (tmp, tmp_path)
    };
    let result = (|| -> Result<()> {
        {
            let mut out = BufWriter::new(tmp.as_file());
            write(&mut out).with_context(|| format!("while writing {}", path.display()))?;
            out.flush().with_context(|| format!("cannot write {}", path.display()))?;
        }
        tmp.as_file().sync_all().with_context(|| format!("cannot write {}", path.display()))?;
        tmp.persist(path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot move the output into {}", path.display()))?;
        Ok(())
    })();
    unregister(&tmp_path);
    result
}

/// The folder an output path names, resolved before the "never overwrite" rule is applied to it: made
/// absolute, its links followed and its `..` taken where it exists, and `..` taken lexically past that
/// (as creating the missing folders would). `newsub/..` is the current folder, not a new one; an empty
/// path names no folder and is refused.
pub fn resolve_output_dir(path: &Path) -> Result<PathBuf> {
    if path.as_os_str().is_empty() {
        bail!("an empty path names no folder: give the output folder");
    }
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().context("cannot read the current folder")?.join(path)
    };
    let mut resolved = PathBuf::from("/");
    let mut exists = true;
    for c in absolute.components() {
        match c {
            std::path::Component::RootDir | std::path::Component::Prefix(_) | std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                resolved.pop();
                exists = resolved.exists();
            }
            std::path::Component::Normal(name) => {
                resolved.push(name);
                if exists {
                    match std::fs::canonicalize(&resolved) {
                        Ok(real) => resolved = real,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => exists = false,
                        Err(e) => return Err(e).with_context(|| format!("cannot resolve {}", path.display())),
                    }
                }
            }
        }
    }
    Ok(resolved)
}

/// Reads a whole text file of at most `max` bytes, naming it in the error; a larger file (or a
/// stream that does not end, like `/dev/zero`) is refused after reading `max + 1` bytes at most.
pub fn read_to_string_capped(path: &Path, max: u64, what: &str) -> Result<String> {
    use std::io::Read;
    let file = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    if file.metadata().is_ok_and(|m| m.is_file() && m.len() > max) {
        bail!("{}: {what} larger than {} MiB; nar does not read such files whole", path.display(), max >> 20);
    }
    let mut text = String::new();
    file.take(max + 1).read_to_string(&mut text).with_context(|| format!("cannot read {}", path.display()))?;
    if text.len() as u64 > max {
        bail!("{}: {what} larger than {} MiB; nar does not read such files whole", path.display(), max >> 20);
    }
    Ok(text)
}

/// Reads a whole file, naming it in the error.
pub fn read_to_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Whether standard error is a terminal (progress bars are drawn only there).
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    io::stderr().is_terminal()
}

/// The SHA-256 of `bytes` in lowercase hex (checkpoints, predictor files, the shipped tables).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
