// The door scenario shared by the firmware (`src/main.rs`) and the fixture
// generator (`gen/src/main.rs`), both of which `include!` this file: one copy of
// every name, time and id the fixtures are made for and checked against.
//
// Times are seconds since the Unix epoch (UTC; the door's local time is UTC).

/// The issuer's `iss`.
pub const ISSUER: &str = "city-issuer";
/// The `kid` of the issuer's Ed25519 key (its public half is `fixtures/issuer.pub`).
pub const ISSUER_KID: &[u8] = b"issuer-2026";
/// The `kid` of the policy signer's Ed25519 key (`fixtures/policy-signer.pub`).
pub const POLICY_KID: &[u8] = b"policy-2026";
/// The door: the credential's audience and the reader id in its challenge.
pub const DOOR: &str = "door-17";
/// The zone the door is in.
pub const DOOR_ZONE: &str = "office";

/// The door's clock during the run: Tuesday 2026-09-15 09:30 UTC, office hours.
pub const NOW: u64 = 1_789_464_600;
/// The same Tuesday at 23:10, for the night-time decision.
pub const NIGHT: u64 = 1_789_513_800;
/// When the credential was issued (a day before `NOW`).
pub const ISSUED_AT: u64 = NOW - 86_400;
/// The credential's expiry: 2100-01-01, so the committed fixtures stay valid.
pub const EXPIRES: u64 = 4_102_444_800;

/// The reader's challenge nonce. A real reader draws it from its random source
/// for every attempt; the fixtures answer this fixed one.
pub const CHALLENGE_NONCE: [u8; 32] = *b"citysec-door-17-challenge-nonce!";
/// When the reader made the challenge (two seconds before `NOW`).
pub const CHALLENGE_AT: u64 = NOW - 2;
/// How old a challenge may be when its answer arrives, in seconds.
pub const CHALLENGE_MAX_AGE: u64 = 30;

/// The scope the door accepts policy bundles for (signed into every bundle).
pub const SCOPE: &str = "site:city-hall";
/// The policy version the door holds when it boots.
pub const HELD_AT_BOOT: u64 = 1;

/// TEST KEY: the door controller's device key (Ed25519 seed). On a real door it
/// lives in a secure element that signs and never exports it; here the
/// firmware's emulated element (`SecureElement`, behind the `Signer` trait) holds
/// it, and the generator signs the expected evidence with it.
pub const DEVICE_SEED: [u8; 32] = [0x55; 32];
/// The `kid` of the device key.
pub const DEVICE_KID: &[u8] = b"door-17-dev";
/// The controller's UEID (EAT `ueid`: type 0x02, an IEEE EUI-64).
pub const DEVICE_UEID: [u8; 9] = [0x02, 0x00, 0x1b, 0x63, 0xc1, 0x7e, 0x00, 0x17, 0x42];
/// The controller's hardware model (EAT `hwmodel`).
pub const DEVICE_HWMODEL: &[u8] = b"door-ctl-v3";
/// The attestation verifier's nonce the door answers with evidence.
pub const ATTEST_NONCE: [u8; 32] = *b"citysec-verifier-nonce-door-17!!";

/// The door's own audit log (its checkpoints' origin line).
pub const DOOR_LOG: &str = "door-17.city.example/log";
/// The site log the gateway keeps (its receipts' issuer).
pub const SITE_LOG: &str = "log.city.example/site";
/// The `kid` of the site log's Ed25519 receipt key (`fixtures/site-log.pub`).
pub const SITE_LOG_KID: &[u8] = b"site-log-2026";
/// The size of the site log the receipt is for: 2^20 entries, so its proof
/// holds 20 hashes.
pub const SITE_LOG_SIZE: u64 = 1 << 20;
/// The index of the door's record (`fixtures/audit-record.cbor`) in the site log.
pub const RECEIPT_INDEX: u64 = 777_777;
