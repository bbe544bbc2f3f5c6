//! `citysec policy ...`: check, evaluate, bundle and verify access policies.
//!
//! A request is JSON naming the action, the resource type and the attributes of
//! subject, resource and context; each value is read by its JSON type (string,
//! integer, boolean, array of strings, array of integers; a weekday is `"mon"` ..
//! `"sun"`). A value of another type than the schema declares is passed as it is,
//! so the rules that read it error and count against access, as on a controller.
//!
//! A request is refused (exit 1, nothing decided) when an object in it repeats a
//! key (at any depth), or when it names an attribute, action or resource type the
//! schema does not declare: the policy library refuses such names
//! (`RequestError`), so an undeclared action never falls through to `*` rules.

use std::path::{Path, PathBuf};

use citysec::core::{Clock as _, KeySet};
use citysec::policy::bundle::{self, BundleError, BundleSource, LoadOptions, PolicySigners};
use citysec::policy::{
    Decision, Diagnostics, Effect, PolicyLimits, PolicySet, RequestError, Schema, Type, Value, Weekday, compile,
};
use citysec::std_adapters::SystemClock;
use citysec::std_adapters::state::FileStateStore;
use clap::{Args, Subcommand};
use serde_json::{Value as Json, json};

use crate::common::{signer, verifying_key};
use crate::json::StrictError;
use crate::out::{Out, outln};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
The language is specified in docs/policy-language.md.

Examples:
  citysec policy check doors.policy --schema city.schema
  citysec policy eval --policy doors.policy --schema city.schema --request req.json
  citysec policy bundle --key signer.key --version 7 --scope site:lyon-3 --schema city.schema doors.policy --out doors.bundle
  citysec policy verify-bundle --trust signer.pub --scope site:lyon-3 --state /var/lib/door doors.bundle

A request (req.json):
  {\"action\": \"open\", \"resource_type\": \"door\",
   \"subject\": {\"roles\": [\"staff\"]}, \"resource\": {\"zone\": \"lobby\"},
   \"context\": {\"weekday\": \"tue\", \"hour\": 9, \"threat_level\": 0}}

A request repeating a key in any object, or naming an attribute, action or resource
type the schema does not declare, is refused (exit 1) before any rule is consulted.

Exit codes: 0 ok/allow, 1 errors/deny/rejected, 2 usage or I/O error.";

const EVAL_HELP: &str = "\
The request is a JSON object of at most 64 KiB with the fields action, resource_type
(strings), subject, resource and context (objects of attributes). It is refused with
exit 1 and nothing printed on stdout when any object repeats a key (keys compare
after unescaping), or when it names an attribute, action or resource type the schema
does not declare:
  rejected: request `req.json`: duplicate key \"threat_level\" at line LINE column COLUMN
  rejected: request `req.json`: action `paint`: the schema declares no such action
(LINE and COLUMN locate the closing quote of the repeated key; control characters
in a key are escaped.)

Exit 0 allow, 1 deny or refused, 2 usage or I/O error.

Example:
  citysec policy eval --policy doors.policy --schema city.schema --request req.json";

/// Largest request file `policy eval` reads.
const MAX_REQUEST: u64 = 64 * 1024;

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Compile a policy: print errors and warnings; exit 1 on an error.
    Check(CheckArgs),
    /// Decide a request: print {"decision": ..., "rules": [...]}; exit 0 allow, 1 deny.
    #[command(after_help = EVAL_HELP)]
    Eval(EvalArgs),
    /// Compile and sign a policy as a versioned bundle (format 2, COSE_Sign1) for one scope.
    Bundle(BundleArgs),
    /// Verify a bundle's signature, scope and version and compile it; exit 1 if rejected.
    ///
    /// With --state DIR, the version held in DIR/held-state is the floor (only a
    /// higher version, or the held bundle itself, passes) and a higher version is
    /// recorded there, durably, before the command reports success.
    VerifyBundle(VerifyBundleArgs),
}

/// Arguments of `policy check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The schema (declarations); without it the policy must declare what it uses.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The policy source.
    file: PathBuf,
}

/// Arguments of `policy eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The policy source.
    #[arg(long)]
    policy: PathBuf,
    /// The schema (declarations).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The request as JSON.
    #[arg(long)]
    request: PathBuf,
    /// Also explain, on stderr, why each rule considered did or did not apply.
    #[arg(long)]
    explain: bool,
}

