//! A door controller on a Cortex-M4F (thumbv7em-none-eabihf), built on the
//! `no_std` citysec cores and run under QEMU (`netduinoplus2`, an STM32F405).
//!
//! At boot it holds policy version [`HELD_AT_BOOT`]; then it
//!
//! 1. loads the signed policy bundle version 2 (signature, version above the one
//!    held, sources compiled, digest checked);
//! 2. verifies a holder's presentation: the credential inside it (issuer
//!    signature, audience, validity at the door's clock) and the presentation's
//!    signature by the credential's `cnf` key over the reader's challenge, then
//!    evaluates the door request against the policy: allowed at 09:30,
//!    denied at 23:10;
//! 3. refuses a cloned credential: the same credential presented with a key
//!    that is not its holder key;
//! 4. refuses the policy bundle version 1 (validly signed, but a rollback).
//!
//! With the `audit` feature it also records every decision above in its own
//! audit log (`citysec_audit::auditor::Auditor`: records, the subject and
//! credential id committed, the Merkle tree), signs the log's checkpoint through
//! its secure element, and verifies a COSE Receipt from the site log for one of
//! its records (and refuses the same receipt for another record).
//!
//! It prints each decision over semihosting and exits 0 only if every case came
//! out as expected. Then it reports the peak stack (the stack is painted at
//! start and scanned at the end) and the peak heap (counted by the allocator).
//!
//! The inputs are `fixtures/*`, made and checked on the host by `gen/` (the
//! firmware has no signing code). The door's clock is fixed at
//! [`NOW`]: a real door reads its RTC.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use citysec::attest::EvidenceBuilder;
use citysec::door::{Door, LocalTime, RequestFacts};
use citysec_core::audit::AuditEvent;
use citysec_core::provider::Provider;
use citysec_core::provider::SIGNATURE_LEN;
use citysec_core::provider::Signer;
use citysec_core::{Timestamp, VerifyingKey};
use citysec_credential::presentation::Challenge;
use citysec_credential::{Error as CredentialError, VerifiedCredential, Verifier};
use citysec_policy::bundle::{self, Bundle, BundleError, LoadOptions, PolicySigners};
use citysec_policy::{Decision, PolicySet};
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};
use embedded_alloc::LlffHeap;

#[allow(
    dead_code,
    reason = "the scenario file is shared with the generator, which uses other parts"
)]
mod scenario {
    include!("../scenario.rs");
}
use scenario::*;

const ISSUER_PUB: &[u8; 32] = include_bytes!("../fixtures/issuer.pub");
const POLICY_PUB: &[u8; 32] = include_bytes!("../fixtures/policy-signer.pub");
const CREDENTIAL_PRESENTED: &[u8] = include_bytes!("../fixtures/presentation-holder.cbor");
const CREDENTIAL_CLONED: &[u8] = include_bytes!("../fixtures/presentation-cloned.cbor");
const BUNDLE_V1: &[u8] = include_bytes!("../fixtures/bundle-v1.cbor");
const BUNDLE_V2: &[u8] = include_bytes!("../fixtures/bundle-v2.cbor");
const DEVICE_PUB: &[u8; 32] = include_bytes!("../fixtures/device.pub");
/// The evidence the generator signed with the device key: the door's must be
/// these bytes (Ed25519 and the encoder are deterministic).
const EVIDENCE: &[u8] = include_bytes!("../fixtures/evidence.cbor");
#[cfg(feature = "icount")]
const CREDENTIAL: &[u8] = include_bytes!("../fixtures/credential.cbor");
#[cfg(feature = "audit")]
const SITE_LOG_PUB: &[u8; 32] = include_bytes!("../fixtures/site-log.pub");
#[cfg(feature = "audit")]
const AUDIT_RECORD: &[u8] = include_bytes!("../fixtures/audit-record.cbor");
#[cfg(feature = "audit")]
const RECEIPT: &[u8] = include_bytes!("../fixtures/receipt.cbor");
#[cfg(feature = "icount")]
const ADVERSARIAL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/adversarial.cbor"));

// ---------------------------------------------------------------- heap

