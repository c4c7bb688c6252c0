//! Running a user's shell command (the oracle of `nar search --oracle-cmd`) as a training job needs it:
//!
//! - in its own process group, so that stopping it stops everything it started (a training's data
//!   workers, an `srun`); the groups running now are registered, and the command line's signal thread
//!   stops them before nar exits ([`stop_all`]): SIGINT or SIGTERM to nar leaves no training running as an
//!   orphan;
//! - its standard error streamed to ours as it comes (a training's progress), the tail kept for an error
//!   message; its standard output read with a bound (the last [`STDOUT_TAIL`] bytes kept: the last line is
//!   the answer);
//! - an optional time limit: past it the group gets SIGTERM, then SIGKILL after [`GRACE`];
//! - when the shell exits, whatever it left running in its group is killed (nothing outlives the call).

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Bytes of standard output kept (the end of it).
pub const STDOUT_TAIL: usize = 64 << 10;
/// Bytes of standard error kept for an error message (all of it is streamed).
pub const STDERR_TAIL: usize = 4 << 10;
/// Time between SIGTERM and SIGKILL when a call is stopped.
pub const GRACE: Duration = Duration::from_secs(5);

/// What SIGINT/SIGTERM to nar does while oracle commands run (`nar search --on-interrupt`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnInterrupt {
    /// Stop the running commands (their whole process groups) and exit.
    #[default]
    Cancel,
    /// Start no new command, let the running ones finish (their answers journaled), then exit; a
    /// second signal cancels them.
    Wait,
}

impl OnInterrupt {
    pub const ALL: [OnInterrupt; 2] = [OnInterrupt::Cancel, OnInterrupt::Wait];

    pub fn name(self) -> &'static str {
        match self {
            OnInterrupt::Cancel => "cancel",
            OnInterrupt::Wait => "wait",
        }
    }
}

impl std::fmt::Display for OnInterrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

static WAIT_ON_INTERRUPT: AtomicBool = AtomicBool::new(false);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Sets what an interrupt does (the command line's `--on-interrupt`).
pub fn set_on_interrupt(mode: OnInterrupt) {
    WAIT_ON_INTERRUPT.store(mode == OnInterrupt::Wait, Ordering::SeqCst);
}

/// Called by the command line's signal thread on SIGINT/SIGTERM: `true` when nar goes on running —
/// the first signal with [`OnInterrupt::Wait`] while commands run, after which no command starts
/// ([`interrupted`]); `false` when it is to stop them ([`stop_all`]) and exit.
pub fn interrupt() -> bool {
    let running = !GROUPS.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
    WAIT_ON_INTERRUPT.load(Ordering::SeqCst) && running && !INTERRUPTED.swap(true, Ordering::SeqCst)
}

/// Whether an interrupt asked that no new command start.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The search stopped because the user interrupted it (the command line exits 130).
#[derive(Debug, thiserror::Error)]
#[error("interrupted: the running oracle calls finished and are journaled; the same command resumes")]
pub struct Interrupted;

/// Process groups of the commands running now.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Sends SIGTERM to every running command's process group (called on SIGINT/SIGTERM before nar exits).
/// The list stays locked afterwards, so no command starts before the exit: a command is spawned and
/// registered under the same lock ([`run_shell`]).
pub fn stop_all() {
    let list = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    for &group in list.iter() {
        signal_group(group, Signal::Term);
    }
    std::mem::forget(list);
}

/// Sends SIGTERM to every running command's process group (the calls of a search that ends with an
/// error); they end, and new ones may start.
pub fn stop_running() {
    for &group in GROUPS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        signal_group(group, Signal::Term);
    }
}

#[derive(Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

fn signal_group(group: i32, signal: Signal) {
    #[cfg(unix)]
    {
        let sig = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: killpg on a group this process created; ESRCH (already gone) is fine.
        unsafe {
            libc::killpg(group, sig);
        }
    }
    #[cfg(not(unix))]
    let _ = (group, signal);
}

/// Removes its group from the registry when the call is over.
struct Registered(i32);

impl Drop for Registered {
    fn drop(&mut self) {
        GROUPS.lock().unwrap_or_else(|e| e.into_inner()).retain(|&g| g != self.0);
    }
}

/// How a call ended.
#[derive(Debug)]
pub enum Outcome {
    /// The shell exited (`status`), with the tails of its output.
    Exited { status: ExitStatus, stdout: String, stderr: String },
    /// It ran past the time limit and was stopped.
    TimedOut { stderr: String },
}

/// Reads `from` to its end, keeping the last `cap` bytes; with `echo`, writes every chunk to our
/// standard error as it arrives.
fn tail_of(mut from: impl Read, cap: usize, echo: bool) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if echo {
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(&buf[..n]).and_then(|_| err.flush());
                }
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * cap {
                    kept.drain(..kept.len() - cap);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    if kept.len() > cap {
        kept.drain(..kept.len() - cap);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Runs `line` with `sh -c` in a new process group, standard input closed, as the module says.
pub fn run_shell(line: &str, timeout: Option<Duration>) -> Result<Outcome> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(line).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        // nar blocks SIGINT/SIGTERM/SIGHUP in every thread for its signal thread (main.rs), and a child
        // inherits the mask: unblock them, or the command could not be stopped by them.
        // SAFETY: sigemptyset and pthread_sigmask are async-signal-safe, as the code between fork and
        // exec must be.
        unsafe {
            cmd.pre_exec(|| {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
                Ok(())
            });
        }
    }
    let (mut child, registered) = {
        let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
        let child = cmd.spawn().with_context(|| format!("cannot run {line:?}"))?;
        groups.push(child.id() as i32);
        let registered = Registered(child.id() as i32);
        (child, registered)
    };
    let group = registered.0;
    let stdout = child.stdout.take().context("the command's standard output")?;
    let stderr = child.stderr.take().context("the command's standard error")?;
    let out = std::thread::spawn(move || tail_of(stdout, STDOUT_TAIL, false));
    let err = std::thread::spawn(move || tail_of(stderr, STDERR_TAIL, true));
    let status = match timeout {
        None => Some(child.wait()?),
        Some(limit) => {
            let deadline = Instant::now() + limit;
            loop {
                if let Some(status) = child.try_wait()? {
                    break Some(status);
                }
                if Instant::now() >= deadline {
                    signal_group(group, Signal::Term);
                    let grace = Instant::now() + GRACE;
                    while child.try_wait()?.is_none() && Instant::now() < grace {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    // Whatever the shell left running in its group goes with it (and closes the pipes the readers wait on).
    signal_group(group, Signal::Kill);
    let _ = child.wait();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(match status {
        Some(status) => Outcome::Exited { status, stdout, stderr },
        None => Outcome::TimedOut { stderr },
    })
}
