#!/usr/bin/env bash
# Builds the fuzz seeds and the working corpora.
#
#   fuzz/seed.sh            write fuzz/seeds/<target>/ (committed) and copy them
#                           into fuzz/corpus/<target>/ (not committed)
#
# Seeds come from the hex `output.cbor` field of the COSE WG example vectors
# (sign1-tests, eddsa-examples, ecdsa-examples -> sign1_verify; encrypted-tests,
# aes-gcm-examples, chacha-poly-examples -> encrypt0_open) plus a few hand-made
# inputs (COSE_Keys, a CWT-wrapped Sign1, a Partial IV Encrypt0). The vectors are
# looked for in $COSE_VECTORS, then in the repository's vendored copy,
# vectors/cose-wg-examples; when neither is there the committed seeds are used as
# they are.
# Output is deterministic, so re-running it leaves fuzz/seeds/ unchanged.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

vectors=""
for candidate in "${COSE_VECTORS:-}" "$repo/vectors/cose-wg-examples"; do
    if [[ -n "$candidate" && -d "$candidate/sign1-tests" ]]; then
        vectors="$candidate"
        break
    fi
done

python3 - "$here/seeds" "$vectors" <<'PY'
import json
import pathlib
import sys

seeds = pathlib.Path(sys.argv[1])
vectors = pathlib.Path(sys.argv[2]) if sys.argv[2] else None

FROM_VECTORS = {
    "sign1_verify": ["sign1-tests", "eddsa-examples", "ecdsa-examples"],
    "encrypt0_open": ["encrypted-tests", "aes-gcm-examples", "chacha-poly-examples"],
}

def write(target, name, data):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)

# --- from the COSE WG examples ------------------------------------------------
vector_cbor = {}
if vectors is not None:
    for target, dirs in FROM_VECTORS.items():
        for sub in dirs:
            for f in sorted((vectors / sub).glob("*.json")):
                doc = json.loads(f.read_text())
                hexstr = doc.get("output", {}).get("cbor")
                if not hexstr:
                    continue
                data = bytes.fromhex(hexstr)
                vector_cbor[f"{sub}/{f.stem}"] = data
                write(target, f"{sub}-{f.stem}.cbor", data)
    print(f"seed.sh: seeds from {vectors}", file=sys.stderr)
else:
    print("seed.sh: COSE WG vectors not found, keeping the committed vector seeds", file=sys.stderr)

# --- hand-made ----------------------------------------------------------------
H = bytes.fromhex

# RFC 8032 test 1 Ed25519 key (the eddsa-sig-01 key).
ED_X = H("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
ED_D = H("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
# P-256 key of the COSE WG ECDSA examples.
P_X = H("bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff")
P_Y = H("20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e")
P_D = H("57c92077664146e876760c9520d054aa93c3afb04e306705db6090308507b4d3")
# RFC 7748 section 6.1, Alice.
X_D = H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
X_X = H("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
SEC_256 = H("0f1e2d3c4b5a69788796a5b4c3d2e1f01f2e3d4c5b6a798897a6b5c4d3e2f100")
OUR_SECRET = H("849b57219dae48de646d07dbb533566e")
BASE_IV = H("5c3a9950bd2852f66e6c8d4f")

def bstr(b):
    assert len(b) < 256
    return (bytes([0x40 | len(b)]) if len(b) < 24 else bytes([0x58, len(b)])) + b

cose_keys = {
    # {1: 1 (OKP), -1: 6 (Ed25519), -2: x, 2: h'31'}
    "hand-okp-ed25519-public": H("a4010120062158") + bytes([0x20]) + ED_X + H("024131"),
    # {1: 1, 3: -8 (EdDSA), -1: 6, -2: x, -4: d, 2: h'3131'}
    "hand-okp-ed25519-private": H("a601010327200621") + bstr(ED_X) + H("23") + bstr(ED_D) + H("02") + bstr(b"11"),
    # {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y, 2: h'3131'}
    "hand-ec2-p256-public": H("a6010203262001") + H("21") + bstr(P_X) + H("22") + bstr(P_Y) + H("02") + bstr(b"11"),
    # the same with -4: d
    "hand-ec2-p256-private": H("a7010203262001") + H("21") + bstr(P_X) + H("22") + bstr(P_Y) + H("23") + bstr(P_D) + H("02") + bstr(b"11"),
    # {1: 4 (Symmetric), 3: 24 (ChaCha20/Poly1305), -1: k, 2: 'sec-256', 5: Base IV}
    "hand-symmetric-chacha": H("a50104031818") + H("20") + bstr(SEC_256) + H("02") + bstr(b"sec-256") + H("05") + bstr(BASE_IV),
    # {1: 4, 3: 1 (A128GCM), -1: k}
    "hand-symmetric-a128gcm": H("a301040301") + H("20") + bstr(OUR_SECRET),
    # {1: 1, -1: 4 (X25519), -2: x}
    "hand-okp-x25519-public": H("a30101200421") + bstr(X_X),
    # {1: 1, 3: -25 (ECDH-ES + HKDF-256), -1: 4, -2: x, -4: d}
    "hand-okp-x25519-private": H("a50101033818200421") + bstr(X_X) + H("23") + bstr(X_D),
}
for name, data in cose_keys.items():
    write("cose_key_decode", name + ".cbor", data)

# Sign1: eddsa-sig-01 inside a CWT tag 61 (accepted around a tagged COSE_Sign1).
EDDSA_SIG_01 = H(
    "d28445a201270300a10442313154546869732069732074686520636f6e74656e742e"
    "58407142fd2ff96d56db85bee905a76ba1d0b7321a95c8c4d3607c5781932b7afb87"
    "11497dfa751bf40b58b3bcc32300b1487f3db34085eef013bf08f4a44d6fef0d"
)
if "eddsa-examples/eddsa-sig-01" in vector_cbor:
    assert vector_cbor["eddsa-examples/eddsa-sig-01"] == EDDSA_SIG_01
write("sign1_verify", "hand-cwt-eddsa-sig-01.cbor", H("d83d") + EDDSA_SIG_01)
# The same, untagged.
write("sign1_verify", "hand-untagged-eddsa-sig-01.cbor", EDDSA_SIG_01[1:])

# Encrypt0: 16([h'A1011818', {6: h'0001'}, ct]) under ChaCha20/Poly1305 with the
# key sec-256 and Base IV 5c3a9950bd2852f66e6c8d4f (nonce = Base IV XOR the Partial
# IV left-padded to 12 bytes), plaintext "This is the content.", empty external AAD.
# Made once with python3-cryptography; fixed here so no crypto library is needed.
write("encrypt0_open", "hand-chacha-partial-iv.cbor", H(
    "d08344a1011818a1064200015824630402b99029c18d4a139004e542281befd1693f65"
    "6b750c7a4360a266c7041a5c61a714"
))
PY

for target in sign1_verify encrypt0_open cose_key_decode; do
    mkdir -p "$here/corpus/$target"
    cp -f "$here/seeds/$target"/* "$here/corpus/$target/"
    echo "seed.sh: $target: $(ls "$here/seeds/$target" | wc -l) seeds -> fuzz/corpus/$target ($(ls "$here/corpus/$target" | wc -l) files)"
done
