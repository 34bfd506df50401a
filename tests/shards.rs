//! Shards: `run --shard I/N` (or `compare`, `batch`, `sweep`,
//! `sensitivity ... --shard I/N`) on separate processes, then `merge`, give
//! the files one run (one compare, batch, sweep, sensitivity) gives, byte
//! for byte; `merge` refuses anything that is not every shard of one run
//! (comparison, batch, sweep, sensitivity analysis).

use crate::util::*;
use std::path::{Path, PathBuf};

const GOLDEN: &str = include_str!("data/golden.toml");

/// 5,500 paths: five whole chunks of 1,024 and one of 380.
const PATHS: &str = "5500";

fn scenario(dir: &Path) -> PathBuf {
    let p = dir.join("golden.toml");
    std::fs::write(&p, GOLDEN).unwrap();
    p
}

fn ok(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs shard `i` of `n` of the golden scenario at [`PATHS`] into `out`
/// with `extra` flags, on `threads` threads.
fn shard(file: &Path, out: &Path, i: u64, n: u64, threads: usize, extra: &[&str]) -> PathBuf {
    let part = format!("{i}/{n}");
    let threads = threads.to_string();
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--paths",
        PATHS,
        "--shard",
        &part,
        "--threads",
        &threads,
    ];
    args.extend_from_slice(extra);
    ok(&quietly(out, &args));
    out.join(format!("golden.shard-{i}-of-{n}"))
}

/// `capsim merge SHARDS --out OUT --quiet`.
fn merge(out: &Path, shards: &[PathBuf]) -> std::process::Output {
    merge_with(out, shards, &[])
}

