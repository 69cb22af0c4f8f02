package restore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
)

// The journal is an append-only text file: one line per finished item,
// a hash of the destination and the item's version. Each line is synced
// before the item counts as done; a line torn by a crash has no newline
// and is ignored (and closed with one before anything is appended). It
// holds hashes, not names, so it reveals nothing of what was restored.

const journalLineLen = 64

// journalEntry identifies a version of an item (the destination is mixed
// in by the journal).
func journalEntry(v catalog.VersionInfo) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%s", v.Item.Account, v.Item.Kind, v.Item.ID, v.ID, v.Content)
}

func journalLine(key, entry string) string {
	h := sha256.Sum256([]byte(key + "\x01" + entry))
	return hex.EncodeToString(h[:])
}

// doneSet answers "was this entry journaled for this destination".
type doneSet struct {
	key   string
	lines map[string]bool
}

func (d doneSet) has(entry string) bool { return d.lines[journalLine(d.key, entry)] }

// readJournal reads the finished entries for a destination.
func readJournal(path, key string) (doneSet, error) {
	d := doneSet{key: key, lines: map[string]bool{}}
	if path == "" {
		return d, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("restore: reading the journal: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			break // a torn last line (no newline) does not count
		}
		if err != nil {
			return d, fmt.Errorf("restore: reading the journal: %w", err)
		}
		if l := line[:len(line)-1]; len(l) == journalLineLen {
			d.lines[l] = true
		}
	}
	return d, nil
}

// journal appends finished entries.
type journal struct {
	mu  sync.Mutex
	f   *os.File
	key string
}

func openJournal(path, key string) (*journal, error) {
	j := &journal{key: key}
	if path == "" {
		return j, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("restore: journal folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("restore: opening the journal: %w", err)
	}
	// Close a line torn by a crash so the next one starts clean.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && !bytes.Equal(last, []byte("\n")) {
			if _, err := f.Write([]byte("\n")); err != nil {
				f.Close()
				return nil, fmt.Errorf("restore: journal: %w", err)
			}
		}
	}
	j.f = f
	return j, nil
}

// add records v as finished, durably.
func (j *journal) add(v catalog.VersionInfo) error {
	if j.f == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.WriteString(journalLine(j.key, journalEntry(v)) + "\n"); err != nil {
		return fmt.Errorf("restore: journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("restore: journal: %w", err)
	}
	return nil
}

func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	return j.f.Close()
}

func removeJournal(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