/// Size of the fixed heap.
const HEAP_SIZE: usize = 16 * 1024;

/// The allocator with a high-water mark of the bytes it had handed out.
struct CountingHeap {
    heap: LlffHeap,
    peak: AtomicUsize,
}

#[expect(
    unsafe_code,
    reason = "GlobalAlloc is an unsafe trait; each method only forwards to the heap"
)]
// SAFETY: forwards to `LlffHeap`, a correct allocator; the counting has no effect
// on the memory handed out.
unsafe impl GlobalAlloc for CountingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let p = unsafe { self.heap.alloc(layout) };
        self.peak.fetch_max(self.heap.used(), Ordering::Relaxed);
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { self.heap.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static HEAP: CountingHeap = CountingHeap {
    heap: LlffHeap::empty(),
    peak: AtomicUsize::new(0),
};

#[expect(unsafe_code, reason = "hands the heap its memory, once, before the first allocation")]
fn init_heap() {
    use core::mem::MaybeUninit;
    static mut MEMORY: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
    // SAFETY: called once at the top of `main`, before anything allocates; MEMORY
    // is used by nothing else.
    unsafe { HEAP.heap.init(core::ptr::addr_of_mut!(MEMORY) as usize, HEAP_SIZE) }
}

// ---------------------------------------------------------------- stack

/// What the free stack is painted with.
const PAINT: u32 = 0xC5C5_C5C5;
/// Bytes left unpainted below the painting function's own stack pointer.
const PAINT_MARGIN: usize = 64;

/// The stack region from cortex-m-rt's linker script: it grows down from
/// `_stack_start` (the top of RAM) to `_stack_end` (the end of `.bss`).
#[expect(unsafe_code, reason = "declares the linker script's symbols")]
fn stack_region() -> (usize, usize) {
    unsafe extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }
    (
        core::ptr::addr_of!(_stack_end) as usize,
        core::ptr::addr_of!(_stack_start) as usize,
    )
}

/// Paints the unused stack below the current stack pointer.
#[expect(unsafe_code, reason = "writes the pattern into the unused part of the stack")]
fn paint_stack() {
    let (bottom, _) = stack_region();
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = bottom;
    while p.saturating_add(PAINT_MARGIN) < sp {
        // SAFETY: [bottom, sp - margin) is the free stack: no object lives there,
        // nothing runs concurrently (no interrupts are enabled), and `p` is
        // word-aligned (`_stack_end` is 4-aligned by the linker script).
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p = p.saturating_add(4);
    }
}

/// The deepest the stack went since [`paint_stack`]: bytes from the top of RAM.
#[expect(unsafe_code, reason = "reads the painted part of the stack")]
fn stack_peak() -> usize {
    let (bottom, top) = stack_region();
    let mut p = bottom;
    // SAFETY: `p` stays in [bottom, top), word-aligned; reading stack memory
    // below the live frames has no side effect.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p = p.saturating_add(4);
    }
    top.saturating_sub(p)
}

// ---------------------------------------------------------------- output

/// The semihosting console (the host's stdout).
struct Console(Option<hio::HostStream>);

impl Console {
    fn open() -> Self {
        Self(hio::hstdout().ok())
    }

    fn put(&mut self, s: &str) -> &mut Self {
        if let Some(out) = &mut self.0 {
            // Output is best effort: a lost line changes no decision.
            let _ = out.write_all(s.as_bytes());
        }
        self
    }

    fn num(&mut self, n: usize) -> &mut Self {
        let mut buf = [0u8; 20];
        let mut at = buf.len();
        let mut n = n;
        loop {
            at = at.saturating_sub(1);
            if let (Some(slot), Ok(digit)) = (buf.get_mut(at), u8::try_from(n % 10)) {
                *slot = b'0'.saturating_add(digit);
            }
            n /= 10;
            if n == 0 || at == 0 {
                break;
            }
        }
        self.put(core::str::from_utf8(buf.get(at..).unwrap_or_default()).unwrap_or("?"))
    }

    fn line(&mut self, s: &str) -> &mut Self {
        self.put(s).put("\n")
    }
}