fn merge_with(out: &Path, shards: &[PathBuf], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["merge".to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(shards.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    quietly(out, &args)
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Writes shard description `v` to `p`, sealed again as capsim seals it
/// (its old sha256 dropped): an edit the merge's own checks must catch,
/// not the description's sha256.
fn reseal(p: &Path, mut v: serde_json::Value) {
    v.as_object_mut().unwrap().remove("description_sha256");
    std::fs::write(p, capsim::shard::seal(serde_json::to_vec(&v).unwrap())).unwrap();
}

#[test]
fn merged_shards_write_what_one_run_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let flags = ["--paths-csv", "--focus", "--regret"];
    let full = dir.path().join("full");
    let mut args = vec!["run", file.to_str().unwrap(), "--paths", PATHS, "--charts"];
    args.extend_from_slice(&flags);
    ok(&quietly(&full, &args));
    let full = full.join("golden");
    let whole = json(&full.join("manifest.json"));
    // One shard, three of uneven sizes, and one shard per chunk; each
    // shard on 1 to 3 threads, handed to merge last first. Charts asked
    // for by the shards (1, 3) or by the merge (6).
    for n in [1u64, 3, 6] {
        let parts = dir.path().join(format!("parts{n}"));
        let (mut on_shards, on_merge) = (flags.to_vec(), vec![]);
        let on_merge = if n == 6 {
            vec!["--charts"]
        } else {
            on_shards.push("--charts");
            on_merge
        };
        // Of three, the second from a copy of the file elsewhere, with
        // other comments: the same resolved scenario, so the same run.
        let copy = dir.path().join("elsewhere").join("golden.toml");
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::write(&copy, format!("# a copy\n{GOLDEN}")).unwrap();
        let file_of = |i: u64| if n == 3 && i == 2 { &copy } else { &file };
        let mut shards: Vec<PathBuf> = (1..=n)
            .map(|i| shard(file_of(i), &parts, i, n, 1 + i as usize % 3, &on_shards))
            .collect();
        shards.reverse();
        let out = dir.path().join(format!("merged{n}"));
        ok(&merge_with(&out, &shards, &on_merge));
        let merged = out.join("golden");
        for f in [
            "summary.csv",
            "periods.csv",
            "providers.csv",
            "paths.csv",
            "focus.csv",
            "charts/spend.svg",
            "charts/totals.svg",
        ] {
            let (a, b) = (
                std::fs::read(full.join(f)).unwrap(),
                std::fs::read(merged.join(f)).unwrap(),
            );
            assert!(a == b, "{n} shards: {f} differs from one run's");
        }
        let m = json(&merged.join("manifest.json"));
        for key in [
            "capsim_version",
            "scenario",
            "scenario_file",
            "scenario_sha256",
            "resolved_sha256",
            "overrides",
            "seed",
            "paths",
            "policy",
            "files",
            "resolved_scenario",
        ] {
            assert_eq!(m[key], whole[key], "{n} shards: manifest `{key}`");
        }
        let listed = m["shards"].as_array().unwrap();
        assert_eq!(listed.len(), n as usize);
        let mut next = 0;
        for (i, s) in listed.iter().enumerate() {
            assert_eq!(s["shard"], i as u64 + 1);
            let f = file_of(i as u64 + 1).to_str().unwrap();
            assert_eq!(s["scenario_file"], f);
            let sha = s["scenario_sha256"].as_str().unwrap();
            assert_eq!(sha == whole["scenario_sha256"], f == file.to_str().unwrap());
            assert_eq!(sha.len(), 64);
            assert_eq!(s["first_path"], next);
            assert_eq!(s["threads"], 1 + (i + 1) % 3);
            assert!(s["paths"].as_u64().unwrap() > 0);
            next += s["paths"].as_u64().unwrap();
        }
        assert_eq!(next, 5500, "{n} shards cover every path once");
    }
    assert!(whole.get("shards").is_none(), "a plain run lists no shards");
}

/// A failed merge: exit 2, the message, and no result folder.
fn refused(out: &Path, shards: &[PathBuf], says: &str) {
    let o = merge(out, shards);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{says}: {err}");
    assert!(err.contains(says), "expected `{says}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.join("golden").exists(), "{says}: a result was written");
}

/// Checks that a merge into `out` of the shards given, with the flags
/// given, is refused: exit 2, the message given, nothing written.
fn refusals(out: &Path) -> impl Fn(&[PathBuf], &[&str], &str) + '_ {
    move |shards, extra, says| {
        let o = merge_with(out, shards, extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{says}: {err}");
        assert!(err.contains(says), "expected `{says}` in: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{says}: a result was written");
    }
}

/// Checks that three shards `s` with the third missing, or the second
/// given twice, are refused by `refused` ([`refusals`]).
fn refuses_incomplete(refused: &impl Fn(&[PathBuf], &[&str], &str), s: &[PathBuf]) {
    refused(&s[..2], &[], "2 of 3 shards given; missing shard 3");
    refused(
        &[s[0].clone(), s[1].clone(), s[1].clone(), s[2].clone()],
        &[],
        "shard 2 of 3 given twice",
    );
}

/// Checks that copies of shard folder `shard` (in `dir`) with its file
/// `file` cut short, or one of its bytes flipped, are refused by `refused`
/// ([`refusals`]) among the shards `instead` gives.
fn refuses_damaged(
    refused: &impl Fn(&[PathBuf], &[&str], &str),
    instead: &impl Fn(PathBuf) -> [PathBuf; 3],
    shard: &Path,
    dir: &Path,
    file: &str,
) {
    let cut = copy(shard, &dir.join(format!("cut-{file}")));
    cut_short(&cut.join(file), 8);
    refused(&instead(cut), &[], "the file is truncated or damaged");
    let flipped = copy(shard, &dir.join(format!("flipped-{file}")));
    flip_byte(&flipped.join(file));
    refused(
        &instead(flipped),
        &[],
        &format!("{file}: its sha256 is not the one"),
    );
    let unlisted = copy(shard, &dir.join(format!("unlisted-{file}")));
    unlist(&unlisted, file);
    refused(&instead(unlisted), &[], UNLISTED);
    // The description itself: a digit changed, or its sha256 gone.
    let edited = copy(shard, &dir.join(format!("edited-{file}")));
    edit_in_place(&edited, "\"first_path\":");
    refused(&instead(edited), &[], DAMAGED_DESCRIPTION);
    let unsealed = copy(shard, &dir.join(format!("unsealed-{file}")));
    unseal(&unsealed);
    refused(&instead(unsealed), &[], UNSEALED);
}

/// What `merge` says of a description whose sha256 does not match it.
const DAMAGED_DESCRIPTION: &str =
    "its sha256 is not that of its contents: the description is damaged";
/// What `merge` says of a description without its sha256.
const UNSEALED: &str = "it ends without its sha256 (`description_sha256`)";

/// The description of shard folder `shard` (its one `*shard.json`).
fn description(shard: &Path) -> PathBuf {
    std::fs::read_dir(shard)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("shard.json"))
        .expect("a shard description")
}

/// Puts a digit 1 right after the first `after` in the description of
/// shard folder `shard` (a number there grows a digit), its sha256 left
/// as it was: a description changed in place.
fn edit_in_place(shard: &Path, after: &str) {
    let desc = description(shard);
    let mut t = std::fs::read_to_string(&desc).unwrap();
    let at = t.find(after).expect("in the description") + after.len();
    t.insert(at, '1');
    std::fs::write(&desc, t).unwrap();
}

/// Drops the sha256 that ends the description of shard folder `shard`,
/// as a description written before descriptions carried one.
fn unseal(shard: &Path) {
    let desc = description(shard);
    let mut v = json(&desc);
    assert!(v
        .as_object_mut()
        .unwrap()
        .remove("description_sha256")
        .is_some());
    std::fs::write(&desc, serde_json::to_vec(&v).unwrap()).unwrap();
}

/// What `merge` says of a data file its shard's description does not list.
const UNLISTED: &str = "its shard's description lists no size and sha256 for it";

/// Takes data file `file` off the list of files (and their sha256s) in
/// the description of shard folder `shard` (its one `*shard.json`), as
/// a description written before descriptions listed them would be: the
/// merge cannot check the file, so it refuses it. With `file` the last
/// listed, the description loses its `files` altogether.
fn unlist(shard: &Path, file: &str) {
    let desc = description(shard);
    let mut v = json(&desc);
    let files = v["files"].as_object_mut().expect("files listed");
    assert!(files.remove(file).is_some(), "{file} listed");
    if files.is_empty() {
        v.as_object_mut().unwrap().remove("files");
    }
    reseal(&desc, v);
}

/// Flips the bits of the middle byte of `file` (same size: only its
/// sha256 tells).
fn flip_byte(file: &Path) {
    let mut b = std::fs::read(file).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0xff;
    std::fs::write(file, b).unwrap();
}

/// Cuts the last `bytes` bytes off `file`.
fn cut_short(file: &Path, bytes: u64) {
    let len = std::fs::metadata(file).unwrap().len();
    let f = std::fs::File::options().write(true).open(file).unwrap();
    f.set_len(len - bytes).unwrap();
}

/// A copy of shard folder `src` as `dst`.
fn copy(src: &Path, dst: &Path) -> PathBuf {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    dst.to_path_buf()
}

#[test]
fn merge_refuses_what_is_not_every_shard_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let parts = dir.path().join("parts");
    let csv = ["--paths-csv"];
    let s: Vec<PathBuf> = (1..=3)
        .map(|i| shard(&file, &parts, i, 3, 2, &csv))
        .collect();
    let out = dir.path().join("merged");
    let with = |i: usize, p: PathBuf| {
        let mut v = s.clone();
        v[i] = p;
        v
    };

    refused(&out, &s[..2], "missing shard 3");
    refused(
        &out,
        &[s[0].clone(), s[0].clone(), s[1].clone(), s[2].clone()],
        "given twice",
    );
    let other = dir.path().join("other");
    let seed = shard(&file, &other, 2, 3, 2, &["--paths-csv", "--seed", "7"]);
    refused(
        &out,
        &with(1, seed),
        "`seed = 7` where the first has `seed = 42`",
    );
    let four = shard(&file, &other, 2, 4, 2, &csv);
    refused(&out, &with(1, four), "shard count");
    let focus = dir.path().join("focus");
    let focus = shard(&file, &focus, 2, 3, 2, &["--paths-csv", "--focus"]);
    refused(
        &out,
        &with(1, focus),
        "options (--paths-csv, --focus, --regret)",
    );
    refused(
        &out,
        &with(1, dir.path().join("nowhere")),
        "expected a shard folder",
    );
    // A shard's --out folder instead of the shard folder in it, a file,
    // and a folder with no shard folder in it.
    refused(
        &out,
        &with(1, parts.clone()),
        &format!(
            "not a shard folder (no shard.json, compare_shard.json, batch_shard.json, \
             sweep_shard.json or sensitivity_shard.json in it); it holds 3: {} (give those)",
            s.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    refused(&out, &with(1, dir.path().join("other")), "it holds 2: ");
    refused(
        &out,
        &with(1, s[1].join("shard.json")),
        "a file, not a folder",
    );
    refused(&out, &with(1, dir.path().join("focus")), "it holds one: ");
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    refused(
        &out,
        &with(1, dir.path().join("empty")),
        "in it); expected a shard folder written by",
    );

    // Damaged files, each in a copy of shard 2.
    let damaged = |name: &str, edit: &dyn Fn(&Path)| {
        let d = copy(&s[1], &dir.path().join(name).join("golden.shard-2-of-3"));
        edit(&d);
        with(1, d)
    };
    let cut = |file: &'static str, keep: usize| {
        move |d: &Path| {
            let p = d.join(file);
            let b = std::fs::read(&p).unwrap();
            std::fs::write(&p, &b[..keep]).unwrap();
        }
    };
    refused(
        &out,
        &damaged("short_moments", &cut("moments.bin", 1000)),
        "moments.bin: found 1000 bytes",
    );
    refused(
        &out,
        &damaged("short_header", &cut("shard.json", 1000)),
        "shard.json:1:1000: not a capsim shard description",
    );
    for f in ["moments.bin", "paths.csv"] {
        refused(
            &out,
            &damaged(&format!("unlisted_{f}"), &|d: &Path| unlist(d, f)),
            &format!("{f}: {UNLISTED}"),
        );
    }
    // The description's own data (a sketch's counts), changed in place,
    // and the description without its sha256.
    refused(
        &out,
        &damaged("edited_counts", &|d: &Path| {
            edit_in_place(d, "\"counts\":[")
        }),
        &format!("shard.json: {DAMAGED_DESCRIPTION}"),
    );
    refused(
        &out,
        &damaged("unsealed", &|d: &Path| unseal(d)),
        &format!("shard.json: {UNSEALED}"),
    );
    refused(
        &out,
        &damaged("short_paths", &|d: &Path| {
            // The header and 100 rows, line ends as they were.
            let p = d.join("paths.csv");
            let b = std::fs::read(&p).unwrap();
            let end = b.iter().enumerate().filter(|(_, &c)| c == b'\n').nth(100);
            std::fs::write(&p, &b[..=end.unwrap().0]).unwrap();
        }),
        "paths.csv: found ",
    );
    let edit_json = |from: &'static str, to: &'static str| {
        move |d: &Path| {
            let p = d.join("shard.json");
            let t = std::fs::read_to_string(&p).unwrap();
            assert!(t.contains(from), "{from}");
            reseal(&p, serde_json::from_str(&t.replacen(from, to, 1)).unwrap());
        }
    };
    let version = format!("\"capsim_version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    let version: &'static str = Box::leak(version.into_boxed_str());
    let old = damaged("old", &edit_json(version, "\"capsim_version\":\"0.0.1\""));
    refused(&out, &old, "its capsim version is \"0.0.1\", expected");
    let first = [old[1].clone(), old[0].clone(), old[2].clone()];
    refused(&out, &first, "written by capsim 0.0.1, this is capsim");
    refused(
        &out,
        &damaged(
            "moved",
            &edit_json("\"first_path\":2048", "\"first_path\":1024"),
        ),
        "do not match shard 2 of 3",
    );
    for f in ["moments.bin", "paths.csv"] {
        refused(
            &out,
            &damaged(&format!("flipped-{f}"), &|d: &Path| flip_byte(&d.join(f))),
            &format!("{f}: its sha256 is not the one its shard's description lists"),
        );
    }
    // A sketch whose buckets no value can reach (merging it would try to
    // allocate them all).
    refused(
        &out,
        &damaged("far", &|d: &Path| {
            far_sketch(&d.join("shard.json"), "/tails")
        }),
        "do not match shard 2 of 3",
    );
    // The merge still works with all three as they were.
    ok(&merge(&out, &s));
}

/// Moves the first non-empty sketch of the tails at JSON pointer `tails`
/// in description `file` to buckets 2^53 on.
fn far_sketch(file: &Path, tails: &str) {
    let mut v = json(file);
    let sketches = v.pointer_mut(&format!("{tails}/sketches")).unwrap();
    let k = sketches
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|k| !k["pos"]["counts"].as_array().unwrap().is_empty())
        .unwrap();
    k["pos"]["offset"] = (1u64 << 53).into();
    reseal(file, v);
}

#[test]
fn bad_shard_flags_are_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("out");
    for (part, says) in [
        ("0/3", "expected I/N with 1 <= I <= N"),
        ("4/3", "expected I/N with 1 <= I <= N"),
        ("3", "expected I/N with 1 <= I <= N"),
        ("a/b", "expected I/N with 1 <= I <= N"),
        (
            "7/7",
            "5500 paths are 6 chunks of 1024: expected at most 6 shards",
        ),
    ] {
        let f = file.to_str().unwrap();
        let lib = dir.path().to_str().unwrap();
        for command in [
            &["run", f][..],
            &["compare", f, f],
            &["batch", lib, "--benchmark", "golden"],
        ] {
            let mut args = command.to_vec();
            args.extend(["--paths", PATHS, "--shard", part]);
            let o = quietly(&out, &args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{part}: {err}");
            assert!(err.contains(says), "{part}: {err}");
            let left = std::fs::read_dir(&out).map_or(0, |d| d.count());
            assert_eq!(left, 0, "{part}: something was written");
        }
    }
    // In the singular for one.
    let f = file.to_str().unwrap();
    let o = quietly(&out, &["run", f, "--paths", "1", "--shard", "2/2"]);
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("found 2/2, but 1 path is 1 chunk of 1024: expected at most 1 shard"));
}

#[test]
fn a_shard_says_how_to_merge() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("parts");
    let dearer = variant(
        dir.path(),
        "dearer",
        "discount_rate = 0.08",
        "discount_rate = 0.1",
    );
    let (f, d) = (file.to_str().unwrap(), dearer.to_str().unwrap());
    for (command, line, folders) in [
        (
            &["run", f][..],
            "shard 2 of 3: paths 2048..4096 (2048 of 5500)",
            "golden.shard-*-of-3",
        ),
        (
            &["compare", f, d],
            "shard 2 of 3: paired paths 2048..4096 (2048 of 5500)",
            "compare/golden-vs-dearer.shard-*-of-3",
        ),
        (
            &["sweep", f, "--set", "provider.azure.price_drift=-0.3:0.1:3"],
            "shard 2 of 3: 6144 paths over 3 grid points",
            "sweep/golden.shard-*-of-3",
        ),
        (
            &["sensitivity", f, "--param", "agi.hazard=0.1:0.3"],
            "shard 2 of 3: 6144 paths over 3 runs",
            "sensitivity/golden.shard-*-of-3",
        ),
    ] {
        let o = std::process::Command::new(bin())
            .args(command)
            .args(["--paths", PATHS, "--shard", "2/3", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        ok(&o);
        let said = String::from_utf8_lossy(&o.stdout);
        assert!(said.contains(line), "{said}");
        let glob = out.join(folders);
        assert!(
            said.contains(&format!("capsim merge {}", glob.display())),
            "{said}"
        );
    }
}

/// The merge command a shard prints runs as written in a shell where the
/// output folder has a space and a quote in its name (the folder quoted,
/// the shards' pattern not).
#[test]
fn the_printed_merge_command_runs_in_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("my shards' é");
    let mut said = String::new();
    for part in ["1/2", "2/2"] {
        let o = std::process::Command::new(bin())
            .arg("run")
            .arg(&file)
            .args(["--paths", "2000", "--shard", part, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        ok(&o);
        said = String::from_utf8_lossy(&o.stdout).to_string();
    }
    let command = said
        .split("capsim merge ")
        .nth(1)
        .and_then(|r| r.split(" [--out DIR]").next())
        .unwrap_or_else(|| panic!("{said}"));
    let merged = dir.path().join("merged");
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' merge {command} --quiet --out \"$1\"", bin()))
        .arg("sh")
        .arg(&merged)
        .output()
        .unwrap();
    ok(&o);
    assert!(merged.join("golden/summary.csv").exists(), "{command}");
}

/// `golden.toml` named `name`, with `from` replaced by `to`, in `dir`.
fn variant(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    assert!(GOLDEN.contains(from), "{from}");
    let p = dir.join(format!("{name}.toml"));
    let text = GOLDEN
        .replace("name = \"golden\"", &format!("name = \"{name}\""))
        .replace(from, to);
    std::fs::write(&p, text).unwrap();
    p
}

/// Shard `i` of `n` of comparing `files` (base first) into `out`, on
/// `threads` threads, with `extra` flags.
fn compare_shard(
    files: &[&Path],
    out: &Path,
    i: u64,
    n: u64,
    threads: usize,
    extra: &[&str],
) -> PathBuf {
    let (part, threads) = (format!("{i}/{n}"), threads.to_string());
    let mut args = vec!["compare"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.extend(["--paths", PATHS, "--shard", &part, "--threads", &threads]);
    args.extend_from_slice(extra);
    ok(&quietly(out, &args));
    let names: Vec<String> = files[1..]
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    let base = files[0].file_stem().unwrap().to_string_lossy();
    let d = format!("{base}-vs-{}.shard-{i}-of-{n}", names.join("+"));
    out.join("compare").join(d)
}

/// `compare --shard I/N` on separate processes, then `merge`: each
/// alternative's folder as one `compare` writes it, the CSV files byte for
/// byte, the manifest listing the shards.
#[test]
fn merged_comparison_shards_write_what_one_compare_writes() {
    let dir = tempfile::tempdir().unwrap();
    let base = scenario(dir.path());
    let dearer = variant(
        dir.path(),
        "dearer",
        "discount_rate = 0.08",
        "discount_rate = 0.1",
    );
    let short = variant(dir.path(), "short", "periods = 10", "periods = 8");
    let files = [base.as_path(), dearer.as_path(), short.as_path()];
    let whole = dir.path().join("whole");
    let mut args = vec!["compare"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.extend(["--paths", PATHS, "--set", "agi.hazard=0.2"]);
    ok(&quietly(&whole, &args));
    let set = ["--set", "agi.hazard=0.2"];
    for n in [1u64, 3, 6] {
        let parts = dir.path().join(format!("parts{n}"));
        let mut shards: Vec<PathBuf> = (1..=n)
            .map(|i| compare_shard(&files, &parts, i, n, 1 + i as usize % 3, &set))
            .collect();
        shards.reverse();
        let out = dir.path().join(format!("merged{n}"));
        ok(&merge(&out, &shards));
        for alt in ["golden-vs-dearer", "golden-vs-short"] {
            for f in ["comparison.csv", "comparison_periods.csv"] {
                let (a, b) = (
                    std::fs::read(whole.join("compare").join(alt).join(f)).unwrap(),
                    std::fs::read(out.join("compare").join(alt).join(f)).unwrap(),
                );
                assert!(a == b, "{n} shards: {alt}/{f} differs from one compare's");
            }
            let one = json(&whole.join("compare").join(alt).join("manifest.json"));
            let m = json(&out.join("compare").join(alt).join("manifest.json"));
            for key in [
                "capsim_version",
                "base",
                "alt",
                "base_sha256",
                "alt_sha256",
                "seed",
                "paths",
                "confidence",
                "variance_reduction",
            ] {
                assert_eq!(m[key], one[key], "{n} shards: {alt} manifest `{key}`");
            }
            assert!(one.get("shards").is_none());
            let listed = m["shards"].as_array().unwrap();
            assert_eq!(listed.len(), n as usize);
            let covered: u64 = listed.iter().map(|s| s["paths"].as_u64().unwrap()).sum();
            assert_eq!(covered, 5500);
            let threads = listed.iter().map(|s| s["threads"].as_u64().unwrap());
            assert_eq!(m["threads"], threads.max().unwrap());
        }
        // The periods differ: no per-period rows, as in one compare.
        let short_periods = out.join("compare/golden-vs-short/comparison_periods.csv");
        assert_eq!(
            std::fs::read_to_string(short_periods)
                .unwrap()
                .lines()
                .count(),
            1
        );
    }
}

/// `merge` refuses comparison shards that are not every shard of one
/// comparison, or damaged ones, and a run's shards mixed in: exit 2, a
/// message naming the folder, nothing written.
#[test]
fn merge_refuses_what_is_not_every_shard_of_one_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let base = scenario(dir.path());
    let dearer = variant(
        dir.path(),
        "dearer",
        "discount_rate = 0.08",
        "discount_rate = 0.1",
    );
    let other = variant(
        dir.path(),
        "other",
        "discount_rate = 0.08",
        "discount_rate = 0.2",
    );
    let files = [base.as_path(), dearer.as_path()];
    let parts = dir.path().join("parts");
    let s: Vec<PathBuf> = (1..=3)
        .map(|i| compare_shard(&files, &parts, i, 3, 2, &[]))
        .collect();
    let out = dir.path().join("out");
    let refused = refusals(&out);
    refuses_incomplete(&refused, &s);
    // Shard 2 replaced by `x`.
    let instead = |x: PathBuf| [s[0].clone(), x, s[2].clone()];
    // Another alternative, another seed, another N.
    let alt = compare_shard(&[&base, &other], &dir.path().join("alt"), 2, 3, 1, &[]);
    refused(
        &instead(alt),
        &[],
        "it compares [\"golden\", \"other\"], expected [\"golden\", \"dearer\"]",
    );
    let seed = compare_shard(&files, &dir.path().join("seed"), 2, 3, 1, &["--seed", "7"]);
    refused(
        &instead(seed),
        &[],
        "its resolved scenario `golden` differs (line",
    );
    let four = compare_shard(&files, &dir.path().join("four"), 2, 4, 1, &[]);
    refused(&instead(four), &[], "it is one of 4 shards, expected 3");
    // Damaged.
    refuses_damaged(&refused, &instead, &s[1], dir.path(), "moments.bin");
    let edited = copy(&s[1], &dir.path().join("edited"));
    let h = edited.join("compare_shard.json");
    let mut v = json(&h);
    assert_ne!(v["record"]["first_path"], 0);
    v["record"]["first_path"] = 0.into();
    reseal(&h, v);
    refused(&instead(edited), &[], "the file was edited or damaged");
    // A run's shard among them.
    let run = shard(&base, &dir.path().join("run"), 2, 3, 1, &[]);
    refused(&instead(run), &[], "a run's shard folder, but ");
}

/// A library of 13 scenarios (two passes of `batch`: the benchmark and 11
/// others, then the benchmark and one more) and a file that does not load.
fn big_library(dir: &Path) -> PathBuf {
    let lib = dir.join("lib");
    std::fs::create_dir(&lib).unwrap();
    variant(
        &lib,
        "baseline",
        "discount_rate = 0.08",
        "discount_rate = 0.08",
    );
    for i in 1..=12 {
        variant(
            &lib,
            &format!("v{i:02}"),
            "discount_rate = 0.08",
            &format!("discount_rate = 0.{:02}", 8 + i),
        );
    }
    std::fs::write(lib.join("zz-bad.toml"), "periods = \"x\"\n").unwrap();
    lib
}

/// `capsim batch LIB --paths 3000 ARGS --out OUT --quiet`: exit 2 (the bad
/// file skipped), everything else written.
fn batch_with_bad_file(lib: &Path, out: &Path, args: &[&str]) {
    let mut all = vec!["batch", lib.to_str().unwrap(), "--paths", "3000"];
    all.extend_from_slice(args);
    let o = quietly(out, &all);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("1 scenario(s) failed"), "{err}");
}

/// `batch --shard I/N` on separate processes, then `merge`: every
/// scenario's folder and the index as one `batch` writes them (CSV files
/// and charts byte for byte, the manifests listing the shards), over two
/// passes, the skipped file reported by the shards and the merge alike.
#[test]
fn merged_batch_shards_write_what_one_batch_writes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = big_library(dir.path());
    let whole = dir.path().join("whole");
    batch_with_bad_file(&lib, &whole, &["--charts"]);
    let parts = dir.path().join("parts");
    let mut shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let (part, threads) = (format!("{i}/3"), (1 + i % 2).to_string());
            batch_with_bad_file(&lib, &parts, &["--shard", &part, "--threads", &threads]);
            parts.join(format!("lib.batch.shard-{i}-of-3"))
        })
        .collect();
    shards.reverse();
    let out = dir.path().join("merged");
    let o = merge_with(&out, &shards, &["--charts"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("zz-bad.toml"), "{err}");
    let mut files = 0;
    for name in std::iter::once("baseline".to_string()).chain((1..=12).map(|i| format!("v{i:02}")))
    {
        for f in [
            "summary.csv",
            "periods.csv",
            "providers.csv",
            "charts/spend.svg",
            "charts/totals.svg",
        ] {
            let (a, b) = (
                std::fs::read(whole.join(&name).join(f)).unwrap(),
                std::fs::read(out.join(&name).join(f)).unwrap(),
            );
            assert!(a == b, "{name}/{f} differs from one batch's");
            files += 1;
        }
        let m = json(&out.join(&name).join("manifest.json"));
        let one = json(&whole.join(&name).join("manifest.json"));
        for key in [
            "scenario_sha256",
            "resolved_sha256",
            "overrides",
            "seed",
            "paths",
        ] {
            assert_eq!(m[key], one[key], "{name}: manifest `{key}`");
        }
        assert_eq!(m["shards"].as_array().unwrap().len(), 3);
    }
    assert_eq!(files, 65);
    for f in ["index.csv", "index.svg"] {
        let a = std::fs::read(whole.join(f)).unwrap();
        assert!(a == std::fs::read(out.join(f)).unwrap(), "{f} differs");
    }
    let m = json(&out.join("index_manifest.json"));
    let one = json(&whole.join("index_manifest.json"));
    assert_eq!(m["details"]["skipped"], one["details"]["skipped"]);
    assert_eq!(m["details"]["shards"].as_array().unwrap().len(), 3);
}

/// `merge` refuses batch shards that are not every shard of one batch.
#[test]
fn merge_refuses_what_is_not_every_shard_of_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    variant(
        &lib,
        "baseline",
        "discount_rate = 0.08",
        "discount_rate = 0.08",
    );
    variant(
        &lib,
        "dearer",
        "discount_rate = 0.08",
        "discount_rate = 0.1",
    );
    let shard_of = |lib: &Path, out: &str, i: u64, n: u64| {
        let part = format!("{i}/{n}");
        let l = lib.to_str().unwrap();
        let out = dir.path().join(out);
        ok(&quietly(
            &out,
            &["batch", l, "--paths", "3000", "--shard", &part],
        ));
        out.join(format!("lib.batch.shard-{i}-of-{n}"))
    };
    let s: Vec<PathBuf> = (1..=3).map(|i| shard_of(&lib, "parts", i, 3)).collect();
    let out = dir.path().join("out");
    let refused = |shards: &[PathBuf], says: &str| {
        let o = merge(&out, shards);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{says}: {err}");
        assert!(err.contains(says), "expected `{says}` in: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{says}: a result was written");
    };
    let instead = |x: PathBuf| [s[0].clone(), x, s[2].clone()];
    refused(&s[1..], "2 of 3 shards given; missing shard 1");
    // Another library (a scenario edited), another N.
    let other = dir.path().join("other").join("lib");
    std::fs::create_dir_all(&other).unwrap();
    variant(
        &other,
        "baseline",
        "discount_rate = 0.08",
        "discount_rate = 0.08",
    );
    variant(
        &other,
        "dearer",
        "discount_rate = 0.08",
        "discount_rate = 0.2",
    );
    let edited = shard_of(&other, "o", 2, 3);
    refused(
        &instead(edited),
        "its resolved scenario `dearer` differs (line",
    );
    refused(
        &instead(shard_of(&lib, "two", 2, 2)),
        "it is one of 2 shards, expected 3",
    );
    // A pass's moments cut short, and a comparison's shard among them.
    let cut = copy(&s[1], &dir.path().join("cut"));
    cut_short(&cut.join("pass-1.bin"), 8);
    refused(&instead(cut), "the file is truncated or damaged");
    let flipped = copy(&s[1], &dir.path().join("flipped"));
    flip_byte(&flipped.join("pass-1.bin"));
    refused(&instead(flipped), "pass-1.bin: its sha256 is not the one");
    let unlisted = copy(&s[1], &dir.path().join("unlisted"));
    unlist(&unlisted, "pass-1.bin");
    refused(&instead(unlisted), &format!("pass-1.bin: {UNLISTED}"));
    let unsealed = copy(&s[1], &dir.path().join("unsealed"));
    unseal(&unsealed);
    refused(&instead(unsealed), &format!("batch_shard.json: {UNSEALED}"));
    let files = [lib.join("baseline.toml"), lib.join("dearer.toml")];
    let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let c = compare_shard(&files, &dir.path().join("c"), 2, 3, 1, &[]);
    refused(&instead(c), "a comparison's shard folder, but ");
}

