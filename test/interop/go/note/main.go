// Drives golang.org/x/mod/sumdb/note and sumdb/tlog for test/interop/note.int.test.ts:
// reads a JSON array of requests on stdin, writes a JSON array of answers on stdout.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	Op    string   `json:"op"`
	Name  string   `json:"name,omitempty"`
	Skeys []string `json:"skeys,omitempty"`
	Vkeys []string `json:"vkeys,omitempty"`
	Text  string   `json:"text,omitempty"`
	Msg   string   `json:"msg,omitempty"`
	Pub   string   `json:"pub,omitempty"`
	N     int64    `json:"n,omitempty"`
	Hash  string   `json:"hash,omitempty"`
}

type sig struct {
	Name string `json:"name"`
	Hash uint32 `json:"hash"`
}

type answer struct {
	Error      string `json:"error,omitempty"`
	Skey       string `json:"skey,omitempty"`
	Vkey       string `json:"vkey,omitempty"`
	Note       string `json:"note,omitempty"`
	Text       string `json:"text,omitempty"`
	Sigs       []sig  `json:"sigs,omitempty"`
	Unverified []sig  `json:"unverified,omitempty"`
	N          int64  `json:"n,omitempty"`
	Hash       string `json:"hash,omitempty"`
}

func sigs(list []note.Signature) []sig {
	out := []sig{}
	for _, s := range list {
		out = append(out, sig{s.Name, s.Hash})
	}
	return out
}

func verifiers(vkeys []string) (note.Verifiers, error) {
	var list []note.Verifier
	for _, vkey := range vkeys {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return note.VerifierList(list...), nil
}

func errorKind(err error) string {
	switch err.(type) {
	case *note.UnverifiedNoteError:
		return "unverified"
	case *note.InvalidSignatureError:
		return "invalid signature"
	}
	return err.Error()
}

func handle(r request) answer {
	switch r.Op {
	case "generate":
		skey, vkey, err := note.GenerateKey(rand.Reader, r.Name)
		if err != nil {
			return answer{Error: err.Error()}
		}
		return answer{Skey: skey, Vkey: vkey}
	case "vkey":
		pub, err := base64.StdEncoding.DecodeString(r.Pub)
		if err != nil {
			return answer{Error: err.Error()}
		}
		vkey, err := note.NewEd25519VerifierKey(r.Name, ed25519.PublicKey(pub))
		if err != nil {
			return answer{Error: err.Error()}
		}
		return answer{Vkey: vkey}
	case "verifier":
		if _, err := note.NewVerifier(r.Vkeys[0]); err != nil {
			return answer{Error: err.Error()}
		}
		return answer{}
	case "signer":
		if _, err := note.NewSigner(r.Skeys[0]); err != nil {
			return answer{Error: err.Error()}
		}
		return answer{}
	case "sign":
		n := &note.Note{Text: r.Text}
		if r.Msg != "" {
			_, err := note.Open([]byte(r.Msg), note.VerifierList())
			unverified, ok := err.(*note.UnverifiedNoteError)
			if !ok {
				return answer{Error: "existing note: " + err.Error()}
			}
			n = unverified.Note
		}
		var signers []note.Signer
		for _, skey := range r.Skeys {
			s, err := note.NewSigner(skey)
			if err != nil {
				return answer{Error: err.Error()}
			}
			signers = append(signers, s)
		}
		msg, err := note.Sign(n, signers...)
		if err != nil {
			return answer{Error: err.Error()}
		}
		return answer{Note: string(msg)}
	case "open":
		known, err := verifiers(r.Vkeys)
		if err != nil {
			return answer{Error: "verifier: " + err.Error()}
		}
		n, err := note.Open([]byte(r.Msg), known)
		if err != nil {
			return answer{Error: errorKind(err)}
		}
		return answer{Text: n.Text, Sigs: sigs(n.Sigs), Unverified: sigs(n.UnverifiedSigs)}
	case "formatTree":
		h, err := base64.StdEncoding.DecodeString(r.Hash)
		if err != nil || len(h) != tlog.HashSize {
			return answer{Error: "bad hash"}
		}
		var hash tlog.Hash
		copy(hash[:], h)
		return answer{Text: string(tlog.FormatTree(tlog.Tree{N: r.N, Hash: hash}))}
	case "parseTree":
		tree, err := tlog.ParseTree([]byte(r.Text))
		if err != nil {
			return answer{Error: err.Error()}
		}
		return answer{N: tree.N, Hash: base64.StdEncoding.EncodeToString(tree.Hash[:])}
	}
	return answer{Error: "unknown op " + r.Op}
}

func main() {
	var requests []request
	if err := json.NewDecoder(os.Stdin).Decode(&requests); err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(2)
	}
	answers := make([]answer, 0, len(requests))
	for _, r := range requests {
		answers = append(answers, handle(r))
	}
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		os.Exit(2)
	}
}
