#!/usr/bin/env python3
"""An independent implementation of docs/telemetry-envelope.md, checked against the
vectors on that page: derives each device key and common IV with HKDF-SHA-256,
builds the envelope byte by byte with cbor2 and ChaCha20-Poly1305 from the
`cryptography` package, and opens citysec's envelope. Then recipient mode (the
page's "Recipient mode" section): X25519, the COSE_KDF_Context, HKDF-SHA-256, the
Enc_structure and the COSE_Encrypt message, each compared with the page's
intermediate values, and the page's message opened with the recipient's secret.

Usage: telemetry_envelope.py [docs/telemetry-envelope.md]
Prints "N passed, 0 failed".
"""

import json
import sys

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

path = sys.argv[1] if len(sys.argv) > 1 else "docs/telemetry-envelope.md"
text = open(path).read()
vectors = json.loads(text.split("```json\n")[1].split("```")[0])
SALT = b"citysec telemetry v1"


def hkdf(master, label, device, epoch, length):
    info = label + b"\x00" + epoch.to_bytes(4, "big") + bytes([len(device)]) + device
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=SALT, info=info).derive(master)


def partial_iv(seq):
    return seq.to_bytes(max(1, (seq.bit_length() + 7) // 8), "big")


passed = failed = 0
for i, v in enumerate(vectors, 1):
    master = bytes.fromhex(v["master_secret"])
    device = bytes.fromhex(v["device_id"])
    epoch, seq, topic = v["epoch"], v["seq"], v["topic"]
    plaintext = bytes.fromhex(v["plaintext"])
    key = hkdf(master, b"key", device, epoch, 32)
    iv = hkdf(master, b"iv", device, epoch, 12)
    piv = partial_iv(seq)
    nonce = bytes(a ^ b for a, b in zip(iv, bytes(12 - len(piv)) + piv))
    ext = cbor2.dumps([device, seq, topic])
    aad = cbor2.dumps(["Encrypt0", bytes.fromhex("a1011818"), ext])
    ct = ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)
    unprotected = {4: device, 6: piv}
    if epoch:
        unprotected[-65537] = epoch
    if topic:
        unprotected[-65538] = topic
    # cbor2 keeps insertion order for maps, which is the order the layout fixes.
    envelope = cbor2.dumps(cbor2.CBORTag(16, [bytes.fromhex("a1011818"), unprotected, ct]))
    ok = key.hex() == v["key"] and iv.hex() == v["common_iv"] and envelope.hex() == v["envelope"]
    opened = ChaCha20Poly1305(key).decrypt(nonce, bytes.fromhex(v["envelope"])[-len(ct):], aad) == plaintext
    if ok and opened:
        passed += 1
        print(f"ok   vector {i}")
    else:
        failed += 1
        print(f"FAIL vector {i}: key {key.hex() == v['key']}, iv {iv.hex() == v['common_iv']}, envelope {envelope.hex()} vs {v['envelope']}")

# ---- recipient mode
recipient_section = text.split("\n## Recipient mode")[1]
recipient_vectors = json.loads(recipient_section.split("```json\n")[1].split("```")[0])
RECIPIENT_PROTECTED = bytes.fromhex("a1013818")  # {1: -25}
KEY_BITS = {24: 256, 1: 128, 3: 256}


def aead(alg, key):
    return ChaCha20Poly1305(key) if alg == 24 else AESGCM(key)


def x25519_public(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def content_key(alg, shared):
    bits = KEY_BITS[alg]
    context = cbor2.dumps([alg, [None, None, None], [None, None, None], [bits, RECIPIENT_PROTECTED]])
    cek = HKDF(algorithm=hashes.SHA256(), length=bits // 8, salt=None, info=context).derive(shared)
    return context, cek


def open_recipient(secret, kid, message, external_aad):
    """Opens a message of the page's layout, refusing what the page refuses (in part)."""
    assert message[:2] == b"\xd8\x60", "tag 96"
    item = cbor2.loads(message[2:])
    protected, unprotected, ciphertext, recipients = item
    alg = cbor2.loads(protected)[1]
    assert protected == cbor2.dumps({1: alg}) and alg in KEY_BITS, "content protected header"
    assert list(unprotected) == [5] and len(unprotected[5]) == 12, "{5: iv}"
    [[rprot, runprot, encrypted_key]] = recipients
    assert rprot == RECIPIENT_PROTECTED and encrypted_key == b"", "recipient layer"
    assert set(runprot) <= {-1, 4} and -1 in runprot, "recipient unprotected"
    epk = runprot[-1]
    assert epk == {1: 1, -1: 4, -2: epk[-2]} and len(epk[-2]) == 32, "ephemeral OKP X25519 key"
    assert int.from_bytes(epk[-2], "little") < 2**255 - 19, "canonical ephemeral key"
    if 4 in runprot and kid:
        assert runprot[4] == kid, "kid"
    shared = X25519PrivateKey.from_private_bytes(secret).exchange(X25519PublicKey.from_public_bytes(epk[-2]))
    assert shared != bytes(32), "non-contributory"
    _, cek = content_key(alg, shared)
    aad = cbor2.dumps(["Encrypt", protected, external_aad])
    return aead(alg, cek).decrypt(unprotected[5], ciphertext, aad)


for i, v in enumerate(recipient_vectors, 1):
    b = {k: bytes.fromhex(v[k]) for k in v if k != "alg"}
    alg = v["alg"]
    checks = {}
    checks["recipient_public"] = x25519_public(b["recipient_secret"])
    checks["ephemeral_public"] = x25519_public(b["ephemeral_secret"])
    checks["shared_secret"] = X25519PrivateKey.from_private_bytes(b["ephemeral_secret"]).exchange(
        X25519PublicKey.from_public_bytes(checks["recipient_public"]))
    checks["kdf_context"], checks["cek"] = content_key(alg, checks["shared_secret"])
    checks["protected"] = cbor2.dumps({1: alg})
    checks["enc_structure"] = cbor2.dumps(["Encrypt", checks["protected"], b["external_aad"]])
    checks["ciphertext"] = aead(alg, checks["cek"]).encrypt(b["iv"], b["plaintext"], checks["enc_structure"])
    # cbor2 keeps insertion order: -1 before 4, as the page writes them.
    recipient_unprotected = {-1: {1: 1, -1: 4, -2: checks["ephemeral_public"]}}
    if b["kid"]:
        recipient_unprotected[4] = b["kid"]
    checks["message"] = cbor2.dumps(cbor2.CBORTag(96, [
        checks["protected"], {5: b["iv"]}, checks["ciphertext"],
        [[RECIPIENT_PROTECTED, recipient_unprotected, b""]],
    ]))
    wrong = [k for k, got in checks.items() if got != b[k]]
    opened = open_recipient(b["recipient_secret"], b["kid"], b["message"], b["external_aad"]) == b["plaintext"]
    try:
        open_recipient(b["recipient_secret"], b["kid"], b["message"], b["external_aad"] + b"x")
        refused_other_aad = False
    except Exception:  # the tag check fails (cryptography's InvalidTag)
        refused_other_aad = True
    if not wrong and opened and refused_other_aad:
        passed += 1
        print(f"ok   recipient vector {i}")
    else:
        failed += 1
        print(f"FAIL recipient vector {i}: differs in {wrong}, opened {opened}, other AAD refused {refused_other_aad}")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
