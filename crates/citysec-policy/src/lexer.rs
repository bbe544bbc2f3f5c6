//! The hand-written lexer: tokens with byte spans, comments and whitespace skipped.

use alloc::format;
use alloc::string::String;

use crate::error::{Diagnostic, DiagnosticKind, excerpt};

/// A token kind; identifiers and keywords are read from the source by span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Ident,
    Str(String),
    Int(i64),
    Semi,
    Comma,
    Dot,
    DotDot,
    Colon,
    LParen,
    RParen,
    LBrack,
    RBrack,
    Star,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

/// A token and its byte span in the source.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Reads tokens one at a time.
#[derive(Debug)]
pub(crate) struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

impl<'s> Lexer<'s> {
    pub(crate) const fn new(src: &'s str) -> Self {
        Self { src, pos: 0 }
    }

    fn byte(&self, ahead: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos.checked_add(ahead)?).copied()
    }

    fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.src.len());
    }

    fn skip_trivia(&mut self) {
        loop {
            match self.byte(0) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.advance(1),
                Some(b'/') if self.byte(1) == Some(b'/') => {
                    // A comment ends at the first LF or CR (a bare CR included), as a
                    // string literal does: nothing after a line break is ever hidden.
                    let rest = self.src.get(self.pos..).unwrap_or("");
                    self.advance(rest.find(['\n', '\r']).unwrap_or(rest.len()));
                }
                _ => return,
            }
        }
    }

    fn err(&self, at: usize, kind: DiagnosticKind, found: &str, expected: &str) -> Diagnostic {
        Diagnostic::at(self.src, at, kind, excerpt(found), expected)
    }

    /// The next token.
    pub(crate) fn next_token(&mut self) -> Result<Token, Diagnostic> {
        self.skip_trivia();
        let start = self.pos;
        let Some(b) = self.byte(0) else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let next = self.byte(1);
        let (tok, len) = match b {
            b';' => (Tok::Semi, 1),
            b',' => (Tok::Comma, 1),
            b'.' if next == Some(b'.') => (Tok::DotDot, 2),
            b'.' => (Tok::Dot, 1),
            b':' => (Tok::Colon, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBrack, 1),
            b']' => (Tok::RBrack, 1),
            b'*' => (Tok::Star, 1),
            b'=' if next == Some(b'=') => (Tok::EqEq, 2),
            b'!' if next == Some(b'=') => (Tok::Ne, 2),
            b'<' if next == Some(b'=') => (Tok::Le, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if next == Some(b'=') => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'=' | b'!' => {
                let found = if b == b'=' { "=" } else { "!" };
                return Err(self.err(
                    start,
                    DiagnosticKind::UnexpectedCharacter,
                    found,
                    "`==` or `!=` (write `not` for negation)",
                ));
            }
            b'"' => return self.string(start),
            b'0'..=b'9' => return self.int(start),
            b'-' if next.is_some_and(|c| c.is_ascii_digit()) => return self.int(start),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let rest = self.src.get(start..).unwrap_or("");
                let len = rest
                    .bytes()
                    .position(|c| !(c.is_ascii_alphanumeric() || c == b'_'))
                    .unwrap_or(rest.len());
                (Tok::Ident, len)
            }
            _ => {
                let ch = self.src.get(start..).and_then(|s| s.chars().next()).unwrap_or('?');
                let mut buf = [0u8; 4];
                return Err(self.err(
                    start,
                    DiagnosticKind::UnexpectedCharacter,
                    ch.encode_utf8(&mut buf),
                    "a rule, a declaration, a name, a string, a number or punctuation",
                ));
            }
        };
        self.advance(len);
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    /// A string literal starting at the quote at `start`; it must close on the same line.
    fn string(&mut self, start: usize) -> Result<Token, Diagnostic> {
        self.advance(1);
        let mut out = String::new();
        let rest = self.src.get(self.pos..).unwrap_or("");
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.advance(i.saturating_add(1));
                    return Ok(Token {
                        tok: Tok::Str(out),
                        start,
                        end: self.pos,
                    });
                }
                '\n' | '\r' => break,
                '\\' => {
                    let esc = chars.next();
                    let Some((_, e)) = esc else { break };
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        other => {
                            let at = self.pos.saturating_add(i);
                            return Err(self.err(
                                at,
                                DiagnosticKind::InvalidEscape,
                                &format!("\\{other}"),
                                "one of the escapes \\\" \\\\ \\n \\t",
                            ));
                        }
                    }
                }
                c => out.push(c),
            }
        }
        let line = self.src.get(start..).unwrap_or("");
        let line = line.split(['\n', '\r']).next().unwrap_or(line);
        Err(self.err(
            start,
            DiagnosticKind::UnterminatedString,
            line,
            "a closing `\"` before the end of the line",
        ))
    }

    /// A decimal integer, optionally negative, starting at `start`.
    fn int(&mut self, start: usize) -> Result<Token, Diagnostic> {
        let negative = self.byte(0) == Some(b'-');
        if negative {
            self.advance(1);
        }
        let mut value: i64 = 0;
        let mut overflow = false;
        while let Some(d) = self.byte(0).filter(u8::is_ascii_digit) {
            let digit = i64::from(d.saturating_sub(b'0'));
            let next = value.checked_mul(10).and_then(|v| {
                if negative {
                    v.checked_sub(digit)
                } else {
                    v.checked_add(digit)
                }
            });
            match next {
                Some(v) => value = v,
                None => overflow = true,
            }
            self.advance(1);
        }
        if overflow {
            let text = self.src.get(start..self.pos).unwrap_or("");
            return Err(self.err(
                start,
                DiagnosticKind::IntegerOutOfRange,
                text,
                "an integer from -9223372036854775808 to 9223372036854775807",
            ));
        }
        Ok(Token {
            tok: Tok::Int(value),
            start,
            end: self.pos,
        })
    }
}