/// The sweep the sweep tests split: a point's own paths on one axis
/// (4,000 and 5,500: four and six chunks), a price drift on the other.
const SWEEP: [&str; 4] = [
    "--set",
    "simulation.paths=4000:5500:2",
    "--set",
    "provider.azure.price_drift=-0.3:0.1:3",
];

/// Shard `i` of `n` of [`SWEEP`] of `file` into `out`, on `threads`
/// threads, with `extra` flags.
fn sweep_shard(file: &Path, out: &Path, i: u64, n: u64, threads: usize, extra: &[&str]) -> PathBuf {
    let (part, threads) = (format!("{i}/{n}"), threads.to_string());
    let mut args = vec!["sweep", file.to_str().unwrap()];
    args.extend(SWEEP);
    args.extend(["--shard", &part, "--threads", &threads]);
    args.extend_from_slice(extra);
    ok(&quietly(out, &args));
    out.join("sweep").join(format!("golden.shard-{i}-of-{n}"))
}

/// `sweep --shard I/N` on separate processes, then `merge`: the
/// `sweep.csv` one `sweep` writes, byte for byte, every grid point cut at
/// its own paths; the manifest listing the shards.
#[test]
fn merged_sweep_shards_write_what_one_sweep_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let whole = dir.path().join("whole");
    let mut args = vec!["sweep", file.to_str().unwrap()];
    args.extend(SWEEP);
    ok(&quietly(&whole, &args));
    let expected = std::fs::read(whole.join("sweep/golden/sweep.csv")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&expected).lines().count(),
        1 + 6 * 23,
        "six points of 23 path metrics"
    );
    for n in [1u64, 2, 4] {
        let parts = dir.path().join(format!("parts{n}"));
        // Each shard on its own thread count, handed over last first.
        let shards: Vec<PathBuf> = (1..=n)
            .rev()
            .map(|i| sweep_shard(&file, &parts, i, n, 1 + i as usize % 3, &[]))
            .collect();
        let out = dir.path().join(format!("merged{n}"));
        ok(&merge(&out, &shards));
        let got = std::fs::read(out.join("sweep/golden/sweep.csv")).unwrap();
        assert!(got == expected, "{n} shards: sweep.csv differs");
        let man = json(&out.join("sweep/golden/manifest.json"));
        let listed = man["details"]["shards"].as_array().unwrap();
        assert_eq!(listed.len(), n as usize);
        // Every point's paths once: 3 points of 4,000 and 3 of 5,500.
        let paths: u64 = listed.iter().map(|s| s["paths"].as_u64().unwrap()).sum();
        assert_eq!(paths, 3 * 4000 + 3 * 5500, "{n} shards");
        assert_eq!(man["details"]["grid_points"], 6);
        let plain = json(&whole.join("sweep/golden/manifest.json"));
        assert_eq!(man["scenarios"], plain["scenarios"]);
        assert_eq!(man["details"]["axes"], plain["details"]["axes"]);
    }
    let plain = json(&whole.join("sweep/golden/manifest.json"));
    assert!(plain["details"].get("shards").is_none());
}

