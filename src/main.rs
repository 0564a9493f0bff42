use std::process::ExitCode;

/// Runs before the Rust runtime replaces a closed stdout with /dev/null, so `epilot ... >&-`
/// can be told from a real stdout.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static NOTE_CLOSED_STDOUT: extern "C" fn() = epilot::env::term::note_closed_stdout;

fn main() -> ExitCode {
    ExitCode::from(epilot::app::main())
}
