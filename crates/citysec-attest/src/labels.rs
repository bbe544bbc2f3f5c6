//! Every claim key, profile name and code point this crate reads or writes, in one place.
//!
//! EAT claim keys are those of RFC 9711 (IANA "CBOR Web Token (CWT) Claims"); the EAR
//! keys are the values requested by draft-ietf-rats-ear; the trustworthiness claim
//! values are those of draft-ietf-rats-ar4si. Keys in the private-use range (below
//! -65536, RFC 8392 section 9.1) are citysec's own.

/// `aud` (RFC 8392): who a result is for.
pub const AUD: i64 = 3;
/// `exp` (RFC 8392): when a result stops being good.
pub const EXP: i64 = 4;
/// `iat` (RFC 8392): when the evidence or result was made.
pub const IAT: i64 = 6;
/// `eat_nonce` (RFC 9711): the verifier's challenge, 8..=64 bytes.
pub const EAT_NONCE: i64 = 10;
/// `ueid` (RFC 9711): the device's universal entity id, 7..=33 bytes.
pub const UEID: i64 = 256;
/// `oemid` (RFC 9711): the manufacturer (3-byte IEEE OUI, 16 random bytes, or a PEN).
pub const OEMID: i64 = 258;
/// `hwmodel` (RFC 9711): the hardware model, 1..=32 bytes.
pub const HWMODEL: i64 = 259;
/// `hwversion` (RFC 9711): `[version: tstr, ? scheme: int]`.
pub const HWVERSION: i64 = 260;
/// `uptime` (RFC 9711): seconds since boot.
pub const UPTIME: i64 = 261;
/// `oemboot` (RFC 9711): whether the boot chain is authorized by the OEM.
pub const OEMBOOT: i64 = 262;
/// `dbgstat` (RFC 9711): the debug status, 0..=4.
pub const DBGSTAT: i64 = 263;
/// `eat_profile` (RFC 9711): which profile the claims follow.
pub const EAT_PROFILE: i64 = 265;
/// `submods` (RFC 9711): a map of submodule name to claims set.
pub const SUBMODS: i64 = 266;
/// `bootcount` (RFC 9711): how many times the device booted.
pub const BOOTCOUNT: i64 = 267;
/// `swname` (RFC 9711): the firmware's name.
pub const SWNAME: i64 = 270;
/// `swversion` (RFC 9711): `[version: tstr, ? scheme: int]`.
pub const SWVERSION: i64 = 271;
/// `measurements` (RFC 9711): `[+ [content-type, bstr]]`.
pub const MEASUREMENTS: i64 = 273;

/// `ear.status` (draft-ietf-rats-ear): the overall trust tier.
pub const EAR_STATUS: i64 = 1000;
/// `ear.trustworthiness-vector` (draft-ietf-rats-ear).
pub const EAR_TRUST_VECTOR: i64 = 1001;
/// `ear.raw-evidence` (draft-ietf-rats-ear).
pub const EAR_RAW_EVIDENCE: i64 = 1002;
/// `ear.appraisal-policy-ids` (draft-ietf-rats-ear).
pub const EAR_APPRAISAL_POLICY_IDS: i64 = 1003;
/// `ear.verifier-id` (draft-ietf-rats-ear): `{0: developer, 1: build}`.
pub const EAR_VERIFIER_ID: i64 = 1004;
/// `ear.verifier-id` field `developer` (draft-ietf-rats-ar4si).
pub const VERIFIER_ID_DEVELOPER: i64 = 0;
/// `ear.verifier-id` field `build` (draft-ietf-rats-ar4si).
pub const VERIFIER_ID_BUILD: i64 = 1;

/// citysec: the reasons of an appraisal, an EAR appraisal extension (a map, as the
/// draft requires of extensions): `{* uint => [check: tstr, tier: int, detail: tstr]}`,
/// keyed 0, 1, 2, ... in the order of the checks.
pub const CITYSEC_REASONS: i64 = -65601;