/// A sweep over a date field (its axis months, `YYYY-MM` in the shard
/// descriptions) and a sensitivity analysis with a date parameter, split
/// in two and merged: the files one process writes.
#[test]
fn merged_shards_of_a_date_sweep_write_what_one_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let f = file.to_str().unwrap();
    let cases: [(&str, &[&str], &str); 2] = [
        (
            "sweep",
            &["--set", "agi.earliest=2026-06:2027-06:3", "--paths", "2048"],
            "sweep/golden/sweep.csv",
        ),
        (
            "sensitivity",
            &["--param", "agi.earliest=2026-06:2027-06", "--paths", "2048"],
            "sensitivity/golden/tornado.csv",
        ),
    ];
    for (command, flags, csv) in cases {
        let whole = dir.path().join(format!("{command}-whole"));
        let mut args = vec![command, f];
        args.extend(flags);
        ok(&quietly(&whole, &args));
        let parts = dir.path().join(format!("{command}-parts"));
        let shards: Vec<PathBuf> = (1..=2)
            .map(|i| {
                let part = format!("{i}/2");
                let mut a = args.clone();
                a.extend(["--shard", &part]);
                ok(&quietly(&parts, &a));
                parts.join(command).join(format!("golden.shard-{i}-of-2"))
            })
            .collect();
        let out = dir.path().join(format!("{command}-merged"));
        ok(&merge(&out, &shards));
        let got = std::fs::read(out.join(csv)).unwrap();
        assert!(
            got == std::fs::read(whole.join(csv)).unwrap(),
            "{command}: {csv} differs"
        );
        assert!(
            String::from_utf8_lossy(&got).contains("2027-06"),
            "{command}"
        );
    }
}