// ---------------------------------------------------------------- crypto

/// The door only verifies: `citysec_rustcrypto::VERIFY_ONLY` holds the Ed25519
/// verifier and nothing else (no signer, AEAD, HKDF or X25519), which keeps
/// that code and its tables out of flash. It is bound once into the verifiers.
const PROVIDER: &Provider = &citysec_rustcrypto::VERIFY_ONLY;

// ---------------------------------------------------------------- the device key

/// The door's device key behind [`Signer`]: the seam a secure element (ATECC608,
/// SE050, a TPM) fills. Its driver would send the message digest to the chip and
/// read the signature back; this emulation, for QEMU's board that has no such
/// chip, keeps the key in this struct and signs with ed25519-dalek. Nothing
/// else in the firmware sees the key: evidence is signed through the trait.
struct SecureElement {
    key: ed25519_dalek::SigningKey,
    public: VerifyingKey,
}

impl core::fmt::Debug for SecureElement {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecureElement")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SecureElement {
    /// The element provisioned with the scenario's device key.
    fn provisioned() -> Result<Self, citysec_core::Error> {
        let key = ed25519_dalek::SigningKey::from_bytes(&DEVICE_SEED);
        let public = VerifyingKey::ed25519(key.verifying_key().as_bytes())?.with_kid(DEVICE_KID);
        Ok(Self { key, public })
    }
}

impl Signer for SecureElement {
    fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> citysec_core::Result<[u8; SIGNATURE_LEN]> {
        Ok(ed25519_dalek::Signer::sign(&self.key, msg).to_bytes())
    }
}

// ---------------------------------------------------------------- the audit log

/// The door's audit log and what it takes to write it.
#[cfg(feature = "audit")]
mod audit {
    use alloc::boxed::Box;

    use citysec_audit::auditor::{Auditor, RamSideTable};
    use citysec_audit::log::{ControllerLog, RamStore, WhenFull};
    use citysec_audit::merkle::leaf_hash;
    use citysec_audit::note::NoteSigner;
    use citysec_audit::receipt::Receipt;
    use citysec_core::audit::AuditEvent;
    use citysec_core::provider::Provider;
    use citysec_core::{FixedClock, RandomSource, Timestamp, VerifyingKey};

    use super::{AUDIT_RECORD, RECEIPT, SITE_LOG_PUB, SecureElement};
    use crate::scenario::{DOOR, DOOR_LOG, NOW, SITE_LOG_KID};

    /// The provider for the log: the Ed25519 verifier and HKDF-SHA-256 (for
    /// pseudonyms), still nothing that reads a secret key.
    const PROVIDER: &Provider = &citysec_rustcrypto::PROVIDER;

    /// The door's random source: on a real door, its TRNG (the STM32F405 has
    /// one). QEMU's board model gives no entropy, so this emulation is a
    /// fixed-seed SplitMix64: salts in this run are predictable. NOT FOR
    /// PRODUCTION.
    #[derive(Debug)]
    pub(crate) struct TrngEmulation(u64);

    impl RandomSource for TrngEmulation {
        fn fill(&mut self, buf: &mut [u8]) -> citysec_core::Result<()> {
            for chunk in buf.chunks_mut(8) {
                self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = self.0;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                for (b, v) in chunk.iter_mut().zip(z.to_le_bytes()) {
                    *b = v;
                }
            }
            Ok(())
        }
    }

    /// The door's log: records in RAM (at most 16, 4 KiB), denying when full;
    /// disclosures in a side table of 16.
    pub(crate) type Log = Auditor<RamStore, RamSideTable>;

    /// A new, empty log.
    pub(crate) fn log() -> Result<Log, citysec_audit::Error> {
        let records = ControllerLog::new(DOOR_LOG, RamStore::new(16, 4096), WhenFull::Deny)?;
        Auditor::new(
            records,
            RamSideTable::new(16),
            DOOR,
            PROVIDER,
            [0x5e; 32],
            Box::new(TrngEmulation(0x0d00_0017)),
            Box::new(FixedClock(Timestamp::from_unix_seconds(NOW))),
        )
    }

