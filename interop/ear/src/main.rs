//! The `ear` crate (Veraison's EAR reference implementation, 0.6.0) on the other
//! side of citysec's attestation results, driven by citysec-attest's
//! `ear_interop` tests.
//!
//! ```text
//! citysec-ear-interop verify <EdDSA|ES256> <public-key-hex> <token-file>
//!     Verifies a COSE EAR with `Ear::from_cose_jwk` (the key as a JWK built from
//!     the raw public key: 32 bytes Ed25519, or the 65-byte uncompressed P-256
//!     point). Prints `status <tier>` and one `submod <name> <tier>` per
//!     appraisal, exit 0; or `refused <reason>`, exit 1.
//! citysec-ear-interop sign <EdDSA|ES256> <private-key-pem-file> <status> <submod> <nonce-hex> <iat> <out-file>
//!     Writes a COSE EAR made by `ear`: one appraisal named <submod> with
//!     <status> (affirming or contraindicated) and a matching trustworthiness
//!     vector, the nonce, iat, and no exp, aud, iss or ueid (as Veraison does).
//! ```
//!
//! `ear` panics instead of returning an error on some bad input (a bad
//! signature, a wrong key), so verification runs under `catch_unwind`; the
//! negative cases of the interop are checked on citysec's side.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ear::{Algorithm, Appraisal, EAR_PROFILE, Ear, Nonce, TrustTier, claim};

fn alg(name: &str) -> Result<Algorithm, String> {
    match name {
        "EdDSA" => Ok(Algorithm::EdDSA),
        "ES256" => Ok(Algorithm::ES256),
        other => Err(format!("unsupported algorithm {other}")),
    }
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err("odd hex".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

fn jwk(alg: &str, public: &[u8]) -> Result<String, String> {
    match (alg, public.len()) {
        ("EdDSA", 32) => Ok(format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(public)
        )),
        ("ES256", 65) if public[0] == 4 => Ok(format!(
            r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(&public[1..33]),
            URL_SAFE_NO_PAD.encode(&public[33..])
        )),
        _ => Err("public key does not fit the algorithm".into()),
    }
}

fn verify(args: &[String]) -> Result<String, String> {
    let [a, key, file] = args else {
        return Err("verify <alg> <public-key-hex> <token-file>".into());
    };
    let token = std::fs::read(file).map_err(|e| e.to_string())?;
    let jwk = jwk(a, &unhex(key)?)?;
    let algorithm = alg(a)?;
    let ear = match catch_unwind(AssertUnwindSafe(|| {
        Ear::from_cose_jwk(&token, algorithm, jwk.as_bytes())
    })) {
        Ok(Ok(ear)) => ear,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("ear panicked".into()),
    };
    let mut out = format!("profile {}\n", ear.profile);
    if let Some(status) = ear.status {
        out.push_str(&format!("status {status}\n"));
    }
    for (name, appraisal) in &ear.submods {
        out.push_str(&format!("submod {name} {}\n", appraisal.status));
    }
    Ok(out)
}

fn sign(args: &[String]) -> Result<String, String> {
    let [a, pem_file, status, submod, nonce, iat, out] = args else {
        return Err("sign <alg> <pem-file> <status> <submod> <nonce-hex> <iat> <out-file>".into());
    };
    let pem = std::fs::read(pem_file).map_err(|e| e.to_string())?;
    let mut appraisal = Appraisal::new();
    appraisal
        .trust_vector
        .instance_identity
        .set(claim::TRUSTWORTHY_INSTANCE);
    appraisal.trust_vector.hardware.set(claim::GENUINE_HARDWARE);
    match status.as_str() {
        "affirming" => appraisal.trust_vector.executables.set(claim::APPROVED_RUNTIME),
        "contraindicated" => appraisal.trust_vector.executables.set(claim::CONTRAINDICATED_RUNTIME),
        other => return Err(format!("unsupported status {other}")),
    }
    appraisal.update_status_from_trust_vector();
    let mut ear = Ear::new();
    ear.profile = EAR_PROFILE.to_string();
    ear.iat = iat.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
    ear.vid.developer = "https://veraison.example".into();
    ear.vid.build = "ear 0.6.0".into();
    ear.nonce = Some(Nonce::try_from(unhex(nonce)?.as_slice()).map_err(|e| e.to_string())?);
    ear.status = Some(appraisal.status);
    ear.submods.insert(submod.clone(), appraisal);
    let token = ear.sign_cose_pem(alg(a)?, &pem).map_err(|e| e.to_string())?;
    std::fs::write(out, &token).map_err(|e| e.to_string())?;
    let tier: TrustTier = ear.status.unwrap_or(TrustTier::None);
    Ok(format!("signed {tier}\n"))
}

fn main() -> ExitCode {
    // ear's panics are caught and reported as refusals; keep stderr quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((cmd, rest)) if cmd == "verify" => verify(rest),
        Some((cmd, rest)) if cmd == "sign" => sign(rest),
        _ => Err("usage: verify ... | sign ...".into()),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("refused {e}");
            ExitCode::FAILURE
        }
    }
}
