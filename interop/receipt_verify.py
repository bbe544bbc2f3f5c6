#!/usr/bin/env python3
"""An independent verifier of citysec's COSE Receipts, written from
docs/audit-log.md and draft-ietf-cose-merkle-tree-proofs: it reads the page's
receipt vector, parses the receipt with cbor2, recomputes the Merkle root from
the entry and the inclusion path (RFC 9162 section 2.1.3.2, as the page states
it), builds the Sig_structure and checks the Ed25519 signature with the
`cryptography` package. It also checks the page's tree vectors (leaf hashes,
roots, inclusion and consistency proofs), that tampered receipts fail, and the
page's record vector (canonical CBOR, the subject's commitment and pseudonym,
the leaf hash).

Usage: receipt_verify.py [docs/audit-log.md]
Prints "N passed, 0 failed"; exits 1 on any failure.
"""

import hashlib
import json
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

path = sys.argv[1] if len(sys.argv) > 1 else "docs/audit-log.md"
blocks = open(path).read().split("```json\n")
tree = json.loads(blocks[1].split("```")[0])
vector = json.loads(blocks[2].split("```")[0])
record = json.loads(blocks[3].split("```")[0])
passed = failed = 0


def check(name, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", name)


def leaf(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_len(index, size):
    inner = ((index ^ (size - 1)).bit_length())
    border = bin(index >> inner).count("1")
    return inner + border


def inclusion_root(index, size, h, proof):
    """RFC 9162 2.1.3.2 as docs/audit-log.md states it; None if refused."""
    if index >= size or len(proof) != inclusion_len(index, size):
        return None
    f, s, r = index, size - 1, h
    for p in proof:
        if s == 0:
            return None
        if f & 1 or f == s:
            r = node(p, r)
            while f & 1 == 0 and f != 0:
                f >>= 1
                s >>= 1
        else:
            r = node(r, p)
        f >>= 1
        s >>= 1
    return r if s == 0 else None


def consistency_ok(m, n, r1, r2, proof):
    if m > n or m == 0:
        return False
    if m == n:
        return not proof and r1 == r2
    if m & (m - 1) == 0:
        seed, rest = r1, proof
    else:
        if not proof:
            return False
        seed, rest = proof[0], proof[1:]
    f, s = m - 1, n - 1
    while f & 1:
        f >>= 1
        s >>= 1
    fr = sr = seed
    for c in rest:
        if s == 0:
            return False
        if f & 1 or f == s:
            fr, sr = node(c, fr), node(c, sr)
            while f & 1 == 0 and f != 0:
                f >>= 1
                s >>= 1
        else:
            sr = node(sr, c)
        f >>= 1
        s >>= 1
    return s == 0 and fr == r1 and sr == r2


def verify_receipt(receipt, entry, public_key):
    """The page's steps 1 to 5 for an inclusion receipt; True if it verifies."""
    msg = cbor2.loads(receipt)
    if not isinstance(msg, cbor2.CBORTag) or msg.tag != 18 or len(msg.value) != 4:
        return False
    protected, unprotected, payload, signature = msg.value
    header = cbor2.loads(protected)
    if header.get(1) != -8 or header.get(395) != 1 or len(signature) != 64:
        return False
    proofs = unprotected[396]
    if set(proofs) != {-1} or len(proofs[-1]) != 1:
        return False
    size, index, path_ = cbor2.loads(proofs[-1][0])
    if any(len(h) != 32 for h in path_):
        return False
    root = inclusion_root(index, size, leaf(entry), path_)
    if root is None or (payload is not None and payload != root):
        return False
    tbs = cbor2.dumps(["Signature1", protected, b"", root])
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, tbs)
    except InvalidSignature:
        return False
    return True


hx = bytes.fromhex
entries = [e.encode() for e in tree["entries"]]
check("leaf hashes", [leaf(e).hex() for e in entries] == tree["leaf_hashes"])
roots = {int(k): hx(v) for k, v in tree["roots"].items()}
check("empty root", roots[0] == hashlib.sha256(b"").digest())
for case in tree["inclusion"]:
    proof = [hx(h) for h in case["proof"]]
    i = case["index"]
    check(f"inclusion {i}", inclusion_root(i, case["size"], leaf(entries[i]), proof) == roots[7])
for case in tree["consistency"]:
    proof = [hx(h) for h in case["proof"]]
    m = case["size1"]
    check(f"consistency {m}", consistency_ok(m, case["size2"], roots[m], roots[7], proof))
    check(f"consistency {m} wrong", not consistency_ok(m, case["size2"], roots[7], roots[m], proof))

receipt = hx(vector["receipt"])
key = hx(vector["public_key"])
entry = vector["entry"].encode()
check("receipt verifies", verify_receipt(receipt, entry, key))
check("receipt root", inclusion_root(3, 7, leaf(entry), [hx(h) for h in tree["inclusion"][1]["proof"]]) == hx(vector["root"]))
check("kid", cbor2.loads(cbor2.loads(receipt).value[0])[4] == vector["kid"].encode())
check("another entry", not verify_receipt(receipt, b"entry 4", key))
for i in range(len(receipt)):
    tampered = bytearray(receipt)
    tampered[i] ^= 0x01
    try:
        ok = verify_receipt(bytes(tampered), entry, key)
    except Exception:
        ok = False
    # flipping a bit of the unsigned tree size or index may keep the same path
    # shape; every other byte must break the receipt
    if ok:
        msg = cbor2.loads(bytes(tampered))
        size, index, _ = cbor2.loads(msg.value[1][396][-1][0])
        check(f"tampered byte {i} verifies only through the unsigned size or index", (size, index) != (7, 3))
    else:
        check(f"tampered byte {i}", True)

# The record vector: canonical CBOR, the commitment SHA-256(salt || value), the
# pseudonym HKDF-SHA-256(salt = site key, ikm = value, info)[:16], the leaf hash.
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

rec = hx(record["record"])
fields = cbor2.loads(rec)
check("record is canonical", cbor2.dumps(fields, canonical=True) == rec)
check("record header", (fields[0], fields[1], fields[3]) == (1, 1, "door-controller-7"))
subject = record["subject"].encode()
commitment = hashlib.sha256(hx(record["subject_salt"]) + subject).digest()
check("subject commitment", commitment.hex() == record["subject_commitment"] == fields[16][0].hex())
pseudo = HKDF(hashes.SHA256(), 16, hx(record["site_key"]), b"citysec audit pseudonym v1").derive(subject)
check("subject pseudonym", pseudo.hex() == record["subject_pseudonym"] == fields[16][1].hex())
check("record leaf hash", leaf(rec).hex() == record["leaf_hash"])

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