    /// Records `event`; `Err` if the log did not keep it (the door then denies).
    pub(crate) fn record(log: &mut Log, at: u64, event: &AuditEvent<'_>) -> Result<(), &'static str> {
        match log.append_event(Some(Timestamp::from_unix_seconds(at)), event) {
            Ok(citysec_audit::log::Appended::Logged(_)) => Ok(()),
            _ => Err("not recorded"),
        }
    }

    /// Signs the log's checkpoint with the secure element (the gateway verifies
    /// it, not the door); returns the tree size and the note's length.
    pub(crate) fn checkpoint(log: &Log, element: &SecureElement) -> Result<(u64, usize), &'static str> {
        let signer = NoteSigner::new(DOOR_LOG, element).map_err(|_| "note key")?;
        let note = log
            .log()
            .signed_checkpoint(&signer)
            .map_err(|_| "checkpoint not signed")?;
        let text = log.log().checkpoint().map_err(|_| "checkpoint")?.to_text();
        if !note.as_bytes().starts_with(text.as_bytes()) {
            return Err("the note does not carry the checkpoint");
        }
        Ok((log.log().size(), note.len()))
    }

    /// The site log's receipt key.
    fn site_key() -> Result<VerifyingKey, &'static str> {
        VerifyingKey::ed25519(SITE_LOG_PUB)
            .map(|k| k.with_kid(SITE_LOG_KID))
            .map_err(|_| "site log key")
    }

    /// Verifies the site log's receipt for `record`; returns the claimed tree
    /// size (not signed: the root is what the signature covers).
    pub(crate) fn verify_receipt(record: &[u8]) -> Result<u64, citysec_audit::Error> {
        let key = site_key().map_err(|_| citysec_audit::Error::InvalidKey)?;
        Receipt::parse(RECEIPT)?
            .verify_inclusion(PROVIDER, &key, &leaf_hash(record))
            .map(|v| v.claimed_tree_size())
    }

    /// The record the receipt is for.
    pub(crate) const RECORD: &[u8] = AUDIT_RECORD;
}

// ---------------------------------------------------------------- the door

/// The door's decision for a verified credential at `t` (the door's local time
/// is UTC), and the id of the rule that made it (empty: no rule applied, the
/// default deny). The request is built by the library's door glue
/// (`RequestFacts`, as `DoorAuthority::decide` builds it), from verified data
/// only; this controller checks no attestation result, so no trusted device.
fn decide(policy: &PolicySet, cred: &VerifiedCredential, t: u64) -> Result<(Decision, String), &'static str> {
    let door = Door::new(DOOR, DOOR_ZONE, DOOR.as_bytes());
    let time = LocalTime::at(Timestamp::from_unix_seconds(t), 0);
    let facts = RequestFacts::new(&door, cred, None, time, 0);
    let mut req = policy.request();
    facts
        .fill(&mut req, policy)
        .map_err(|_| "policy lacks the door's action or resource type")?;
    let response = req.evaluate();
    let rule = String::from(response.rules().next().unwrap_or_default());
    Ok((response.decision(), rule))
}

fn credential_error(e: &CredentialError) -> &'static str {
    match e {
        CredentialError::Core(citysec_core::Error::BadSignature) => "refused: bad signature",
        CredentialError::Core(citysec_core::Error::UnknownKey) => "refused: unknown issuer key",
        CredentialError::Core(_) => "refused: malformed token",
        CredentialError::Expired => "refused: credential expired",
        CredentialError::NotYetValid => "refused: credential not yet valid",
        CredentialError::WrongAudience | CredentialError::MissingAudience => "refused: credential not for this door",
        CredentialError::ChallengeMismatch => "refused: presentation answers another challenge",
        CredentialError::ChallengeExpired => "refused: challenge expired",
        _ => "refused",
    }
}

