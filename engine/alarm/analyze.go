package alarm

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Collector gathers what a backup run downloads: pass Observe as
// backup.Options.OnFileContent. It is safe for concurrent use.
type Collector struct {
	mu   sync.Mutex
	sigs map[string]map[string]Sig // account → file ID → signature
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector { return &Collector{sigs: map[string]map[string]Sig{}} }

// Observe records the start of one downloaded file.
func (c *Collector) Observe(s backup.FileSample) {
	sig := SigOf(s.Head)
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.sigs[s.Account]
	if m == nil {
		m = map[string]Sig{}
		c.sigs[s.Account] = m
	}
	m[s.ID] = sig
}

// Take returns and forgets what was observed for an account.
func (c *Collector) Take(account string) map[string]Sig {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.sigs[account]
	delete(c.sigs, account)
	return m
}

// SnapshotRef names a backup to restore from.
type SnapshotRef struct {
	ID   repo.ID   `json:"id"`
	Time time.Time `json:"time"`
}

// Facts are what changed in one account in one run.
type Facts struct {
	Account string    `json:"account"` // home ID
	Person  string    `json:"person"`  // first name, for the sentences
	At      time.Time `json:"at"`
	// Files before the run, and of them: deleted, with changed content,
	// changed into content that does not match their type, renamed.
	FilesBefore, FilesDeleted, FilesChanged, FilesUnreadable, FilesRenamed int
	// RenamedTo counts files whose extension changed, by new extension.
	RenamedTo map[string]int `json:"renamedTo,omitempty"`
	// Emails before the run; deleted; moved into Deleted Items.
	MailBefore, MailDeleted, MailTrashed int
	// Before are the previous run's snapshots (by kind): what a restore
	// should start from if this run's changes are an attack.
	Before map[string]SnapshotRef `json:"before,omitempty"`
}

// Analyze compares the snapshots a run wrote (res.Snapshots) with the
// ones before them (their parents) and the content signatures observed
// during the run. A kind without a previous snapshot (the first backup)
// contributes nothing.
func Analyze(ctx context.Context, r *repo.Repository, account, person string, res backup.Result, sigs map[string]Sig, at time.Time) (Facts, error) {
	f := Facts{Account: account, Person: person, At: at, RenamedTo: map[string]int{}, Before: map[string]SnapshotRef{}}
	for _, kind := range []string{backup.KindMail, backup.KindOneDrive} {
		id, ok := res.Snapshots[kind]
		if !ok {
			continue
		}
		cur, err := r.LoadSnapshot(ctx, id)
		if err != nil {
			return f, fmt.Errorf("alarm: %w", err)
		}
		if cur.Parent.IsZero() {
			continue
		}
		prevSnap, err := r.LoadSnapshot(ctx, cur.Parent)
		if err != nil {
			return f, fmt.Errorf("alarm: the previous backup: %w", err)
		}
		f.Before[kind] = SnapshotRef{ID: prevSnap.ID, Time: prevSnap.Time}
		now, err := backup.ReadSnapshot(ctx, r, id)
		if err != nil {
			return f, fmt.Errorf("alarm: %w", err)
		}
		prev, err := backup.ReadSnapshot(ctx, r, prevSnap.ID)
		if err != nil {
			return f, fmt.Errorf("alarm: the previous backup: %w", err)
		}
		if kind == backup.KindMail {
			mailFacts(&f, prev, now)
		} else {
			fileFacts(&f, prev, now, sigs)
		}
	}
	return f, nil
}

func mailFacts(f *Facts, prev, now *backup.Contents) {
	type msg struct {
		trash bool
		mid   string
	}
	index := func(c *backup.Contents) (map[string]msg, map[string]int) {
		byID, byMID := map[string]msg{}, map[string]int{}
		for _, fo := range c.Folders {
			for _, m := range fo.Messages {
				byID[m.ID] = msg{trash: isTrash(fo), mid: m.InternetMessageID}
				if m.InternetMessageID != "" && !isTrash(fo) {
					byMID[m.InternetMessageID]++
				}
			}
		}
		return byID, byMID
	}
	before, _ := index(prev)
	after, _ := index(now)
	// Graph gives a moved message a new id; its Internet Message-ID stays
	// (copies in Sent Items and Inbox may share one, so they are counted).
	trashMID := map[string]int{}
	for id, m := range after {
		if _, ok := before[id]; !ok && m.trash && m.mid != "" {
			trashMID[m.mid]++
		}
	}
	otherMID := map[string]int{}
	for id, m := range after {
		if _, ok := before[id]; !ok && !m.trash && m.mid != "" {
			otherMID[m.mid]++
		}
	}
	f.MailBefore = len(before)
	for id, old := range before {
		cur, ok := after[id]
		switch {
		case ok && cur.trash && !old.trash:
			f.MailTrashed++
		case ok:
		case old.mid != "" && !old.trash && trashMID[old.mid] > 0:
			trashMID[old.mid]--
			f.MailTrashed++
		case old.mid != "" && (otherMID[old.mid] > 0 || trashMID[old.mid] > 0):
			if otherMID[old.mid] > 0 {
				otherMID[old.mid]--
			} else {
				trashMID[old.mid]--
			}
		default:
			f.MailDeleted++
		}
	}
}

// isTrash reports the Deleted Items folder. Graph v1.0 does not return
// wellKnownName in folder listings, so a snapshot may not know it; the
// top-level folder's English name is the fallback (a localized mailbox
// without the well-known name is missed, not misjudged).
func isTrash(fo backup.FolderContents) bool {
	return strings.EqualFold(fo.WellKnown, "deleteditems") || strings.EqualFold(fo.Path, "Deleted Items")
}

func fileFacts(f *Facts, prev, now *backup.Contents, sigs map[string]Sig) {
	files := func(c *backup.Contents) map[string]backup.File {
		out := map[string]backup.File{}
		for _, fl := range c.Files {
			if !fl.Folder && fl.Content != nil {
				out[fl.ID] = fl
			}
		}
		return out
	}
	before, after := files(prev), files(now)
	f.FilesBefore = len(before)
	for id, old := range before {
		cur, ok := after[id]
		if !ok {
			f.FilesDeleted++
			continue
		}
		if cur.Name != old.Name {
			f.FilesRenamed++
			if oe, ne := strings.ToLower(path.Ext(old.Name)), strings.ToLower(path.Ext(cur.Name)); oe != ne && ne != "" {
				f.RenamedTo[ne]++
			}
		}
		if sameContent(old.Content, cur.Content) {
			continue
		}
		f.FilesChanged++
		if sig, ok := sigs[id]; ok && sig.UnreadableAs(old.Name) && cur.Content.Size > 0 {
			f.FilesUnreadable++
		}
	}
}

func sameContent(a, b *repo.ContentRef) bool {
	if a.Size != b.Size || len(a.Chunks) != len(b.Chunks) {
		return false
	}
	for i := range a.Chunks {
		if a.Chunks[i] != b.Chunks[i] {
			return false
		}
	}
	return true
}
