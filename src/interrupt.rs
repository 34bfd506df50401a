//! Ctrl-C (SIGINT) and SIGTERM while a command runs.
//!
//! Without a handler, the signal ended the process at once and left the
//! result folder being written (`.NAME.partial-TAG-XXXXXX`, with a `paths.csv`
//! that may be gigabytes) in the output folder. With [`install`], the
//! signal only raises a flag: the engine stops at the next block it merges
//! and fails with [`Error::Interrupted`], every temporary folder is removed
//! as the error unwinds, and the binary then ends the process by the same
//! signal ([`die`]), so the shell, or a script looping over runs, sees the
//! run killed as before. A second signal ends the process at once.
//!
//! Result folders already moved into place are complete and stay (the
//! commands that write several, `batch` and `compare`, write them after
//! their simulation, so an interrupted one writes none). What a run killed
//! outright leaves, the next run removes ([`crate::output::leftover`]).

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// Installs the handlers (the binary does, at start). A signal the process
/// was started ignoring stays ignored: a shell script runs `capsim ... &`
/// with SIGINT ignored so that Ctrl-C stops the script, not its background
/// jobs, and `nohup` relies on the same.
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::signal::{SIGINT, SIGTERM};
    use signal_hook::flag;
    for sig in [SIGINT, SIGTERM] {
        if ignored(sig) {
            continue;
        }
        // Registered first, so it runs before the flag is set: on the
        // second signal it finds the flag up and ends the process.
        flag::register_conditional_default(sig, &REQUESTED)?;
        flag::register_usize(sig, &SIGNAL, sig as usize)?;
        flag::register(sig, &REQUESTED)?;
    }
    Ok(())
}

/// Whether the process ignores `sig` (was started so).
#[cfg(unix)]
fn ignored(sig: i32) -> bool {
    // SAFETY: with a null new action, `sigaction` only writes the current
    // one into `old`, a plain C struct for which zeroes are a valid value.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

#[cfg(not(unix))]
fn ignored(_sig: i32) -> bool {
    false
}

/// Whether a signal asked the process to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// [`Error::Interrupted`] if a signal asked the process to stop.
pub fn check() -> Result<()> {
    if requested() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Ends the process by the signal that interrupted it, as the signal's
/// default action would have (exit status 128 + the signal's number where
/// that fails).
pub fn die() -> ! {
    let sig = SIGNAL.load(Ordering::Relaxed) as i32;
    let _ = signal_hook::low_level::emulate_default_handler(sig);
    std::process::exit(128 + sig)
}