fn bundle_error(e: &BundleError) -> &'static str {
    match e {
        BundleError::Rollback { .. } => "refused: rollback (version not above the one held)",
        BundleError::Cose(citysec_core::Error::BadSignature) => "refused: bad signature",
        BundleError::Cose(_) => "refused: malformed or untrusted bundle",
        BundleError::DigestMismatch => "refused: compiled form differs from the signed digest",
        BundleError::Compile(_) => "refused: policy does not compile",
        _ => "refused",
    }
}

/// How the cases came out, and the deepest stack of any of them.
#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    total: usize,
    stack: usize,
}

impl Tally {
    /// Records one case and prints it, with the stack it took (the stack is
    /// painted again for the next case).
    fn case(&mut self, out: &mut Console, name: &str, ok: bool, what: &str, detail: &str) {
        self.total = self.total.saturating_add(1);
        if ok {
            self.passed = self.passed.saturating_add(1);
        }
        let stack = stack_peak();
        paint_stack();
        self.stack = self.stack.max(stack);
        out.put(if ok { "[ok]   " } else { "[FAIL] " })
            .put(name)
            .put(": ")
            .put(what);
        if !detail.is_empty() {
            out.put(" (").put(detail).put(")");
        }
        out.put("  [stack ").num(stack).line(" B]");
    }
}

/// Where the door records its decisions: its audit log with the `audit`
/// feature, nowhere without it.
struct Recorder {
    #[cfg(feature = "audit")]
    log: Option<audit::Log>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            #[cfg(feature = "audit")]
            log: audit::log().ok(),
        }
    }

    /// Records `event` at `at`; `false` if the log did not keep it.
    #[cfg_attr(
        not(feature = "audit"),
        expect(unused_variables, reason = "no log without the feature")
    )]
    fn record(&mut self, at: u64, event: &AuditEvent<'_>) -> bool {
        #[cfg(feature = "audit")]
        {
            self.log
                .as_mut()
                .is_some_and(|log| audit::record(log, at, event).is_ok())
        }
        #[cfg(not(feature = "audit"))]
        true
    }
}

