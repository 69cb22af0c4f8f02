package service

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// HostIDFile is the file in the config folder that names this computer
// to the backups it writes (repo.Options.HostID): a random ID made once,
// so two office PCs with the same name, or a PC whose name changes, are
// still told apart by the locks in a shared backup folder.
const HostIDFile = "host.json"

type hostFile struct {
	HostID string `json:"hostID"`
}

// hostIdentity is this computer's ID, read or made once per process.
type hostIdentity struct {
	once sync.Once
	id   string
}

// HostID returns this computer's stable identity, making it the first
// time. "" when the config folder cannot keep it (locks then tell
// computers apart by name, as before).
func (s *Service) HostID() string {
	h := &s.hostID
	h.once.Do(func() {
		id, err := loadOrMakeHostID(s.o.ConfigDir)
		if err != nil {
			s.o.Logger.Warn("this computer's identity for shared backups could not be kept; computers are told apart by name", "err", err)
		}
		h.id = id
	})
	return h.id
}

func validHostID(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == 16
}

// loadOrMakeHostID reads dir/host.json, or makes it. Two processes
// starting at once on a new computer must agree: the file is created with
// O_EXCL, and the loser reads the winner's.
func loadOrMakeHostID(dir string) (string, error) {
	read := func() (string, bool) {
		b, _, err := readStateFile(dir, HostIDFile)
		if err != nil || b == nil {
			return "", false
		}
		var hf hostFile
		if json.Unmarshal(b, &hf) != nil || !validHostID(hf.HostID) {
			return "", false
		}
		return hf.HostID, true
	}
	if id, ok := read(); ok {
		return id, nil
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw)
	b, _ := json.MarshalIndent(hostFile{HostID: id}, "", "  ")
	b = append(b, '\n')
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, HostIDFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		// Another process made it meanwhile, and may still be writing it.
		for range 10 {
			if id, ok := read(); ok {
				return id, nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Damaged (a crash while it was first written): replace it.
		return id, secret.WriteFileAtomic(path, b)
	case err != nil:
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return id, f.Close()
}