/// A sweep whose points pair with its seventh (twenty points of one seed
/// and paths, in groups that depend on the threads): split in three, each
/// shard on its own thread count, and merged, the `sweep.csv` one process
/// writes, its paired differences included. A shard paired with another
/// point does not merge with them.
#[test]
fn merged_shards_of_a_paired_sweep_write_what_one_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let args = [
        "sweep",
        file.to_str().unwrap(),
        "--set",
        "provider.azure.price_drift=-0.3:0.1:5",
        "--set",
        "agi.hazard=0.1:0.4:4",
        "--paths",
        "3000",
        "--reference",
        "7",
    ];
    let whole = dir.path().join("whole");
    ok(&quietly(&whole, &args));
    let csv = "sweep/golden/sweep.csv";
    let expected = std::fs::read(whole.join(csv)).unwrap();
    let text = String::from_utf8_lossy(&expected);
    let npv: Vec<&str> = text.lines().filter(|l| l.contains(",npv,")).collect();
    assert_eq!(npv.len(), 20);
    for (i, l) in npv.iter().enumerate() {
        let zero = l.ends_with(",0,0,0,0,0");
        assert!(zero == (i == 6) && !l.ends_with(",,,,,"), "{l}");
    }
    let parts = dir.path().join("parts");
    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let (part, threads) = (format!("{i}/3"), i.to_string());
            let mut a = args.to_vec();
            a.extend(["--shard", &part, "--threads", &threads]);
            ok(&quietly(&parts, &a));
            parts.join(format!("sweep/golden.shard-{i}-of-3"))
        })
        .collect();
    let out = dir.path().join("merged");
    ok(&merge(&out, &shards));
    assert!(
        std::fs::read(out.join(csv)).unwrap() == expected,
        "sweep.csv differs"
    );
    // A shard against another reference, or against none, is another
    // sweep's.
    for reference in ["1", "none"] {
        let other = dir.path().join(format!("other-{reference}"));
        let mut a = args[..args.len() - 2].to_vec();
        a.extend(["--shard", "3/3", "--reference", reference]);
        ok(&quietly(&other, &a));
        let mixed = [
            shards[0].clone(),
            shards[1].clone(),
            other.join("sweep/golden.shard-3-of-3"),
        ];
        let o = merge(&dir.path().join(format!("mixed-{reference}")), &mixed);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        let says = format!("its --reference is {reference}, expected 7");
        assert!(err.contains(&says), "{err}");
    }
}