/// Arguments of `policy bundle`.
#[derive(Debug, Args)]
pub(crate) struct BundleArgs {
    /// The signing key (EdDSA or ES256 COSE_Key with a kid, or a `pkcs11:` URI).
    #[arg(long)]
    key: PathBuf,
    /// The bundle version; controllers accept only versions above the one they hold.
    #[arg(long)]
    version: u64,
    /// The schema (declarations).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The issue time, seconds since the epoch (default: the system clock).
    #[arg(long)]
    issued_at: Option<u64>,
    /// The site or controller group the bundle is for, signed into it: 1 to 64
    /// ASCII letters, digits and `._:/-`, by convention `site:NAME` or
    /// `group:NAME`. Controllers configured with another scope refuse it.
    #[arg(long)]
    scope: String,
    /// Where to write the bundle (raw CBOR).
    #[arg(long)]
    out: PathBuf,
    /// The policy source.
    file: PathBuf,
}

/// Arguments of `policy verify-bundle`.
#[derive(Debug, Args)]
pub(crate) struct VerifyBundleArgs {
    /// A trusted signer public key (COSE_Key or PEM with a kid); repeat for several.
    #[arg(long, required = true)]
    trust: Vec<PathBuf>,
    /// The lowest acceptable version (a controller holding version H passes H + 1).
    #[arg(long)]
    min_version: Option<u64>,
    /// The controller's scope: only a format 2 bundle signed for exactly this
    /// scope passes (a format 1 bundle, which has none, is refused). Without it the
    /// scope is not checked.
    #[arg(long)]
    scope: Option<String>,
    /// A directory holding the controller's held state (file `held-state`,
    /// created on first use with mode 0600); the directory must exist.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// The bundle.
    bundle: PathBuf,
}

pub(crate) fn run(cmd: PolicyCommand, out: &mut Out) -> CmdResult {
    match cmd {
        PolicyCommand::Check(a) => check(&a, out),
        PolicyCommand::Eval(a) => eval(&a, out),
        PolicyCommand::Bundle(a) => make_bundle(&a, out),
        PolicyCommand::VerifyBundle(a) => verify_bundle(&a, out),
    }
}

fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("cannot read `{}`: {}", path.display(), e.kind())))
}

fn read_schema_text(path: Option<&PathBuf>) -> Result<String, Failure> {
    path.map_or_else(|| Ok(String::new()), |p| read_text(p))
}

