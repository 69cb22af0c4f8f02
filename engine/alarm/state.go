package alarm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// ErrHeld is returned by Held while an alert waits for the owner: pruning
// (forgetting old backups) must wait, since the backups from before an
// attack are the ones the owner needs.
var ErrHeld = errors.New("alarm: pruning is held until the owner has looked at the alert")

// Alert is a raised alarm.
type Alert struct {
	ID      string    `json:"id"`
	Account string    `json:"account"`
	Person  string    `json:"person"`
	At      time.Time `json:"at"`
	// Sentences say what happened, in plain words, one per finding.
	Sentences []string `json:"sentences"`
	// Restore names the last backup (per kind) from before the change.
	Restore map[string]SnapshotRef `json:"restore,omitempty"`
	Facts   Facts                  `json:"facts"`
}

// Advice is the sentence that goes with the alert: the backup to restore.
func (a Alert) Advice() string {
	var newest time.Time
	for _, s := range a.Restore {
		if s.Time.After(newest) {
			newest = s.Time
		}
	}
	if newest.IsZero() {
		return "Check with " + a.Person + " what happened before the next backup runs."
	}
	return "The last backup from before this change is from " + newest.Local().Format("Monday 2 January 15:04") +
		": the restore wizard offers it. Old backups are kept until you have looked."
}

// Thresholds decide what is far outside the usual pattern. The zero value
// means DefaultThresholds.
type Thresholds struct {
	// MinCount: fewer items than this never fire (a person deleting a
	// folder of five files is not an attack).
	MinCount int
	// MinShare: the share of an account's files or emails (deleted,
	// trashed) that must be reached, whatever the history.
	MinShare float64
	// Factor: the count or share must also be this many times the largest
	// seen in the account's recent ordinary runs.
	Factor float64
}

// DefaultThresholds: at least 10 items, a quarter of them, and three times
// the account's worst ordinary run.
func DefaultThresholds() Thresholds { return Thresholds{MinCount: 10, MinShare: 0.25, Factor: 3} }

// State is the alarm's memory: per account the facts of recent ordinary
// runs (the usual pattern), and the open alerts. Safe for concurrent use.
type State struct {
	path string
	th   Thresholds

	mu  sync.Mutex
	doc stateDoc
}

type stateDoc struct {
	Version int                `json:"version"`
	History map[string][]Facts `json:"history"`
	Alerts  []Alert            `json:"alerts"`
}

const (
	stateVersion = 1
	historyRuns  = 30
	maxStateSize = 16 << 20
)

// OpenState reads the state file at path (a missing file is a fresh
// state). th zero means DefaultThresholds.
func OpenState(path string, th Thresholds) (*State, error) {
	if th == (Thresholds{}) {
		th = DefaultThresholds()
	}
	s := &State{path: path, th: th, doc: stateDoc{Version: stateVersion, History: map[string][]Facts{}}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alarm: %w", err)
	}
	if len(b) > maxStateSize {
		return nil, fmt.Errorf("alarm: %s is larger than %d bytes", path, maxStateSize)
	}
	var doc stateDoc
	if err := json.Unmarshal(b, &doc); err != nil || doc.Version > stateVersion {
		// A damaged state must not silence the alarm: start afresh,
		// keeping no history (alerts fire on the absolute thresholds).
		return s, nil
	}
	if doc.History == nil {
		doc.History = map[string][]Facts{}
	}
	s.doc = doc
	return s, nil
}

func (s *State) saveLocked() error {
	b, err := json.MarshalIndent(s.doc, "", " ")
	if err != nil {
		return fmt.Errorf("alarm: %w", err)
	}
	if err := secret.WriteFileAtomic(s.path, b); err != nil {
		return fmt.Errorf("alarm: saving %s: %w", s.path, err)
	}
	return nil
}

