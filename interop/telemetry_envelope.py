#!/usr/bin/env python3
"""An independent implementation of docs/telemetry-envelope.md, checked against the
vectors on that page: derives each device key and common IV with HKDF-SHA-256,
builds the envelope byte by byte with cbor2 and ChaCha20-Poly1305 from the
`cryptography` package, and opens citysec's envelope.

Usage: telemetry_envelope.py [docs/telemetry-envelope.md]
Prints "N passed, 0 failed".
"""

import json
import sys

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
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
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