/// Diagnostics as lines prefixed with the file name.
fn report(path: &Path, diags: &Diagnostics) -> String {
    diags
        .iter()
        .map(|d| format!("{}:{d}", path.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses the schema and compiles the policy; prints warnings to stderr.
fn compile_files(schema: Option<&PathBuf>, policy: &Path) -> Result<PolicySet, Failure> {
    let limits = PolicyLimits::DEFAULT;
    let schema_src = read_schema_text(schema)?;
    let schema = match schema {
        Some(path) => Schema::parse(&schema_src, &limits).map_err(|d| Failure::Rejected(report(path, &d)))?,
        None => Schema::new(),
    };
    let src = read_text(policy)?;
    let compiled = compile(&schema, &src, &limits).map_err(|d| Failure::Rejected(report(policy, &d)))?;
    for w in &compiled.warnings {
        crate::out::eprint(&format!("{}:{w}", policy.display()));
    }
    Ok(compiled.policy)
}

fn check(a: &CheckArgs, out: &mut Out) -> CmdResult {
    let policy = compile_files(a.schema.as_ref(), &a.file)?;
    let forbids = policy.rules().filter(|(_, e)| *e == Effect::Forbid).count();
    let permits = policy.len().saturating_sub(forbids);
    outln!(
        out,
        "{}: ok, {permits} permit and {forbids} forbid rules",
        a.file.display()
    );
    outln!(out, "digest {}", hex::encode(policy.digest()));
    Ok(())
}

/// One request attribute converted from JSON; strings and sets borrow from `owned`.
enum Slot {
    Str(String),
    Int(i64),
    Bool(bool),
    Day(Weekday),
    Strs(Vec<String>),
    Ints(Vec<i64>),
}

fn slot_from_json(name: &str, declared: Type, v: &Json) -> Result<Slot, Failure> {
    let bad = || Failure::usage(format!("request attribute `{name}`: unsupported JSON value {v}"));
    Ok(match v {
        Json::String(s) if declared == Type::Weekday => match Weekday::from_name(s) {
            Some(d) => Slot::Day(d),
            None => Slot::Str(s.clone()),
        },
        Json::String(s) => Slot::Str(s.clone()),
        Json::Bool(b) => Slot::Bool(*b),
        Json::Number(n) => Slot::Int(n.as_i64().ok_or_else(bad)?),
        Json::Array(items) if items.iter().all(Json::is_string) => {
            Slot::Strs(items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect())
        }
        Json::Array(items) => Slot::Ints(
            items
                .iter()
                .map(|i| i.as_i64().ok_or_else(bad))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(bad()),
    })
}

/// Reads the request file: at most [`MAX_REQUEST`] bytes of UTF-8 JSON, with no
/// key repeated in any object.
fn read_request(path: &Path) -> Result<Json, Failure> {
    let cannot = |e: std::io::Error| Failure::usage(format!("cannot read `{}`: {}", path.display(), e.kind()));
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(
            std::fs::File::open(path).map_err(cannot)?,
            MAX_REQUEST.saturating_add(1),
        ),
        &mut text,
    )
    .map_err(cannot)?;
    if text.len() as u64 > MAX_REQUEST {
        return Err(Failure::usage(format!(
            "request `{}` is larger than {MAX_REQUEST} bytes",
            path.display()
        )));
    }
    crate::json::parse_strict(&text).map_err(|e| match e {
        StrictError::DuplicateKey(e) => Failure::Rejected(format!("request `{}`: {e}", path.display())),
        StrictError::Syntax(e) => Failure::usage(format!("`{}` is not JSON: {e}", path.display())),
    })
}

fn eval(a: &EvalArgs, out: &mut Out) -> CmdResult {
    let policy = compile_files(a.schema.as_ref(), &a.policy)?;
    let json = read_request(&a.request)?;
    let obj = json
        .as_object()
        .ok_or_else(|| Failure::usage("the request must be a JSON object"))?;
    let refused = |what: String| Failure::Rejected(format!("request `{}`: {what}", a.request.display()));

    let mut slots: Vec<(String, Slot)> = Vec::new();
    for (key, value) in obj {
        match key.as_str() {
            "action" | "resource_type" => {}
            "subject" | "resource" | "context" => {
                let attrs = value
                    .as_object()
                    .ok_or_else(|| Failure::usage(format!("request `{key}` must be an object of attributes")))?;
                for (attr, v) in attrs {
                    let name = format!("{key}.{attr}");
                    let declared = policy.schema().attribute_type(&name).ok_or_else(|| {
                        refused(format!(
                            "attribute `{}`: {}",
                            name.escape_debug(),
                            RequestError::UnknownAttribute
                        ))
                    })?;
                    slots.push((name.clone(), slot_from_json(&name, declared, v)?));
                }
            }
            other => return Err(Failure::usage(format!("unknown request field `{other}`"))),
        }
    }
    let field = |k: &str| -> Result<&str, Failure> {
        obj.get(k)
            .and_then(Json::as_str)
            .ok_or_else(|| Failure::usage(format!("the request needs \"{k}\" as a string")))
    };
    let (action, rtype) = (field("action")?, field("resource_type")?);

    // Sets are passed as slices of &str, which borrow from `slots`.
    let str_sets: Vec<Vec<&str>> = slots
        .iter()
        .map(|(_, s)| match s {
            Slot::Strs(v) => v.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut req = policy.request();
    req.set_action_name(action)
        .map_err(|e| refused(format!("action `{}`: {e}", action.escape_debug())))?;
    req.set_resource_type_name(rtype)
        .map_err(|e| refused(format!("resource type `{}`: {e}", rtype.escape_debug())))?;
    for ((name, slot), strs) in slots.iter().zip(&str_sets) {
        let value = match slot {
            Slot::Str(s) => Value::String(s),
            Slot::Int(n) => Value::Int(*n),
            Slot::Bool(b) => Value::Bool(*b),
            Slot::Day(d) => Value::Weekday(*d),
            Slot::Strs(_) => Value::StringSet(strs),
            Slot::Ints(v) => Value::IntSet(v),
        };
        req.set_named(name, value)
            .map_err(|e| refused(format!("attribute `{}`: {e}", name.escape_debug())))?;
    }
    if a.explain {
        crate::out::eprint(&req.explain().to_string());
    }
    let resp = req.evaluate();
    let decision = resp.decision();
    let errors: Vec<Json> = resp
        .errors()
        .map(|e| json!({"rule": e.rule, "attribute": e.attribute, "error": e.kind.to_string()}))
        .collect();
    let result = json!({
        "decision": if decision == Decision::Allow { "allow" } else { "deny" },
        "rules": resp.rules().collect::<Vec<_>>(),
        "reason": format!("{:?}", resp.reason()),
        "errors": errors,
    });
    outln!(out, "{result}");
    match decision {
        Decision::Allow => Ok(()),
        Decision::Deny => Err(Failure::Rejected("deny".into())),
    }
}

fn make_bundle(a: &BundleArgs, out: &mut Out) -> CmdResult {
    let key = signer(&a.key)?;
    // Compile once here for readable diagnostics (with file names) and warnings.
    compile_files(a.schema.as_ref(), &a.file)?;
    let schema = read_schema_text(a.schema.as_ref())?;
    let policy = read_text(&a.file)?;
    let issued_at = match a.issued_at {
        Some(t) => t,
        None => SystemClock
            .now()
            .ok_or_else(|| Failure::usage("the system clock is before 1970"))?
            .as_unix_seconds(),
    };
    let src = BundleSource {
        schema: &schema,
        policy: &policy,
        version: a.version,
        issued_at,
        scope: &a.scope,
    };
    let bytes = bundle::create(&*key, &src, &PolicyLimits::DEFAULT).map_err(|e| match e {
        BundleError::Compile(d) => Failure::Rejected(report(&a.file, &d)),
        BundleError::InvalidScope => Failure::usage(format!(
            "invalid --scope `{}`: use 1 to 64 ASCII letters, digits and `._:/-`",
            a.scope.escape_debug()
        )),
        other => Failure::Rejected(other.to_string()),
    })?;
    std::fs::write(&a.out, &bytes)
        .map_err(|e| Failure::usage(format!("cannot write `{}`: {}", a.out.display(), e.kind())))?;
    outln!(
        out,
        "wrote {} ({} bytes): version {}, scope {}, issued at {issued_at}",
        a.out.display(),
        bytes.len(),
        a.version,
        a.scope
    );
    Ok(())
}

fn verify_bundle(a: &VerifyBundleArgs, out: &mut Out) -> CmdResult {
    let mut keys = KeySet::new();
    for path in &a.trust {
        keys.insert(verifying_key(path)?)
            .map_err(|e| Failure::usage(format!("`{}`: {e}", path.display())))?;
    }
    let bytes = std::fs::read(&a.bundle)
        .map_err(|e| Failure::usage(format!("cannot read `{}`: {}", a.bundle.display(), e.kind())))?;
    let opts = LoadOptions {
        held_version: a.min_version.and_then(|v| v.checked_sub(1)),
        scope: a.scope.as_deref(),
        ..LoadOptions::default()
    };
    let loaded = match &a.state {
        Some(dir) => {
            let mut store = FileStateStore::open(dir).map_err(|e| Failure::usage(format!("--state: {e}")))?;
            bundle::load_held(
                &PolicySigners::new(&citysec::ring::PROVIDER, keys),
                &bytes,
                &opts,
                &mut store,
            )
        }
        None => bundle::load(&PolicySigners::new(&citysec::ring::PROVIDER, keys), &bytes, &opts),
    };
    let b = loaded.map_err(|e| Failure::Rejected(e.to_string()))?;
    let result = json!({
        "format": b.format(),
        "scope": b.scope(),
        "version": b.version(),
        "issued_at": b.issued_at(),
        "kid": hex::encode(b.kid()),
        "digest": hex::encode(b.digest()),
        "rules": b.policy().len(),
    });
    outln!(out, "{result}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "test code")]

    use super::*;

    #[test]
    fn json_values_follow_the_schema() {
        let day = slot_from_json("context.weekday", Type::Weekday, &json!("tue")).unwrap();
        assert!(matches!(day, Slot::Day(Weekday::Tue)));
        let not_a_day = slot_from_json("context.weekday", Type::Weekday, &json!("someday")).unwrap();
        assert!(matches!(not_a_day, Slot::Str(s) if s == "someday"));
        assert!(matches!(
            slot_from_json("x", Type::Int, &json!(9)).unwrap(),
            Slot::Int(9)
        ));
        assert!(matches!(slot_from_json("x", Type::StringSet, &json!(["a"])).unwrap(), Slot::Strs(v) if v == ["a"]));
        assert!(matches!(slot_from_json("x", Type::IntSet, &json!([1, 2])).unwrap(), Slot::Ints(v) if v == [1, 2]));
        assert!(matches!(slot_from_json("x", Type::StringSet, &json!([])).unwrap(), Slot::Strs(v) if v.is_empty()));
        assert!(slot_from_json("x", Type::Int, &json!(1.5)).is_err());
        assert!(slot_from_json("x", Type::Int, &json!(null)).is_err());
    }
}