/// `eat_profile` of citysec evidence.
pub const EVIDENCE_PROFILE: &str = "tag:github.com,2026:citysec/eat-evidence/1";
/// `eat_profile` of a citysec endorsement (a manufacturer's CWT).
pub const ENDORSEMENT_PROFILE: &str = "tag:github.com,2026:citysec/endorsement/1";
/// `eat_profile` of an attestation result: EAR, draft-ietf-rats-ear-04, as the
/// `ear` crate 0.6.0 (Veraison) writes and reads it. (The copy of the draft in
/// the repository's references still says `#03`; the crate is the interop target.)
pub const RESULT_PROFILE: &str = "tag:ietf.org,2026:rats/ear#04";
/// `eat_profile` of the appraisal (the `submods` entry) in a citysec attestation
/// result: it names the citysec extension the appraisal carries (`citysec.reasons`).
pub const APPRAISAL_PROFILE: &str = "tag:github.com,2026:citysec/appraisal/2";
/// The `submods` label of the one appraisal in a citysec attestation result: the
/// device whose evidence was appraised.
pub const RESULT_SUBMODULE: &str = "device";

/// The CoAP content-format citysec puts in each `measurements` entry: a measured
/// component (draft-ietf-rats-eat-measured-component, whose content-format is not yet
/// assigned), so a value from the experimental range (RFC 7252 section 12.3).
pub const MEASUREMENT_CONTENT_FORMAT: u64 = 65000;
/// Measured component field `id`: `[name: tstr, ? version]`.
pub const MEASURED_COMPONENT_ID: i64 = 1;
/// Measured component field `measurement`: `[alg, digest]`.
pub const MEASURED_COMPONENT_MEASUREMENT: i64 = 2;
/// The "Named Information Hash Algorithm" id of SHA-256, the one digest citysec accepts.
pub const HASH_ALG_SHA256: i64 = 1;

/// Trust tier `none` (draft-ietf-rats-ar4si).
pub const TIER_NONE: i64 = 0;
/// Trust tier `affirming`.
pub const TIER_AFFIRMING: i64 = 2;
/// Trust tier `warning`.
pub const TIER_WARNING: i64 = 32;
/// Trust tier `contraindicated`.
pub const TIER_CONTRAINDICATED: i64 = 96;

/// Trustworthiness vector keys (draft-ietf-rats-ar4si).
pub mod vector {
    /// `instance-identity`.
    pub const INSTANCE_IDENTITY: i64 = 0;
    /// `configuration`.
    pub const CONFIGURATION: i64 = 1;
    /// `executables`.
    pub const EXECUTABLES: i64 = 2;
    /// `file-system`.
    pub const FILE_SYSTEM: i64 = 3;
    /// `hardware`.
    pub const HARDWARE: i64 = 4;
    /// `runtime-opaque`.
    pub const RUNTIME_OPAQUE: i64 = 5;
    /// `storage-opaque`.
    pub const STORAGE_OPAQUE: i64 = 6;
    /// `sourced-data`.
    pub const SOURCED_DATA: i64 = 7;
}

/// Trustworthiness claim values this appraiser uses (draft-ietf-rats-ar4si).
pub mod claim {
    /// instance-identity: the device is recognized and its key endorsed.
    pub const TRUSTWORTHY_INSTANCE: i8 = 2;
    /// configuration: a known and approved configuration.
    pub const APPROVED_CONFIG: i8 = 2;
    /// configuration: known vulnerabilities (warning tier).
    pub const UNSAFE_CONFIG: i8 = 32;
    /// configuration: unacceptable vulnerabilities (contraindicated tier).
    pub const UNSUPPORTABLE_CONFIG: i8 = 96;
    /// executables: only approved boot and run-time executables.
    pub const APPROVED_RUNTIME: i8 = 2;
    /// executables: executables that are not recognized (warning tier).
    pub const UNRECOGNIZED_RUNTIME: i8 = 33;
    /// executables: contraindicated executables.
    pub const CONTRAINDICATED_RUNTIME: i8 = 96;
    /// hardware: genuine hardware.
    pub const GENUINE_HARDWARE: i8 = 2;
}

/// Names of the checks in an attestation result's reasons.
pub mod check {
    /// The firmware version against the accepted versions and the anti-rollback minimum.
    pub const SWVERSION: &str = "swversion";
    /// One measured component against its expected digest.
    pub const MEASUREMENT: &str = "measurement";
    /// The debug status.
    pub const DBGSTAT: &str = "dbgstat";
    /// Whether the boot chain is OEM-authorized.
    pub const OEMBOOT: &str = "oemboot";
}