#[test]
fn merge_refuses_what_is_not_every_shard_of_one_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let parts = dir.path().join("parts");
    let s: Vec<PathBuf> = (1..=3)
        .map(|i| sweep_shard(&file, &parts, i, 3, 2, &[]))
        .collect();
    let out = dir.path().join("out");
    let refused = refusals(&out);
    refuses_incomplete(&refused, &s);
    // Shard 2 replaced by `x`.
    let instead = |x: PathBuf| [s[0].clone(), x, s[2].clone()];
    let seed = sweep_shard(&file, &dir.path().join("seed"), 2, 3, 1, &["--seed", "7"]);
    refused(
        &instead(seed),
        &[],
        "its scenario at grid point 1 resolves differently",
    );
    let fixed = sweep_shard(
        &file,
        &dir.path().join("fixed"),
        2,
        3,
        1,
        &["--set", "provider.oracle.price_drift=-0.1"],
    );
    refused(&instead(fixed), &[], "resolves differently");
    let mut other_axis = vec!["sweep", file.to_str().unwrap()];
    other_axis.extend(&SWEEP[..2]);
    other_axis.extend(["--set", "provider.azure.price_drift=-0.3:0.1:2"]);
    other_axis.extend(["--shard", "2/3"]);
    let axis = dir.path().join("axis");
    ok(&quietly(&axis, &other_axis));
    refused(
        &instead(axis.join("sweep/golden.shard-2-of-3")),
        &[],
        "its axes are",
    );
    let four = sweep_shard(&file, &dir.path().join("four"), 2, 4, 1, &[]);
    refused(&instead(four), &[], "it is one of 4 shards, expected 3");
    // Damaged: moments cut short, a span edited, the scenario text edited.
    refuses_damaged(&refused, &instead, &s[1], dir.path(), "moments.bin");
    let edited = copy(&s[1], &dir.path().join("edited"));
    let h = edited.join("sweep_shard.json");
    let mut v = json(&h);
    assert_ne!(v["points"][4]["first_path"], 0);
    v["points"][4]["first_path"] = 0.into();
    reseal(&h, v);
    refused(
        &instead(edited),
        &[],
        "its paths or statistics of grid point simulation.paths=5500 \
         provider.azure.price_drift=-0.1 do not match shard 2 of 3 of its 5500 paths",
    );
    let text = copy(&s[0], &dir.path().join("text"));
    let h = text.join("sweep_shard.json");
    let mut v = json(&h);
    let t = v["scenario_text"]
        .as_str()
        .unwrap()
        .replace("discount_rate = 0.08", "discount_rate = 0.09");
    v["scenario_text"] = t.into();
    reseal(&h, v);
    refused(
        &[text, s[1].clone(), s[2].clone()],
        &[],
        "does not resolve to its sha256 (the file was edited)",
    );
    // A run's shard among them.
    let run = shard(&file, &dir.path().join("run"), 2, 3, 1, &[]);
    refused(&instead(run), &[], "a run's shard folder, but ");
}

