//! Temporary result folders whose run ended without removing them.
//!
//! A result is built in a hidden folder next to its final place
//! (`.NAME.partial-TAG-XXXXXX`) and renamed into place when complete; the
//! result it replaces is first renamed aside (`.NAME.old-TAG`) and removed.
//! Errors and Ctrl-C/SIGTERM remove the temporary folder ([`crate::interrupt`]),
//! but a run killed outright (SIGKILL, the out-of-memory killer, a
//! scheduler's time limit, a crash, a power cut) cannot, and its folder,
//! with a `paths.csv` that may be gigabytes, would stay in the output
//! folder for good.
//!
//! `TAG` names the process that owns the folder: `HOST-BOOT-PIDNS-PID`,
//! the machine's host name, the first 8 hex digits of the kernel's boot id
//! (Linux: one per machine and boot, shared by its containers), the
//! process's PID namespace (Linux) and its PID. Before a command creates a
//! result folder it removes, from the same output folder, those whose
//! owner is certainly gone: same host, same boot, same PID namespace (so
//! neither machines with one host name nor containers sharing a folder
//! judge each other's runs), another PID, and no process with that PID.
//! Anything else is left alone: a folder of another machine sharing the
//! output folder (a network file system, shards on a cluster), of a live
//! process (which may be an unrelated one that reused the PID: the folder
//! is then removed by a later run), or whose name carries no tag. Where
//! the boot id or the PID namespace cannot be read (not Linux), nothing is
//! removed.

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

/// This process's owner, read once: host name, boot id, PID namespace.
fn me() -> &'static (String, String, u64) {
    static ME: OnceLock<(String, String, u64)> = OnceLock::new();
    ME.get_or_init(|| (host(), boot(), pid_namespace()))
}

/// This process's tag, `HOST-BOOT-PIDNS-PID`, for the names of the
/// temporary folders it creates.
pub fn owner_tag() -> String {
    let (host, boot, ns) = me();
    format!("{host}-{boot}-{ns}-{}", std::process::id())
}

/// The first 8 hex digits of the kernel's boot id (Linux), `00000000`
/// where it cannot be read.
fn boot() -> String {
    let id = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let hex: String = id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(8)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() == 8 {
        hex
    } else {
        "00000000".to_string()
    }
}

/// The host name, reduced to letters, digits, `.` and `_` (anything else,
/// `-` included, becomes `_`, so that the tag splits at its dashes), at
/// most 64 characters; `unknown` if there is none.
fn host() -> String {
    let raw = host_raw();
    let h: String = raw
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if h.is_empty() {
        "unknown".to_string()
    } else {
        h
    }
}

#[cfg(unix)]
fn host_raw() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; `gethostname` writes at
    // most that many bytes (a name that does not fit may lack its NUL, so
    // the length is found within the buffer).
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    if !ok {
        return String::new();
    }
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[cfg(not(unix))]
fn host_raw() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_default()
}

/// The inode number of this process's PID namespace (Linux), 0 where it
/// cannot be read.
fn pid_namespace() -> u64 {
    fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|l| {
            let l = l.to_string_lossy().into_owned();
            let digits = l.strip_prefix("pid:[")?.strip_suffix(']')?.to_string();
            digits.parse().ok()
        })
        .unwrap_or(0)
}

/// Who made a temporary folder, from its name's tag.
#[derive(Debug, PartialEq)]
struct Owner<'a> {
    host: &'a str,
    boot: &'a str,
    ns: u64,
    pid: u32,
}

/// The owner a temporary folder's name gives, for `.NAME.partial-TAG-XXXXXX`
/// and `.NAME.old-TAG`; `None` for any other name.
fn owner(name: &str) -> Option<Owner<'_>> {
    let rest = name.strip_prefix('.')?;
    let (tag, random) = if let Some(i) = rest.rfind(".partial-") {
        let tail = &rest[i + ".partial-".len()..];
        let (tag, random) = tail.rsplit_once('-')?;
        (tag, Some(random))
    } else {
        let i = rest.rfind(".old-")?;
        (&rest[i + ".old-".len()..], None)
    };
    if random.is_some_and(|r| r.is_empty() || !r.chars().all(|c| c.is_ascii_alphanumeric())) {
        return None;
    }
    let mut parts = tag.rsplitn(4, '-');
    let (pid, ns, boot, host) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let hex = boot.len() == 8 && boot.bytes().all(|b| b.is_ascii_hexdigit());
    if !digits(pid) || !digits(ns) || !hex || host.is_empty() {
        return None;
    }
    Some(Owner {
        host,
        boot,
        ns: ns.parse().ok()?,
        pid: pid.parse().ok()?,
    })
}

/// Whether a process with this PID exists (on this machine, in this PID
/// namespace). True where that cannot be told.
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return true;
    };
    if p <= 0 {
        return true;
    }
    // SAFETY: signal 0 sends nothing; it only checks that the process exists.
    let r = unsafe { libc::kill(p, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

/// Removes from `out` the temporary folders of runs on this machine that
/// ended without removing them (module docs), and says so on stderr, one
/// line per folder. A folder that cannot be removed (or that another run
/// removes first) is left to the next run.
pub fn remove_stale(out: &Path) {
    let (host, boot, ns) = me();
    if *ns == 0 || boot == "00000000" {
        return;
    }
    let pid_me = std::process::id();
    let Ok(entries) = fs::read_dir(out) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(o) = owner(name) else {
            continue;
        };
        let pid = o.pid;
        if o.host != host || o.boot != boot || o.ns != *ns || pid == pid_me || alive(pid) {
            continue;
        }
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if fs::remove_dir_all(e.path()).is_ok() {
            say_err!(
                "note: removed {}, left by a capsim run (process {pid} on this machine) that \
                 ended without finishing or cleaning up",
                e.path().display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_back_from_the_names_they_give() {
        assert_eq!(
            owner(".baseline.partial-node_1.lab-ae40f39e-4026531836-4242-aB3xZ9"),
            Some(Owner {
                host: "node_1.lab",
                boot: "ae40f39e",
                ns: 4026531836,
                pid: 4242
            })
        );
        assert_eq!(
            owner(".baseline.shard-1-of-4.old-h-0000000f-7-12"),
            Some(Owner {
                host: "h",
                boot: "0000000f",
                ns: 7,
                pid: 12
            })
        );
        // This process's own tag, as `ResultDir` writes it.
        let name = format!(".x.partial-{}-Q1w2E3", owner_tag());
        let (host, boot) = (host(), boot());
        let expect = Owner {
            host: &host,
            boot: &boot,
            ns: pid_namespace(),
            pid: std::process::id(),
        };
        assert_eq!(owner(&name), Some(expect));
        // Untagged names (as earlier versions wrote them) and other files.
        for name in [
            ".baseline.partial-aB3xZ9",
            ".baseline.old-4242",
            ".baseline.partial-h-1-2-aB3xZ9",
            ".index.csv.partial",
            "baseline",
            ".baseline.partial-h-ae40f39e-1-2-",
            ".baseline.partial-h-ae40f39e-x-2-abc",
            ".baseline.partial-h-ae40f39g-1-2-abc",
            ".baseline.partial-h-ae40f3-1-2-abc",
            ".baseline.partial--ae40f39e-1-2-abc",
        ] {
            assert_eq!(owner(name), None, "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_process_that_ended_is_not_alive() {
        assert!(alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!alive(pid));
    }
}
