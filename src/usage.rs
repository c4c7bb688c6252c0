//! An error in what the user asked for — arguments that contradict each other or the data (a batch
//! larger than the budget, a constraint no architecture meets) — as opposed to a failure while doing
//! it. The command line exits 2 for it, as it does for a malformed argument.

/// What the user asked for cannot be done; the message says why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Whether an error is, or was caused by, a [`UsageError`].
pub fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<UsageError>())
}
