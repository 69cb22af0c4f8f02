package repo

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"
)

// The fuzz targets feed hostile bytes to every decoder of repository data.
// They must never panic, and every allocation must be bounded by the input
// length (checked here by capping what a decoder may return).

func FuzzDecodePackHeader(f *testing.F) {
	entries := []packEntry{
		{Type: DataBlob, ID: ID{1}, Length: 100, RawLength: 59},
		{Type: TreeBlob, ID: ID{2}, Length: 41, RawLength: 0},
	}
	f.Add(encodePackHeader(entries))
	f.Add(encodePackHeader(nil))
	huge := encodePackHeader(nil)
	binary.LittleEndian.PutUint32(huge[5:], 0xffffffff)
	f.Add(huge)
	f.Add([]byte("LBPH"))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodePackHeader(b)
		if err != nil {
			return
		}
		if len(es)*packEntrySize > len(b) {
			t.Fatalf("%d entries from %d bytes", len(es), len(b))
		}
		if got := encodePackHeader(es); string(got) != string(b) {
			t.Fatal("re-encoding differs")
		}
	})
}

func FuzzPackTrailer(f *testing.F) {
	f.Add([]byte{100, 0, 0, 0, 'L', 'B', 'P', 'K'}, int64(1000))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'L', 'B', 'P', 'K'}, int64(1<<40))
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		n, err := parsePackTrailer(b, size)
		if err == nil && (int64(n) > size-packTrailerSize || n > maxPackHeaderSize) {
			t.Fatalf("header length %d accepted for size %d", n, size)
		}
	})
}

func FuzzDecodeIndex(f *testing.F) {
	f.Add(encodeIndex([]indexPack{{ID: ID{9}, Size: 500, Entries: []packEntry{
		{Type: DataBlob, ID: ID{1}, Offset: 0, Length: 100, RawLength: 59},
		{Type: TreeBlob, ID: ID{2}, Offset: 100, Length: 41, RawLength: 0},
	}}}))
	f.Add(encodeIndex(nil))
	many := encodeIndex(nil)
	binary.LittleEndian.PutUint32(many[5:], 0xffffffff)
	f.Add(many)
	f.Fuzz(func(t *testing.T, b []byte) {
		packs, err := decodeIndex(b)
		if err != nil {
			return
		}
		n := 0
		for _, p := range packs {
			n += indexPackFixed + len(p.Entries)*indexEntrySize
			for _, e := range p.Entries {
				if int64(e.Offset)+int64(e.Length) > p.Size {
					t.Fatalf("entry outside pack accepted: %+v in %d", e, p.Size)
				}
			}
		}
		if n+indexFixed != len(b) {
			t.Fatalf("decoded %d bytes' worth from %d", n+indexFixed, len(b))
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	s, _ := json.Marshal(&Snapshot{Version: 1, Time: time.Unix(1700000000, 0).UTC(), Kind: "mail",
		Root: ID{1}, State: map[string]string{"delta": "x"}, Tags: []string{"a"}})
	f.Add(s)
	f.Add([]byte(`{"version":2,"time":"2025-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1,"time":"2025-01-01T00:00:00Z","root":"zz"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSnapshot(b)
		if err == nil && (s.Version != snapshotVersion || s.Time.IsZero()) {
			t.Fatalf("invalid snapshot accepted: %+v", s)
		}
	})
}

func FuzzDecodeKeyFile(f *testing.F) {
	p := KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	b, _ := json.Marshal(&keyFile{Version: 1, Kind: RecoveryKeySlot, KDF: &p, Salt: make([]byte, 16), Wrapped: make([]byte, 72)})
	f.Add(b)
	b, _ = json.Marshal(&keyFile{Version: 1, Kind: KeyStoreSlot, KeyStoreID: "x", Wrapped: make([]byte, 72)})
	f.Add(b)
	f.Add([]byte(`{"version":1,"kind":"recovery","kdf":{"time":1,"memory_kib":4294967295,"threads":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		kf, err := decodeKeyFile(b)
		if err == nil && kf.Kind == RecoveryKeySlot && kf.KDF.MemoryKiB > maxKDFMemoryKiB {
			t.Fatal("unbounded KDF memory accepted")
		}
	})
}

func FuzzParseRecoveryKey(f *testing.F) {
	k, _ := generateRecoveryKey()
	f.Add(k.String())
	f.Add("00000-00000-00000-00000-00000-00000-00000")
	f.Add("ü")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseRecoveryKey(s)
		if err != nil {
			return
		}
		if k2, err := ParseRecoveryKey(k.String()); err != nil || k2 != k {
			t.Fatalf("canonical form does not round-trip: %v", err)
		}
	})
}

func FuzzReadConfigVersion(f *testing.F) {
	f.Add(configHeader(1))
	f.Add([]byte("LIFEBOA"))
	f.Fuzz(func(t *testing.T, b []byte) {
		readConfigVersion(b)
	})
}
