// mimalloc: fast small allocations for the data commands; for the ranker, see `cli::keep_freed_memory`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Behave like a Unix tool when the reader of our output goes away (`nar … | head`): exit quietly
    // instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    #[cfg(unix)]
    cleanup_on_signals();
    // A panic is a bug in nar, never a normal error: say so, with where, and exit with EX_SOFTWARE (70)
    // so that it cannot pass for a failed command (status 1) or a usage error (status 2).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("internal error, please report: {info}");
        std::process::exit(70);
    }));
    // NAR_DEBUG_PANIC=1 panics on purpose, to check the hook above (tests/it/bad_input.rs does).
    if std::env::var_os("NAR_DEBUG_PANIC").is_some() {
        panic!("NAR_DEBUG_PANIC is set");
    }
    nar::cli::main()
}

/// SIGINT, SIGTERM and SIGHUP are blocked in every thread and taken by one waiting thread, which (unless
/// `--on-interrupt wait` lets the running oracle calls finish first, [`nar::process::interrupt`]) stops
/// the oracle commands running ([`nar::process::stop_all`]: their whole process groups), removes
/// the temporary files being written ([`nar::io::remove_temporaries`]) and exits with
/// 128 + the signal's number, as a shell reports a process killed by it.
#[cfg(unix)]
fn cleanup_on_signals() {
    // SAFETY: plain libc signal-set calls on a local set, before any other thread starts (threads
    // started later inherit the mask).
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::spawn(move || {
        let mut sig: libc::c_int = 0;
        // SAFETY: waits on the set blocked above.
        while unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            // `--on-interrupt wait`: the first signal lets the running oracle calls finish.
            if nar::process::interrupt() {
                eprintln!(
                    "\ninterrupted: no new oracle call starts; waiting for the running ones (again to cancel them)"
                );
                continue;
            }
            nar::process::stop_all();
            nar::io::remove_temporaries();
            eprintln!("\ninterrupted");
            std::process::exit(128 + sig);
        }
    });
}