/// A point with fewer chunks than N is refused before anything runs,
/// naming the point.
#[test]
fn a_sweep_shard_fits_every_grid_point() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("out");
    let mut args = vec!["sweep", file.to_str().unwrap()];
    args.extend(SWEEP);
    args.extend(["--shard", "5/5"]);
    let o = quietly(&out, &args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "4000 paths are 4 chunks of 1024: expected at most 4 shards (grid point \
             simulation.paths=4000 provider.azure.price_drift=-0.3)"
        ),
        "{err}"
    );
    assert!(!out.exists(), "something was written");
    // Five shards fit the 5,500-path points but not the 4,000-path ones;
    // four fit both.
    args.pop();
    args.push("4/4");
    ok(&quietly(&out, &args));
}

/// The sensitivity analysis the sensitivity tests split: two tornado
/// parameters at the base's 5,500 paths (six chunks, the last short).
const TORNADO: [&str; 6] = [
    "--paths",
    PATHS,
    "--param",
    "workload.api.growth=0.2:0.4",
    "--param",
    "provider.azure.price_drift=-0.3:0.1",
];

/// Shard `i` of `n` of [`TORNADO`] of `file` into `out`, on `threads`
/// threads, with `extra` flags.
fn sensitivity_shard(
    file: &Path,
    out: &Path,
    i: u64,
    n: u64,
    threads: usize,
    extra: &[&str],
) -> PathBuf {
    let (part, threads) = (format!("{i}/{n}"), threads.to_string());
    let mut args = vec!["sensitivity", file.to_str().unwrap()];
    args.extend(TORNADO);
    args.extend(["--shard", &part, "--threads", &threads]);
    args.extend_from_slice(extra);
    ok(&quietly(out, &args));
    out.join("sensitivity")
        .join(format!("golden.shard-{i}-of-{n}"))
}

