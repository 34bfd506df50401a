//! The `capsim` binary: parse arguments, call the library, map errors to
//! exit codes (0 ok, 2 bad input, 1 anything else).

use clap::Parser;

fn main() {
    let cli = capsim::cli::Cli::parse();
    match capsim::cli::main(cli) {
        Ok(()) => {}
        Err(capsim::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