/// Runs the cases.
fn run(out: &mut Console, t: &mut Tally) {
    let mut rec = Recorder::new();
    let key = |raw: &[u8; 32], kid: &[u8]| VerifyingKey::ed25519(raw).map(|k| k.with_kid(kid));
    let (Ok(issuer_key), Ok(policy_key)) = (key(ISSUER_PUB, ISSUER_KID), key(POLICY_PUB, POLICY_KID)) else {
        t.case(out, "setup", false, "a fixture public key does not import", "");
        return;
    };
    let Ok(verifier) = Verifier::new(PROVIDER)
        .trust(ISSUER, issuer_key)
        .map(|v| v.audience(DOOR))
    else {
        t.case(out, "setup", false, "cannot trust the issuer key", "");
        return;
    };
    let Ok(trusted) = PolicySigners::from_keys(PROVIDER, [policy_key]) else {
        t.case(out, "setup", false, "cannot trust the policy key", "");
        return;
    };

    // 1. A policy update: version 2 while holding version 1.
    let name = "policy bundle v2, holding v1";
    let opts = LoadOptions::default().holding(HELD_AT_BOOT).scoped(SCOPE);
    let bundle: Bundle = match bundle::load(&trusted, BUNDLE_V2, &opts) {
        Ok(b) => {
            let installed = AuditEvent::PolicyBundle {
                version: b.version(),
                installed: true,
                reason: None,
            };
            let ok = rec.record(NOW, &installed);
            t.case(out, name, ok, "loaded", "signature, scope, version, compiled digest");
            b
        }
        Err(e) => return t.case(out, name, false, bundle_error(&e), ""),
    };
    let policy = bundle.policy();

    // 2. The holder answers the reader's challenge with the credential, signed by
    //    the key the credential binds; the door decides by day and by night.
    let challenge = Challenge::from_parts(CHALLENGE_NONCE, DOOR, Timestamp::from_unix_seconds(CHALLENGE_AT));
    let now = Timestamp::from_unix_seconds(NOW);
    let name = "holder's credential and presentation";
    match verifier.verify_presentation(CREDENTIAL_PRESENTED, &challenge, now, CHALLENGE_MAX_AGE, &[]) {
        Ok(cred) => {
            let sub = cred.claims().sub.as_deref().unwrap_or_default();
            t.case(out, name, true, "verified", sub);
            for (name, at, want) in [
                ("door request at 09:30", NOW, Decision::Allow),
                ("door request at 23:10", NIGHT, Decision::Deny),
            ] {
                match decide(policy, &cred, at) {
                    Ok((decision, rule)) => {
                        // The door opens only once the decision is on record.
                        let recorded = rec.record(
                            at,
                            &AuditEvent::DoorDecision {
                                door: DOOR,
                                allowed: decision == Decision::Allow,
                                step: "policy",
                                reason: None,
                                rule: (!rule.is_empty()).then_some(rule.as_str()),
                                issuer: Some(cred.issuer()),
                                subject: cred.claims().sub.as_deref(),
                                credential_id: cred.claims().cti.as_deref(),
                                device: None,
                            },
                        );
                        let decision = if recorded { decision } else { Decision::Deny };
                        let what = if decision == Decision::Allow { "ALLOW" } else { "DENY" };
                        let by = if rule.is_empty() {
                            "no rule permits: default deny"
                        } else {
                            &rule
                        };
                        t.case(out, name, decision == want && recorded, what, by);
                    }
                    Err(e) => t.case(out, name, false, e, ""),
                }
            }
        }
        Err(e) => t.case(out, name, false, credential_error(&e), ""),
    }

    // 3. A cloned credential: the same credential, presented with another key.
    let name = "cloned credential";
    match verifier.verify_presentation(CREDENTIAL_CLONED, &challenge, now, CHALLENGE_MAX_AGE, &[]) {
        Err(e @ CredentialError::Core(citysec_core::Error::BadSignature)) => {
            let refused = AuditEvent::CredentialRefused {
                door: DOOR,
                reason: credential_error(&e),
            };
            let ok = rec.record(NOW, &refused);
            t.case(
                out,
                name,
                ok,
                credential_error(&e),
                "presentation not signed by the cnf key",
            );
        }
        Err(e) => t.case(out, name, false, credential_error(&e), ""),
        Ok(_) => t.case(out, name, false, "ACCEPTED", ""),
    }

    // 4. A rollback: the validly signed version 1 while holding version 2.
    let name = "policy bundle v1, holding v2";
    let opts = LoadOptions::default().holding(bundle.version()).scoped(SCOPE);
    match bundle::load(&trusted, BUNDLE_V1, &opts) {
        Err(e @ BundleError::Rollback { version, .. }) => {
            let refused = AuditEvent::PolicyBundle {
                version,
                installed: false,
                reason: Some(bundle_error(&e)),
            };
            let ok = rec.record(NOW, &refused);
            t.case(out, name, ok, bundle_error(&e), "");
        }
        Err(e) => t.case(out, name, false, bundle_error(&e), ""),
        Ok(_) => t.case(out, name, false, "LOADED", ""),
    }

    // 5. Evidence for the attestation verifier's nonce, signed by the device key
    //    through the `Signer` seam, into a stack buffer; checked against the
    //    generator's bytes and the device's public key.
    let name = "evidence for the verifier's nonce";
    let (what, ok) = match attest() {
        Ok(n) if n == EVIDENCE.len() => ("signed by the device key (secure-element seam)", true),
        Ok(_) => ("evidence differs from the fixture", false),
        Err(e) => (e, false),
    };
    t.case(out, name, ok, what, "");

    #[cfg(feature = "audit")]
    audit_cases(out, t, &rec);
}