/// `sensitivity --shard I/N` on separate processes, then `merge`: the
/// `tornado.csv` and `drivers.csv` one `sensitivity` writes, byte for
/// byte (the drivers' rank correlations need every path's values: the
/// shards hand over their rows); the manifest listing the shards.
#[test]
fn merged_sensitivity_shards_write_what_one_sensitivity_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let whole = dir.path().join("whole");
    let mut args = vec!["sensitivity", file.to_str().unwrap()];
    args.extend(TORNADO);
    args.extend(["--threads", "2"]);
    ok(&quietly(&whole, &args));
    let read = |d: &Path, f: &str| std::fs::read(d.join("sensitivity/golden").join(f)).unwrap();
    let (tornado, drivers) = (read(&whole, "tornado.csv"), read(&whole, "drivers.csv"));
    assert_eq!(String::from_utf8_lossy(&tornado).lines().count(), 3);
    assert!(String::from_utf8_lossy(&drivers).lines().count() > 5);
    for n in [1u64, 2, 4] {
        let parts = dir.path().join(format!("parts{n}"));
        let shards: Vec<PathBuf> = (1..=n)
            .rev()
            .map(|i| sensitivity_shard(&file, &parts, i, n, 1 + i as usize % 3, &[]))
            .collect();
        let out = dir.path().join(format!("merged{n}"));
        ok(&merge_with(&out, &shards, &["--threads", "1"]));
        assert!(
            read(&out, "tornado.csv") == tornado,
            "{n} shards: tornado.csv differs"
        );
        assert!(
            read(&out, "drivers.csv") == drivers,
            "{n} shards: drivers.csv differs"
        );
        let man = json(&out.join("sensitivity/golden/manifest.json"));
        let listed = man["details"]["shards"].as_array().unwrap();
        assert_eq!(listed.len(), n as usize);
        // Every run's paths once: the tornado's four and the drivers'.
        let paths: u64 = listed.iter().map(|s| s["paths"].as_u64().unwrap()).sum();
        assert_eq!(paths, 5 * 5500, "{n} shards");
        let plain = json(&whole.join("sensitivity/golden/manifest.json"));
        assert_eq!(man["scenarios"], plain["scenarios"]);
        assert_eq!(
            man["details"]["tornado_parameters"],
            plain["details"]["tornado_parameters"]
        );
        assert_eq!(man["details"]["drivers"], plain["details"]["drivers"]);
    }
}

#[test]
fn merge_refuses_what_is_not_every_shard_of_one_sensitivity() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let parts = dir.path().join("parts");
    let s: Vec<PathBuf> = (1..=3)
        .map(|i| sensitivity_shard(&file, &parts, i, 3, 2, &[]))
        .collect();
    let out = dir.path().join("out");
    let refused = refusals(&out);
    refuses_incomplete(&refused, &s);
    // Shard 2 replaced by `x`.
    let instead = |x: PathBuf| [s[0].clone(), x, s[2].clone()];
    let seed = sensitivity_shard(&file, &dir.path().join("seed"), 2, 3, 1, &["--seed", "7"]);
    refused(&instead(seed), &[], "its scenario resolves differently");
    let mut other = vec!["sensitivity", file.to_str().unwrap()];
    other.extend(&TORNADO[..4]);
    other.extend(["--param", "provider.azure.price_drift=-0.2:0.1"]);
    other.extend(["--shard", "2/3"]);
    let param = dir.path().join("param");
    ok(&quietly(&param, &other));
    refused(
        &instead(param.join("sensitivity/golden.shard-2-of-3")),
        &[],
        "its tornado parameters are",
    );
    let four = sensitivity_shard(&file, &dir.path().join("four"), 2, 4, 1, &[]);
    refused(&instead(four), &[], "it is one of 4 shards, expected 3");
    // Damaged: moments or drivers' rows cut short, spans edited, the
    // scenario text edited.
    for f in ["moments.bin", "drivers.bin"] {
        refuses_damaged(&refused, &instead, &s[1], dir.path(), f);
    }
    let edit = |name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let d = copy(&s[1], &dir.path().join(name));
        let h = d.join("sensitivity_shard.json");
        let mut v = json(&h);
        f(&mut v);
        reseal(&h, v);
        d
    };
    let run = edit("run", &|v| {
        assert_ne!(v["runs"][1]["first_path"], 0);
        v["runs"][1]["first_path"] = 0.into();
    });
    refused(
        &instead(run),
        &[],
        "its paths or statistics of tornado run 2 (workload.api.growth=0.4) do not match \
         shard 2 of 3 of its 5500 paths",
    );
    let far = copy(&s[1], &dir.path().join("far"));
    far_sketch(&far.join("sensitivity_shard.json"), "/runs/1/tails");
    refused(
        &instead(far),
        &[],
        "its paths or statistics of tornado run 2 (workload.api.growth=0.4) do not match",
    );
    let rows = edit("rows", &|v| {
        v["span_paths"] = 1024.into();
    });
    refused(
        &instead(rows),
        &[],
        "its drivers' run does not match shard 2 of 3 of its 5500 paths",
    );
    let text = copy(&s[0], &dir.path().join("text"));
    let h = text.join("sensitivity_shard.json");
    let mut v = json(&h);
    let t = v["scenario_text"]
        .as_str()
        .unwrap()
        .replace("discount_rate = 0.08", "discount_rate = 0.09");
    v["scenario_text"] = t.into();
    reseal(&h, v);
    refused(
        &[text, s[1].clone(), s[2].clone()],
        &[],
        "does not resolve to its sha256s (the file was edited)",
    );
    // A sweep's shard among them.
    let sweep = sweep_shard(&file, &dir.path().join("sweep"), 2, 3, 1, &[]);
    refused(&instead(sweep), &[], "a sweep's shard folder, but ");
}

/// A tornado run with fewer chunks than N is refused before anything
/// runs, naming the run.
#[test]
fn a_sensitivity_shard_fits_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("out");
    let mut args = vec!["sensitivity", file.to_str().unwrap()];
    args.extend(TORNADO);
    args.extend(["--shard", "7/7"]);
    let o = quietly(&out, &args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "5500 paths are 6 chunks of 1024: expected at most 6 shards (tornado run 1 \
             (workload.api.growth=0.2))"
        ),
        "{err}"
    );
    assert!(!out.exists(), "something was written");
}
