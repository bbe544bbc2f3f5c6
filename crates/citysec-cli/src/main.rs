//! `citysec`: the command-line tool of citysec.
//!
//! Exit codes: 0 ok or accepted, 1 rejected (a signature, tag or expectation
//! failed; the reason is on stderr), 2 usage or I/O error.

#![forbid(unsafe_code)]

extern crate alloc;

mod attest;
mod audit;
mod common;
mod credential;
mod demo;
mod inspect;
mod json;
mod key;
mod out;
mod policy;
mod telemetry;
mod view;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::out::Out;

/// How a command failed; each maps to an exit code.
#[derive(Debug)]
enum Failure {
    /// Verification, decryption or an expectation failed (exit 1).
    Rejected(String),
    /// Bad usage, unreadable or unwritable files, malformed input (exit 2).
    Usage(String),
}

impl Failure {
    fn usage(msg: impl Into<String>) -> Self {
        Self::Usage(msg.into())
    }
}

type CmdResult = Result<(), Failure>;

const ABOUT: &str = "Keys, tokens and debugging for citysec (COSE/CWT security for smart-city systems)";

const TOP_HELP: &str = "\
Exit codes: 0 ok/accepted, 1 rejected (reason on stderr), 2 usage or I/O error.

Examples:
  citysec key generate --alg EdDSA --kid issuer-1 --out issuer.key
  citysec key public issuer.key --out issuer.pub
  citysec inspect token.cbor --key issuer.pub
  citysec demo";

#[derive(Debug, Parser)]
#[command(name = "citysec", version, about = ABOUT, after_help = TOP_HELP)]
struct Cli {
    /// The PKCS#11 module (shared library) for `pkcs11:` key URIs; default: the
    /// CITYSEC_PKCS11_MODULE environment variable. Never taken from a URI.
    #[arg(long, global = true, value_name = "PATH")]
    pkcs11_module: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate keys and extract public keys.
    #[command(subcommand, after_help = key::KEY_HELP)]
    Key(key::KeyCommand),
    /// Show a CBOR/COSE item in diagnostic notation; with --key, verify or decrypt it.
    #[command(after_help = inspect::HELP)]
    Inspect(inspect::InspectArgs),
    /// Issue, verify and present credentials; manage status lists.
    #[command(subcommand, after_help = credential::HELP)]
    Credential(credential::CredentialCommand),
    /// Check, evaluate, bundle and verify access policies.
    #[command(subcommand, after_help = policy::HELP)]
    Policy(policy::PolicyCommand),
    /// Device attestation: challenges, evidence, endorsements, appraisal, results.
    #[command(subcommand, after_help = attest::HELP)]
    Attest(attest::AttestCommand),
    /// Seal and open telemetry envelopes; derive device keys.
    #[command(subcommand, after_help = telemetry::HELP)]
    Telemetry(telemetry::TelemetryCommand),
    /// The tamper-evident audit log: append, checkpoint, prove, verify, cosign, show.
    #[command(subcommand, after_help = audit::HELP)]
    Audit(audit::AuditCommand),
    /// Run an end-to-end round trip (sign, verify, tamper, seal, open) in memory.
    #[command(after_help = demo::HELP)]
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit 0; real usage errors exit 2.
            let _ignored = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    common::set_pkcs11_module(cli.pkcs11_module);
    let mut out = Out::stdout();
    let result = match cli.command {
        Command::Key(cmd) => key::run(cmd, &mut out),
        Command::Inspect(args) => inspect::run(&args, &mut out),
        Command::Credential(cmd) => credential::run(cmd, &mut out),
        Command::Policy(cmd) => policy::run(cmd, &mut out),
        Command::Attest(cmd) => attest::run(cmd, &mut out),
        Command::Telemetry(cmd) => telemetry::run(cmd, &mut out),
        Command::Audit(cmd) => audit::run(cmd, &mut out),
        Command::Demo(args) => demo::run(&args, &mut out),
    };
    out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Rejected(reason)) => {
            out::eprint(&format!("rejected: {reason}"));
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            out::eprint(&format!("error: {msg}"));
            ExitCode::from(2)
        }
    }
}
