// The ranker frees and re-allocates tensors of the same sizes every step; mimalloc keeps them ready
// instead of handing them back to the kernel (page faults, TLB shootdowns) as glibc does above 32 MiB.
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
    // SAFETY: setting an allocator option; mimalloc reads it on its next purge. Freed memory stays
    // with the process (no purge), so the next step's tensors need no fresh zeroed pages.
    unsafe {
        const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
    nar::cli::main()
}
