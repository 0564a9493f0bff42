use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(epilot::app::main())
}
