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
//! - when the shell exits, whatever it left running in its group is killed (nothing outlives the call),
//!   and its output is read for at most [`DRAIN`] more: a process it detached from its group that
//!   still holds the pipes does not keep nar reading (the answer is the command's, when it exits);
//! - on Linux, a guard process per call kills the group if nar itself dies without a word (SIGKILL, a
//!   crash): the guard waits on a pipe only nar holds open, and its end of file is nar's death. A
//!   resumed search never finds an earlier call of the same architecture still running.

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
/// How long the command's output is read after it exited (what a detached process writes later is
/// not the command's answer).
pub const DRAIN: Duration = Duration::from_secs(2);

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

/// Whether `from` has something to read (or its end) within `wait`; always on a system without poll.
fn readable(from: &impl std::os::fd::AsRawFd, wait: Duration) -> bool {
    #[cfg(unix)]
    {
        let mut p = libc::pollfd { fd: from.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: poll on one descriptor this thread owns, with a valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, wait.as_millis() as libc::c_int) };
        n != 0
    }
    #[cfg(not(unix))]
    {
        let _ = (from, wait);
        true
    }
}

/// Reads `from` to its end, keeping the last `cap` bytes; with `echo`, writes every chunk to our
/// standard error as it arrives. Stops early once `stop` is set (the command exited [`DRAIN`] ago
/// and something else still holds the pipe).
fn tail_of<R: Read + std::os::fd::AsRawFd>(mut from: R, cap: usize, echo: bool, stop: &AtomicBool) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if !readable(&from, Duration::from_millis(50)) {
            continue;
        }
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
    #[cfg(target_os = "linux")]
    let guard = guard::Guard::spawn(group);
    let stdout = child.stdout.take().context("the command's standard output")?;
    let stderr = child.stderr.take().context("the command's standard error")?;
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let (stop_out, stop_err) = (stop.clone(), stop.clone());
    let out = std::thread::spawn(move || tail_of(stdout, STDOUT_TAIL, false, &stop_out));
    let err = std::thread::spawn(move || tail_of(stderr, STDERR_TAIL, true, &stop_err));
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
    #[cfg(target_os = "linux")]
    drop(guard);
    // A process that left the group may still hold the pipes: read what comes within DRAIN, no more.
    let deadline = Instant::now() + DRAIN;
    while !(out.is_finished() && err.is_finished()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(match status {
        Some(status) => Outcome::Exited { status, stdout, stderr },
        None => Outcome::TimedOut { stderr },
    })
}

/// The guard that kills a command's process group when nar dies (Linux).
#[cfg(target_os = "linux")]
mod guard {
    /// A forked process waiting on a pipe whose write end only nar holds (`O_CLOEXEC`: no command nar
    /// runs inherits it; other guards close it). When nar dies the kernel closes that end, the read
    /// returns, and the guard kills the group. Dropped when the call is over: the guard is killed and
    /// reaped first, so it never signals a group id the system may have given to someone else since.
    pub struct Guard {
        pid: libc::pid_t,
        write: libc::c_int,
    }

    impl Guard {
        /// Starts the guard of process group `group`; `None` if it cannot (the call then runs
        /// unguarded, as on other systems).
        pub fn spawn(group: i32) -> Option<Guard> {
            let mut fds = [0 as libc::c_int; 2];
            // SAFETY: pipe2 into a local array.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
                return None;
            }
            let (read, write) = (fds[0], fds[1]);
            // Everything the child needs is computed before the fork: it may only make
            // async-signal-safe calls (the parent has other threads).
            // SAFETY: sysconf and sigfillset on a local set.
            let open_max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) }.clamp(1024, 1 << 20) as libc::c_int;
            let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
            unsafe { libc::sigfillset(&mut all) };
            // SAFETY: fork; the child below calls only async-signal-safe functions and never returns.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: async-signal-safe calls only (sigprocmask, setpgid, close, read, killpg, _exit).
                unsafe {
                    // No signal but SIGKILL reaches the guard, and a terminal's signals not at all.
                    libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
                    libc::setpgid(0, 0);
                    // Every descriptor but the pipe's read end (close_range where the kernel has it).
                    let below =
                        if read > 0 { libc::syscall(libc::SYS_close_range, 0u32, (read - 1) as u32, 0u32) } else { 0 };
                    let above = libc::syscall(libc::SYS_close_range, (read + 1) as u32, u32::MAX, 0u32);
                    if below != 0 || above != 0 {
                        for fd in (0..open_max).filter(|&fd| fd != read) {
                            libc::close(fd);
                        }
                    }
                    let mut byte = 0u8;
                    while libc::read(read, (&mut byte as *mut u8).cast(), 1) < 0
                        && *libc::__errno_location() == libc::EINTR
                    {}
                    libc::killpg(group, libc::SIGKILL);
                    libc::_exit(0);
                }
            }
            // SAFETY: closing our copy of the read end.
            unsafe { libc::close(read) };
            if pid < 0 {
                // SAFETY: closing the write end of the pipe made above.
                unsafe { libc::close(write) };
                return None;
            }
            Some(Guard { pid, write })
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: the guard is our child: kill it, reap it, then close the pipe's last end.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
                libc::close(self.write);
            }
        }
    }
}
