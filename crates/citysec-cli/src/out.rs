//! Buffered output that never panics (a closed pipe is not a crash) and colour
//! only where it belongs.

use core::fmt::{self, Write as _};
use std::io::{IsTerminal as _, Write as _};

/// Collects stdout text and writes it in one go.
#[derive(Debug, Default)]
pub(crate) struct Out {
    buf: String,
    colour: bool,
}

impl Out {
    /// Output for the process's stdout: colour when stdout is a terminal and
    /// `NO_COLOR` is not set.
    pub(crate) fn stdout() -> Self {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self {
            buf: String::new(),
            colour,
        }
    }

    /// Appends one line.
    pub(crate) fn line(&mut self, args: fmt::Arguments<'_>) {
        let _infallible = self.buf.write_fmt(args);
        self.buf.push('\n');
    }

    /// Wraps `text` in an ANSI colour when colour is on.
    pub(crate) fn paint(&self, colour: Colour, text: &str) -> String {
        if self.colour {
            format!("\x1b[{}m{text}\x1b[0m", colour.code())
        } else {
            text.to_owned()
        }
    }

    /// Writes what was collected to stdout. Write errors (a closed pipe) are ignored.
    pub(crate) fn flush(&mut self) {
        let mut stdout = std::io::stdout().lock();
        let _ignored = stdout.write_all(self.buf.as_bytes());
        let _ignored = stdout.flush();
        self.buf.clear();
    }
}

/// The few colours the CLI uses.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Colour {
    Green,
    Red,
    Yellow,
    Bold,
}

impl Colour {
    const fn code(self) -> &'static str {
        match self {
            Self::Green => "1;32",
            Self::Red => "1;31",
            Self::Yellow => "1;33",
            Self::Bold => "1",
        }
    }
}

/// Writes one line to stderr, ignoring write errors.
pub(crate) fn eprint(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ignored = writeln!(stderr, "{line}");
}

/// `outln!(out, "...", args)`: one line into an [`Out`].
macro_rules! outln {
    ($out:expr) => { $out.line(format_args!("")) };
    ($out:expr, $($arg:tt)*) => { $out.line(format_args!($($arg)*)) };
}
pub(crate) use outln;