// Record judges one run's facts against the account's usual pattern. An
// ordinary run joins the history; an extraordinary one raises an alert
// (returned, and kept until acknowledged) and does not: an attack must
// not become the usual pattern.
func (s *State) Record(f Facts) (*Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hist := s.doc.History[f.Account]
	sentences := judge(f, hist, s.th)
	var a *Alert
	if len(sentences) > 0 {
		a = &Alert{ID: newID(), Account: f.Account, Person: f.Person, At: f.At, Sentences: sentences, Restore: f.Before, Facts: f}
		s.doc.Alerts = append(s.doc.Alerts, *a)
	} else {
		hist = append(hist, f)
		if len(hist) > historyRuns {
			hist = hist[len(hist)-historyRuns:]
		}
		s.doc.History[f.Account] = hist
	}
	return a, s.saveLocked()
}

// Alerts returns the open alerts, oldest first.
func (s *State) Alerts() []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.doc.Alerts)
}

// Held returns ErrHeld (with the alerts' sentences) while an alert is
// open; pruning must not run then.
func (s *State) Held() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.doc.Alerts) == 0 {
		return nil
	}
	var all []string
	for _, a := range s.doc.Alerts {
		all = append(all, a.Sentences...)
	}
	return fmt.Errorf("%w: %s", ErrHeld, strings.Join(all, "; "))
}

// Acknowledge closes an alert: the owner has looked. Pruning resumes when
// no alert is left.
func (s *State) Acknowledge(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.doc.Alerts, func(a Alert) bool { return a.ID == id })
	if i < 0 {
		return fmt.Errorf("alarm: no open alert %q", id)
	}
	s.doc.Alerts = slices.Delete(s.doc.Alerts, i, i+1)
	return s.saveLocked()
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// judge returns one plain sentence per finding that is far outside the
// history, none for an ordinary run.
func judge(f Facts, hist []Facts, th Thresholds) []string {
	usual := func(get func(Facts) float64) float64 {
		m := 0.0
		for _, h := range hist {
			m = max(m, get(h))
		}
		return m
	}
	share := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return float64(n) / float64(of)
	}
	// far: n items, a share of the whole (or -1 when a share means
	// nothing), both beyond the thresholds and the history.
	far := func(n int, sh float64, usualN, usualShare float64) bool {
		if n < th.MinCount || float64(n) <= th.Factor*usualN {
			return false
		}
		return sh < 0 || (sh >= th.MinShare && sh > th.Factor*usualShare)
	}
	var out []string
	who := f.Person
	if who == "" {
		who = "this account"
	}
	if far(f.FilesUnreadable, -1, usual(func(h Facts) float64 { return float64(h.FilesUnreadable) }), 0) {
		out = append(out, fmt.Sprintf("%d of %s's files changed into unreadable data in the last run.", f.FilesUnreadable, who))
	}
	if far(f.FilesDeleted, share(f.FilesDeleted, f.FilesBefore), usual(func(h Facts) float64 { return float64(h.FilesDeleted) }),
		usual(func(h Facts) float64 { return share(h.FilesDeleted, h.FilesBefore) })) {
		out = append(out, fmt.Sprintf("%d of %s's %d files were deleted in the last run.", f.FilesDeleted, who, f.FilesBefore))
	}
	ext, n := "", 0
	for e, c := range f.RenamedTo {
		if c > n || (c == n && e < ext) {
			ext, n = e, c
		}
	}
	if far(n, -1, usual(func(h Facts) float64 { return float64(maxValue(h.RenamedTo)) }), 0) {
		out = append(out, fmt.Sprintf("%d of %s's files were renamed to end in %s in the last run.", n, who, ext))
	}
	if far(f.MailDeleted, share(f.MailDeleted, f.MailBefore), usual(func(h Facts) float64 { return float64(h.MailDeleted) }),
		usual(func(h Facts) float64 { return share(h.MailDeleted, h.MailBefore) })) {
		out = append(out, fmt.Sprintf("%d of %s's %d emails were deleted in the last run.", f.MailDeleted, who, f.MailBefore))
	}
	if far(f.MailTrashed, share(f.MailTrashed, f.MailBefore), usual(func(h Facts) float64 { return float64(h.MailTrashed) }),
		usual(func(h Facts) float64 { return share(h.MailTrashed, h.MailBefore) })) {
		out = append(out, fmt.Sprintf("%d of %s's emails were moved to Deleted Items in the last run.", f.MailTrashed, who))
	}
	return out
}

func maxValue(m map[string]int) int {
	n := 0
	for _, v := range m {
		n = max(n, v)
	}
	return n
}
