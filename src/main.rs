//! The `capsim` binary: parse arguments, call the library, map errors to
//! exit codes (0 ok, 2 bad input, 1 anything else); after Ctrl-C or
//! SIGTERM, end by that signal once the partial result is removed
//! ([`capsim::interrupt`]).

use clap::Parser;

fn main() {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(e) = capsim::cli::spaced_override(&args) {
        say_err(format_args!("error: {e}"));
        std::process::exit(e.exit_code());
    }
    let cli = match capsim::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => match capsim::cli::unknown_flag(&args, &e) {
            Some(message) => {
                say_err(format_args!("error: {message}"));
                std::process::exit(2);
            }
            // (Help and version too: printed, exit 0.)
            None => e.exit(),
        },
    };
    if let Err(e) = capsim::interrupt::install() {
        say_err(format_args!(
            "warning: cannot handle Ctrl-C ({e}); an interrupted run leaves its partial result folder"
        ));
    }
    match capsim::cli::main(cli) {
        Ok(()) => {}
        Err(e @ capsim::Error::Interrupted) => {
            say_err(format_args!("error: {e}"));
            capsim::interrupt::die()
        }
        Err(capsim::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            std::process::exit(0)
        }
        Err(e) => {
            say_err(format_args!("error: {e}"));
            std::process::exit(e.exit_code());
        }
    }
}

/// A line on stderr, or nothing if stderr is closed (`eprintln!` would
/// panic there, and exit 101 instead of the error's exit code).
fn say_err(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
