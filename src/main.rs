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
    // A panic is a bug in nar, never a normal error: say so, with where, and exit with EX_SOFTWARE (70)
    // so that it cannot pass for a failed command (status 1) or a usage error (status 2).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("internal error, please report: {info}");
        std::process::exit(70);
    }));
    nar::cli::main()
}
