#!/usr/bin/env python3
"""Interop between citysec and python-cwt (https://pypi.org/project/cwt/), both ways.

1. python-cwt issues EdDSA and ES256 credentials (kid in the unprotected bucket, as
   python-cwt does by default, in the protected bucket through its COSE API, and
   inside the CWT tag 61);
   `citysec credential verify` must accept them given the issuer's public COSE_Key
   and print the same claims.
2. `citysec credential issue` makes EdDSA and ES256 credentials; python-cwt must
   verify them given the public COSE_Key `citysec key public` wrote, and decode the
   same claims.
3. Negative controls: a token python-cwt signed with another key is rejected by
   citysec (exit 1), and python-cwt refuses a citysec token under a wrong key.

Usage: python_cwt.py PATH/TO/citysec
Prints "N passed, 0 failed" and exits 0 when every check held.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import cbor2
import cwt
from cwt import COSE, COSEKey

CITYSEC = sys.argv[1] if len(sys.argv) > 1 else "target/debug/citysec"
NOW = int(time.time())
AUD = "door-controllers"
passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def run(*args):
    return subprocess.run([CITYSEC, *args], capture_output=True, text=True)


def b64url(b):
    import base64

    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def claims(iss, sub):
    return {"iss": iss, "sub": sub, "aud": AUD, "exp": NOW + 3600, "iat": NOW - 10, "cti": b"\x0b\x71"}


# Fixed test keys (RFC 8032 test 1 for Ed25519; the cose-wg P-256 key "11").
ED_D = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
ED_X = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
EC_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "usWxHK2PmfnHKwXPS54m0kTcGJ90UiglWiGahtagnv8",
    "y": "IBOL-C3BttVivg-lSreASjpkttcsz-1rb7btKLv8EX4",
    "d": "V8kgd2ZBRuh2dgyVINBUqpPDr7BOMGcF22CQMIUHtNM",
}


def b64dec(s):
    import base64

    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def python_issuers():
    ed = COSEKey.from_jwk(
        {"kty": "OKP", "crv": "Ed25519", "kid": "py-ed", "alg": "EdDSA", "d": b64url(ED_D), "x": b64url(ED_X)}
    )
    ed_pub = {1: 1, 2: b"py-ed", 3: -8, -1: 6, -2: ED_X}
    es = COSEKey.from_jwk({**EC_JWK, "kid": "py-es", "alg": "ES256"})
    es_pub = {1: 2, 2: b"py-es", 3: -7, -1: 1, -2: b64dec(EC_JWK["x"]), -3: b64dec(EC_JWK["y"])}
    return [("EdDSA", ed, ed_pub), ("ES256", es, es_pub)]


with tempfile.TemporaryDirectory() as d:
    # 1. python-cwt -> citysec
    for alg, key, pub in python_issuers():
        pub_path = os.path.join(d, f"py-{alg}.pub")
        with open(pub_path, "wb") as f:
            f.write(cbor2.dumps(pub))
        c = claims("https://py.example", f"visitor-{alg}")
        # (a) python-cwt's default: kid in the unprotected bucket
        tok_u = cwt.encode(c, key, tagged=False)
        # (b) kid in the protected bucket, through python-cwt's COSE API
        payload = cbor2.dumps({1: c["iss"], 2: c["sub"], 3: AUD, 4: c["exp"], 6: c["iat"], 7: c["cti"]})
        tok_p = COSE.new().encode_and_sign(
            payload, key, protected={1: -8 if alg == "EdDSA" else -7, 4: pub[2]}, unprotected={}
        )
        # (c) inside the CWT tag 61
        tok_61 = cwt.encode(c, key, tagged=True)
        check(f"python-cwt {alg} tagged=True starts with tag 61", tok_61[:2] == b"\xd8\x3d", tok_61[:4].hex())
        for where, tok in (("unprotected", tok_u), ("protected", tok_p), ("unprotected, CWT tag 61", tok_61)):
            path = os.path.join(d, f"py-{alg}-{where}.cwt")
            with open(path, "wb") as f:
                f.write(tok)
            r = run("credential", "verify", "--trust", pub_path, "--aud", AUD, path)
            check(f"citysec verifies python-cwt {alg} (kid {where})", r.returncode == 0, r.stderr)
            if r.returncode == 0:
                got = json.loads(r.stdout)
                check(
                    f"claims of python-cwt {alg} (kid {where}) decode to the issued values",
                    got.get("iss") == c["iss"]
                    and got.get("sub") == c["sub"]
                    and got.get("aud") == AUD
                    and got.get("exp") == c["exp"]
                    and got.get("iat") == c["iat"]
                    and got.get("cti") == "0b71",
                    str(got),
                )
            # a wrong audience is refused
            r = run("credential", "verify", "--trust", pub_path, "--aud", "parking", path)
            check(f"citysec refuses python-cwt {alg} (kid {where}) for another audience", r.returncode == 1, r.stderr)
    bad_key = COSEKey.from_jwk(
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": "py-ed",
            "alg": "EdDSA",
            "d": b64url(bytes(range(32))),
            "x": b64url(bytes.fromhex("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")),
        }
    )
    forged = cwt.encode(claims("https://py.example", "mallory"), bad_key)
    forged_path = os.path.join(d, "forged.cwt")
    with open(forged_path, "wb") as f:
        f.write(forged)
    r = run("credential", "verify", "--trust", os.path.join(d, "py-EdDSA.pub"), "--aud", AUD, forged_path)
    check("citysec rejects a python-cwt token signed by another key", r.returncode == 1 and "bad signature" in r.stderr, r.stderr)

    # 2. citysec -> python-cwt
    for alg in ("EdDSA", "ES256"):
        key_path = os.path.join(d, f"cs-{alg}.key")
        pub_path = os.path.join(d, f"cs-{alg}.pub")
        assert run("key", "generate", "--alg", alg, "--kid", f"cs-{alg}", "--out", key_path).returncode == 0
        assert run("key", "public", key_path, "--out", pub_path).returncode == 0
        c = {
            "iss": "https://issuer.city.example",
            "sub": "staff-17",
            "aud": AUD,
            "exp": NOW + 3600,
            "iat": NOW - 10,
            "roles": ["staff"],
            "zones": ["lobby"],
        }
        claims_path = os.path.join(d, f"cs-{alg}.json")
        with open(claims_path, "w") as f:
            json.dump(c, f)
        tok_path = os.path.join(d, f"cs-{alg}.cwt")
        r = run("credential", "issue", "--key", key_path, "--claims", claims_path, "--out", tok_path)
        check(f"citysec issues {alg}", r.returncode == 0, r.stderr)
        with open(pub_path, "rb") as f:
            pub = COSEKey.new(cbor2.loads(f.read()))
        with open(tok_path, "rb") as f:
            tok = f.read()
        try:
            got = cwt.decode(tok, pub)
            check(
                f"python-cwt verifies citysec {alg} and decodes the claims",
                got[1] == c["iss"]
                and got[2] == c["sub"]
                and got[3] == AUD
                and got[4] == c["exp"]
                and got[6] == c["iat"]
                and got[-65537] == ["staff"]
                and got[-65538] == ["lobby"],
                str(got),
            )
        except Exception as e:  # noqa: BLE001
            check(f"python-cwt verifies citysec {alg} and decodes the claims", False, repr(e))
        # python-cwt refuses it under another key
        try:
            cwt.decode(tok, python_issuers()[0 if alg == "EdDSA" else 1][1])
            check(f"python-cwt refuses citysec {alg} under another key", False, "accepted")
        except Exception:  # noqa: BLE001
            check(f"python-cwt refuses citysec {alg} under another key", True)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
