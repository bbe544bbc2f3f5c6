// Command go-note checks citysec's signed notes with Go's reference signed-note
// code (golang.org/x/mod/sumdb/note), and signs notes for citysec to verify.
//
// Build in GOPATH mode against Debian's golang-golang-x-mod-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go run ./interop/go-note <command> ...
//
// Commands:
//
//	verify NOTE LOG_VKEY [COSIGNER_VKEY...]
//	    Opens NOTE with the log's vkey (x/mod's own Ed25519 verifier) and, for
//	    each cosigner vkey (type 0x04), a cosignature/v1 verifier written here
//	    (x/mod knows only Ed25519 note keys). Every key given must have a
//	    verified signature. Prints "ok" and the verified key names.
//	sign NAME SEED_HEX TEXT_FILE
//	    Makes an Ed25519 note key from the 32-byte seed with x/mod's
//	    GenerateKey, signs the text and prints the vkey on the first line and
//	    the signed note after it.
//
// Exit status: 0 on success, 1 if a note does not verify, 2 on usage errors.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// cosigner verifies c2sp.org/tlog-cosignature v1 (Ed25519) signatures: the
// signature bytes are an 8-byte big-endian timestamp and an Ed25519 signature
// of "cosignature/v1\ntime <timestamp>\n" followed by the note text.
type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (c *cosigner) Name() string    { return c.name }
func (c *cosigner) KeyHash() uint32 { return c.hash }
func (c *cosigner) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig[:8])
	if ts > 1<<63-1 {
		return false
	}
	signed := append([]byte("cosignature/v1\ntime "+strconv.FormatUint(ts, 10)+"\n"), msg...)
	return ed25519.Verify(c.key, signed, sig[8:])
}

// newCosigner reads a vkey of signature type 0x04 and checks its key ID.
func newCosigner(vkey string) (*cosigner, error) {
	parts := strings.Split(vkey, "+")
	if len(parts) != 3 {
		return nil, fmt.Errorf("malformed vkey")
	}
	id, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("malformed key id")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 0x04 {
		return nil, fmt.Errorf("not a cosignature/v1 key")
	}
	h := sha256.New()
	h.Write([]byte(parts[0] + "\n"))
	h.Write(raw)
	if binary.BigEndian.Uint32(h.Sum(nil)[:4]) != uint32(id) {
		return nil, fmt.Errorf("key id does not match the key")
	}
	return &cosigner{name: parts[0], hash: uint32(id), key: ed25519.PublicKey(raw[1:])}, nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go-note verify NOTE LOG_VKEY [COSIGNER_VKEY...] | sign NAME SEED_HEX TEXT_FILE")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "verify":
		if len(os.Args) < 4 {
			usage()
		}
		msg, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		log, err := note.NewVerifier(os.Args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, "log vkey:", err)
			os.Exit(2)
		}
		verifiers := []note.Verifier{log}
		for _, v := range os.Args[4:] {
			c, err := newCosigner(v)
			if err != nil {
				fmt.Fprintln(os.Stderr, "cosigner vkey:", err)
				os.Exit(2)
			}
			verifiers = append(verifiers, c)
		}
		n, err := note.Open(msg, note.VerifierList(verifiers...))
		if err != nil {
			fmt.Fprintln(os.Stderr, "refused:", err)
			os.Exit(1)
		}
		if len(n.Sigs) != len(verifiers) {
			fmt.Fprintf(os.Stderr, "refused: %d of %d keys signed\n", len(n.Sigs), len(verifiers))
			os.Exit(1)
		}
		names := make([]string, 0, len(n.Sigs))
		for _, s := range n.Sigs {
			names = append(names, s.Name)
		}
		fmt.Println("ok", strings.Join(names, " "))
	case "sign":
		if len(os.Args) != 5 {
			usage()
		}
		seed, err := hex.DecodeString(os.Args[3])
		if err != nil || len(seed) != 32 {
			fmt.Fprintln(os.Stderr, "seed: 32 bytes in hex")
			os.Exit(2)
		}
		text, err := os.ReadFile(os.Args[4])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		skey, vkey, err := note.GenerateKey(bytes.NewReader(seed), os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		signed, err := note.Sign(&note.Note{Text: string(text)}, signer)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(vkey)
		os.Stdout.Write(signed)
	default:
		usage()
	}
}
