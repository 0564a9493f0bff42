//! The process's surroundings (streams, terminal, environment variables), passed down so the
//! pipeline can be driven without a real terminal, and the few helpers every command uses.

pub mod term;

use std::io::{self, Read, Write};

use crate::error::{exit, io_error, Result};
use crate::state::paths::Places;
use term::Terminal;

/// The process's surroundings, so the pipeline can be driven without a real terminal.
pub struct Env<'a> {
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub stdin: &'a mut dyn Read,
    pub terminal: Terminal,
    pub var: &'a dyn Fn(&str) -> Option<String>,
}

pub(crate) fn places(env: &Env<'_>) -> Result<Places> {
    Places::from_env(env.var)
}

pub(crate) fn write_out(bytes: &[u8], env: &mut Env<'_>) -> Result<u8> {
    env.stdout.write_all(bytes).map_err(io_error)?;
    Ok(exit::OK)
}

/// Stderr as the pipeline writes to it. Traces, notes and warnings never end a run nor change
/// its exit code, so a write that fails here is dropped: only stdout's reader going away can
/// become [`crate::error::ErrorKind::BrokenPipe`] (`-v 2>&1 | head` still sends the request
/// and still exits 1 on an HTTP error). After the first failure nothing more is tried.
pub struct Diagnostics<W> {
    inner: W,
    gone: bool,
}

impl<W: Write> Diagnostics<W> {
    pub fn new(inner: W) -> Diagnostics<W> {
        Diagnostics { inner, gone: false }
    }
}

impl<W: Write> Write for Diagnostics<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.gone && self.inner.write_all(buf).is_err() {
            self.gone = true;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.gone && self.inner.flush().is_err() {
            self.gone = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_gone_stderr_is_never_an_error() {
        let mut err = Diagnostics::new(Broken);
        assert!(writeln!(err, "* trace").is_ok());
        assert!(err.flush().is_ok());
        let mut kept = Diagnostics::new(Vec::new());
        writeln!(kept, "warning").unwrap();
        assert_eq!(kept.inner, b"warning\n");
    }
}
