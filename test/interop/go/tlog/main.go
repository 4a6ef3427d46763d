// Command tlog answers questions about Merkle trees with Go's reference code
// (golang.org/x/mod/sumdb/tlog) for test/interop/tlog.int.test.ts: one JSON
// request on stdin (a tree of `leaves` records, record i being "entry i", and a
// list of operations), one JSON answer on stdout (one result per operation).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

type op struct {
	Op     string            `json:"op"`
	T      int64             `json:"t"`
	N      int64             `json:"n"`
	Level  int               `json:"level"`
	Index  int64             `json:"index"`
	Width  int               `json:"width"`
	Proof  [][]byte          `json:"proof"`
	TH     []byte            `json:"th"`
	H      []byte            `json:"h"`
	Size   int64             `json:"size"`
	Root   []byte            `json:"root"`
	Tiles  map[string][]byte `json:"tiles"`
	Record [][2]int64        `json:"records"`
	Trees  [][2]int64        `json:"trees"`
}

type result struct {
	Hash         []byte     `json:"hash,omitempty"`
	Data         []byte     `json:"data,omitempty"`
	Proof        [][]byte   `json:"proof,omitempty"`
	RecordProofs [][][]byte `json:"recordProofs,omitempty"`
	TreeProofs   [][][]byte `json:"treeProofs,omitempty"`
	Error        string     `json:"error,omitempty"`
}

// store holds every stored hash of the tree (tlog's dense hash layout).
type store []tlog.Hash

func (s *store) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*s)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = (*s)[x]
	}
	return out, nil
}

// c2spTiles serves our tiles to tlog.TileHashReader: Go's path tile/8/L/N[.p/W] is C2SP's tile/L/N[.p/W].
type c2spTiles map[string][]byte

func (c c2spTiles) Height() int { return 8 }
func (c c2spTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		path := "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
		data, ok := c[path]
		if !ok {
			return nil, fmt.Errorf("no tile %s", path)
		}
		out[i] = data
	}
	return out, nil
}
func (c c2spTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func hash(b []byte) tlog.Hash {
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func hashes(p [][]byte) []tlog.Hash {
	out := make([]tlog.Hash, len(p))
	for i, b := range p {
		if len(b) != tlog.HashSize {
			panic("a proof hash is not 32 bytes")
		}
		out[i] = hash(b)
	}
	return out
}

func bytesOf(p []tlog.Hash) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		h := p[i]
		out[i] = h[:]
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func main() {
	var req struct {
		Leaves int64 `json:"leaves"`
		Ops    []op  `json:"ops"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		panic(err)
	}
	s := &store{}
	for i := int64(0); i < req.Leaves; i++ {
		hs, err := tlog.StoredHashes(i, []byte(fmt.Sprintf("entry %d", i)), s)
		if err != nil {
			panic(err)
		}
		*s = append(*s, hs...)
	}
	out := make([]result, len(req.Ops))
	for i, o := range req.Ops {
		var r result
		switch o.Op {
		case "root":
			h, err := tlog.TreeHash(o.T, s)
			r.Hash, r.Error = h[:], errText(err)
		case "tile":
			data, err := tlog.ReadTileData(tlog.Tile{H: 8, L: o.Level, N: o.Index, W: o.Width}, s)
			r.Data, r.Error = data, errText(err)
		case "proveRecord":
			p, err := tlog.ProveRecord(o.T, o.N, s)
			r.Proof, r.Error = bytesOf(p), errText(err)
		case "proveTree":
			p, err := tlog.ProveTree(o.T, o.N, s)
			r.Proof, r.Error = bytesOf(p), errText(err)
		case "checkRecord":
			r.Error = errText(tlog.CheckRecord(hashes(o.Proof), o.T, hash(o.TH), o.N, hash(o.H)))
			if r.Error == "" {
				r.Error = "ok"
			}
		case "checkTree":
			r.Error = errText(tlog.CheckTree(hashes(o.Proof), o.T, hash(o.TH), o.N, hash(o.H)))
			if r.Error == "" {
				r.Error = "ok"
			}
		case "tileReader":
			thr := tlog.TileHashReader(tlog.Tree{N: o.Size, Hash: hash(o.Root)}, c2spTiles(o.Tiles))
			h, err := tlog.TreeHash(o.Size, thr)
			if err != nil {
				r.Error = err.Error()
				break
			}
			r.Hash = h[:]
			for _, tn := range o.Record {
				p, err := tlog.ProveRecord(tn[0], tn[1], thr)
				if err != nil {
					r.Error = err.Error()
					break
				}
				r.RecordProofs = append(r.RecordProofs, bytesOf(p))
			}
			for _, tn := range o.Trees {
				p, err := tlog.ProveTree(tn[0], tn[1], thr)
				if err != nil {
					r.Error = err.Error()
					break
				}
				r.TreeProofs = append(r.TreeProofs, bytesOf(p))
			}
		default:
			panic("unknown op " + o.Op)
		}
		out[i] = r
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