/// The audit cases: the door's checkpoint over the five records above, signed
/// by its secure element; the site log's receipt for one of its records; the
/// same receipt offered for another record.
#[cfg(feature = "audit")]
fn audit_cases(out: &mut Console, t: &mut Tally, rec: &Recorder) {
    let name = "door log checkpoint";
    let signed = match (&rec.log, SecureElement::provisioned()) {
        (Some(log), Ok(element)) => audit::checkpoint(log, &element),
        _ => Err("no log or no secure element"),
    };
    match signed {
        Ok((5, _)) => t.case(out, name, true, "5 records, signed by the secure element", ""),
        Ok(_) => t.case(out, name, false, "another number of records", ""),
        Err(e) => t.case(out, name, false, e, ""),
    }
    let name = "site log receipt for the 09:30 record";
    match audit::verify_receipt(audit::RECORD) {
        Ok(size) if size == SITE_LOG_SIZE => {
            t.case(out, name, true, "verified", "20-hash proof, site log signature");
        }
        Ok(_) => t.case(out, name, false, "another tree size", ""),
        Err(_) => t.case(out, name, false, "refused", ""),
    }
    let name = "the same receipt for another record";
    match audit::verify_receipt(b"door-17 opened for mallory") {
        Err(citysec_audit::Error::BadSignature) => {
            t.case(out, name, true, "refused", "the root it leads to is not signed")
        }
        Err(_) => t.case(out, name, false, "refused for another reason", ""),
        Ok(_) => t.case(out, name, false, "ACCEPTED", ""),
    }
}

/// Signs the door's evidence with its secure element and checks it: the
/// fixture's bytes exactly, and a valid signature by the device's public key.
/// Returns the evidence length.
fn attest() -> Result<usize, &'static str> {
    let element = SecureElement::provisioned().map_err(|_| "device key")?;
    let builder = EvidenceBuilder::new(&DEVICE_UEID)
        .hwmodel(DEVICE_HWMODEL)
        .nonce(&ATTEST_NONCE)
        .iat(Timestamp::from_unix_seconds(NOW));
    let mut buf = [0u8; 256];
    let n = builder.sign(&element, &mut buf).map_err(|_| "evidence not signed")?;
    let evidence = buf.get(..n).ok_or("evidence not signed")?;
    if evidence != EVIDENCE {
        return Err("evidence differs from the fixture");
    }
    let public = VerifyingKey::ed25519(DEVICE_PUB)
        .map_err(|_| "device key")?
        .with_kid(DEVICE_KID);
    if public != *element.verifying_key() {
        return Err("device key differs from the fixture");
    }
    citysec_core::sign1::verify_with_key(PROVIDER, &public, evidence, &Default::default())
        .map_err(|_| "evidence signature does not verify")?;
    Ok(n)
}

// ---------------------------------------------------------------- instruction counts

/// SysTick wraps (each 2^24 ticks), counted by its exception.
#[cfg(feature = "icount")]
static WRAPS: AtomicUsize = AtomicUsize::new(0);

#[cfg(feature = "icount")]
#[cortex_m_rt::exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// SysTick ticks since [`icount`] started it (wraps included).
#[cfg(feature = "icount")]
fn ticks() -> u64 {
    loop {
        let before = WRAPS.load(Ordering::Relaxed);
        let current = cortex_m::peripheral::SYST::get_current();
        if WRAPS.load(Ordering::Relaxed) == before {
            let wraps = u64::try_from(before).unwrap_or(u64::MAX);
            return wraps
                .saturating_mul(1 << 24)
                .saturating_add(u64::from(0x00ff_ffff_u32.saturating_sub(current)));
        }
    }
}

