//! Per-kernel wall time, collected when `NAR_PROFILE` is set (for `nar bench train`).

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

static ON: OnceLock<bool> = OnceLock::new();
static TIMES: Mutex<BTreeMap<&'static str, (f64, usize)>> = Mutex::new(BTreeMap::new());
static FLOPS: Mutex<f64> = Mutex::new(0.0);

/// Counts matrix-product FLOPs when profiling.
pub fn add_flops(f: f64) {
    if enabled() {
        *FLOPS.lock().expect("profile lock") += f;
    }
}

/// Takes the counted matrix-product FLOPs.
pub fn take_flops() -> f64 {
    std::mem::take(&mut *FLOPS.lock().expect("profile lock"))
}

pub fn enabled() -> bool {
    *ON.get_or_init(|| std::env::var_os("NAR_PROFILE").is_some())
}

/// Runs `f`, adding its time to `name` when profiling.
#[inline]
pub fn time<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    if !enabled() {
        return f();
    }
    let t = Instant::now();
    let r = f();
    let mut m = TIMES.lock().expect("profile lock");
    let e = m.entry(name).or_insert((0.0, 0));
    e.0 += t.elapsed().as_secs_f64();
    e.1 += 1;
    r
}

/// Takes the collected times: `(kernel, seconds, calls)`.
pub fn take() -> Vec<(&'static str, f64, usize)> {
    let mut m = TIMES.lock().expect("profile lock");
    let v = m.iter().map(|(k, (s, n))| (*k, *s, *n)).collect();
    m.clear();
    v
}