/// Instruction counts under QEMU `-icount shift=0` (every instruction takes the
/// same virtual time, which SysTick counts): a calibration loop of a known number
/// of instructions, the valid credential and the adversarial one, each through
/// `Verifier::verify` (the adversarial one is refused before the signature), and
/// one receipt of the site log verified.
#[cfg(feature = "icount")]
fn icount(out: &mut Console) -> bool {
    let Some(mut p) = cortex_m::Peripherals::take() else {
        out.line("icount: peripherals taken");
        return false;
    };
    p.SYST.set_clock_source(cortex_m::peripheral::syst::SystClkSource::Core);
    p.SYST.set_reload(0x00ff_ffff);
    p.SYST.clear_current();
    p.SYST.enable_interrupt();
    p.SYST.enable_counter();

    // `asm::delay(n)` runs n/2 iterations of `subs; bne`: n instructions.
    const CALIBRATION: u32 = 20_000_000;
    let t0 = ticks();
    cortex_m::asm::delay(CALIBRATION);
    let calib = ticks().saturating_sub(t0).max(1);
    let insns = |t: u64| t.saturating_mul(u64::from(CALIBRATION)).checked_div(calib).unwrap_or(0);
    let num = |out: &mut Console, n: u64| {
        out.num(usize::try_from(n).unwrap_or(usize::MAX));
    };

    let Ok(verifier) = VerifyingKey::ed25519(ISSUER_PUB)
        .map(|k| k.with_kid(ISSUER_KID))
        .and_then(|k| {
            Verifier::new(PROVIDER)
                .trust(ISSUER, k)
                .map_err(|_| citysec_core::Error::InvalidKey)
        })
        .map(|v| v.audience(DOOR))
    else {
        out.line("icount: cannot set up the verifier");
        return false;
    };
    let now = Timestamp::from_unix_seconds(NOW);
    let mut ok = true;
    for (name, token) in [
        ("valid credential", CREDENTIAL),
        ("adversarial credential", ADVERSARIAL),
    ] {
        let t0 = ticks();
        let result = verifier.verify(token, now, &[]);
        let t = ticks().saturating_sub(t0);
        let expected = matches!(
            (name, &result),
            ("valid credential", Ok(_))
                | (
                    "adversarial credential",
                    Err(CredentialError::Core(citysec_core::Error::DuplicateMapKey))
                )
        );
        ok &= expected;
        out.put("icount ").put(name).put(" (").num(token.len()).put(" bytes): ");
        num(out, insns(t));
        out.put(" instructions (")
            .put(if result.is_ok() {
                "accepted"
            } else {
                credential_error_or_dup(&result)
            })
            .put(if expected { ")" } else { ", UNEXPECTED)" })
            .line("");
    }
    // One receipt: parse, 20 node hashes up to the root, one Ed25519 verify.
    let t0 = ticks();
    let receipt = audit::verify_receipt(audit::RECORD);
    let t = ticks().saturating_sub(t0);
    let expected = receipt == Ok(SITE_LOG_SIZE);
    ok &= expected;
    out.put("icount receipt (")
        .num(RECEIPT.len())
        .put(" bytes, 20-hash proof): ");
    num(out, insns(t));
    out.put(" instructions (")
        .put(if expected { "verified)" } else { "UNEXPECTED)" })
        .line("");
    out.put("icount calibration: ")
        .num(usize::try_from(CALIBRATION).unwrap_or(0))
        .put(" instructions = ");
    num(out, calib);
    out.line(" SysTick ticks");
    ok
}

#[cfg(feature = "icount")]
fn credential_error_or_dup(r: &Result<VerifiedCredential, CredentialError>) -> &'static str {
    match r {
        Err(CredentialError::Core(citysec_core::Error::DuplicateMapKey)) => "refused: duplicate map key",
        Err(e) => credential_error(e),
        Ok(_) => "accepted",
    }
}

#[entry]
fn main() -> ! {
    paint_stack();
    init_heap();
    let mut out = Console::open();
    out.line("citysec firmware-door: door-17 (zone office), policy held at boot: v1");
    let mut tally = Tally::default();
    run(&mut out, &mut tally);
    #[cfg(feature = "icount")]
    {
        let ok = icount(&mut out);
        tally.total = tally.total.saturating_add(1);
        if ok {
            tally.passed = tally.passed.saturating_add(1);
        }
    }
    let Tally { passed, total, stack } = tally;
    out.put("stack peak bytes: ").num(stack.max(stack_peak())).put("\n");
    out.put("heap size bytes: ").num(HEAP_SIZE).put("\n");
    out.put("heap peak bytes: ")
        .num(HEAP.peak.load(Ordering::Relaxed))
        .put("\n");
    out.put("cases: ")
        .num(passed)
        .put(" passed, ")
        .num(total.saturating_sub(passed))
        .line(" failed");
    let status = if passed == total && total > 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    };
    debug::exit(status);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // No message formatting (it would pull core::fmt into flash): say it and stop.
    Console::open().line("panic");
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
