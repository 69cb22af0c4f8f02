package m365sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"
)

// Attacks and a normal day: changes the simulated tenant undergoes when
// ransomware or a saboteur strikes, and when people just work, so the
// mass-deletion alarm can be tested against both. They are control
// calls (not Graph): Graph sees their effects as it would see a person's
// or a sync client's (deleted items, new content versions, renames and
// moves, all in the delta feeds).

// filePaths returns a user's files (not folders) with their paths, in a
// stable order.
func (t *Tenant) filePaths(user string) ([]DriveItem, []string, error) {
	items, err := t.DriveItems(user)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]DriveItem{}
	for _, it := range items {
		byID[it.ID] = it
	}
	var files []DriveItem
	var paths []string
	for _, it := range items {
		if it.Folder || it.Deleted {
			continue
		}
		var parts []string
		for cur, ok := it, true; ok && cur.ParentID != ""; cur, ok = byID[cur.ParentID] {
			parts = append([]string{cur.Name}, parts...)
		}
		files = append(files, it)
		paths = append(paths, strings.Join(parts, "/"))
	}
	idx := make([]int, len(files))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(paths[a], paths[b]) })
	outF, outP := make([]DriveItem, len(idx)), make([]string, len(idx))
	for i, k := range idx {
		outF[i], outP[i] = files[k], paths[k]
	}
	return outF, outP, nil
}

// AttackDeleteFiles deletes every file of the user's OneDrive.
func (t *Tenant) AttackDeleteFiles(user string) (int, error) {
	files, _, err := t.filePaths(user)
	if err != nil {
		return 0, err
	}
	for _, f := range files {
		if err := t.DeleteDriveItem(user, f.ID); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// AttackEncryptFiles replaces the content of every file with random bytes
// of about the same size, as ransomware encrypting in place does; with ext
// (".locked") each file is also renamed to end in it.
func (t *Tenant) AttackEncryptFiles(user, ext string, seed uint64) (int, error) {
	files, paths, err := t.filePaths(user)
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(seed, 0xbad))
	for i, f := range files {
		if f.Content == nil || f.Content.Size() == 0 {
			continue
		}
		b := make([]byte, min(f.Content.Size(), 1<<20)+16)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if _, err := t.PutFile(user, paths[i], BytesContent(b), time.Time{}); err != nil {
			return 0, err
		}
		if ext != "" {
			if _, err := t.MoveDriveItem(user, f.ID, "", f.Name+ext); err != nil {
				return 0, err
			}
		}
	}
	return len(files), nil
}

// AttackRenameFiles renames every file to end in ext, content unchanged.
func (t *Tenant) AttackRenameFiles(user, ext string) (int, error) {
	if ext == "" {
		return 0, errors.New("m365sim: give the extension the files are renamed to")
	}
	files, _, err := t.filePaths(user)
	if err != nil {
		return 0, err
	}
	for _, f := range files {
		if _, err := t.MoveDriveItem(user, f.ID, "", f.Name+ext); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// AttackTrashMail moves every message outside Deleted Items into it.
func (t *Tenant) AttackTrashMail(user string) (int, error) {
	trash, err := t.EnsureFolderPath(user, "Deleted Items")
	if err != nil {
		return 0, err
	}
	msgs, err := t.Messages(user, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range msgs {
		if m.FolderID == trash.ID {
			continue
		}
		if _, err := t.MoveMessage(user, m.ID, trash.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// DemoDay makes one ordinary working day's changes to the user's mailbox
// and OneDrive, deterministically for seed and day: new mail, a few
// messages moved to Deleted Items and one of those deleted, two documents
// edited (new content of the same kind), a new document, one file deleted
// and one renamed.
func (t *Tenant) DemoDay(user string, seed int64, day int) error {
	r := newDemoRand(demoKey(uint64(seed), 0xda1, uint64(day)))
	when := t.now().UTC()
	for i := range 8 + r.intn(8) {
		mime := fmt.Sprintf("From: Customer %d <c%d@example.com>\r\nTo: %s\r\nSubject: Order %d-%d\r\nDate: %s\r\nMessage-ID: <day%d-%d-%d@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\nplease deliver %d loaves on Friday.\r\n",
			i, i, user, day, i, when.Format(time.RFC1123Z), seed, day, i, 10+r.intn(40))
		if _, err := t.AddMessage(user, "inbox", []byte(mime), MessageOptions{}); err != nil {
			return err
		}
	}
	trash, err := t.EnsureFolderPath(user, "Deleted Items")
	if err != nil {
		return err
	}
	inbox, err := t.EnsureFolderPath(user, "Inbox")
	if err != nil {
		return err
	}
	msgs, err := t.Messages(user, inbox.ID)
	if err != nil {
		return err
	}
	for i := 0; i < 3 && len(msgs) > 0; i++ {
		k := r.intn(len(msgs))
		if _, err := t.MoveMessage(user, msgs[k].ID, trash.ID); err != nil {
			return err
		}
		msgs = slices.Delete(msgs, k, k+1)
	}
	if old, err := t.Messages(user, trash.ID); err == nil && len(old) > 0 {
		if err := t.DeleteMessage(user, old[r.intn(len(old))].ID); err != nil {
			return err
		}
	}

	files, paths, err := t.filePaths(user)
	if err != nil {
		return err
	}
	if len(files) < 4 {
		return nil
	}
	for range 2 {
		k := r.intn(len(files))
		kind, lo, hi := demoKindOf(files[k].Name, path.Dir(paths[k]))
		size := lo + r.int64n(max(hi-lo, 1))
		c := demoFileContent(kind, min(size, 2<<20), demoKey(uint64(seed), 0xed17, uint64(day), uint64(k)), paths[k])
		if _, err := t.PutFile(user, paths[k], c, when); err != nil {
			return err
		}
	}
	name := fmt.Sprintf("Documents/Notes %d.docx", day)
	if _, err := t.PutFile(user, name, demoFileContent(fkOffice, 20<<10, demoKey(uint64(seed), 0xd0c, uint64(day)), name), when); err != nil {
		return err
	}
	del := r.intn(len(files))
	if err := t.DeleteDriveItem(user, files[del].ID); err != nil {
		return err
	}
	ren := (del + 1 + r.intn(len(files)-1)) % len(files)
	ext := path.Ext(files[ren].Name)
	newName := strings.TrimSuffix(files[ren].Name, ext) + " (final)" + ext
	if _, err := t.MoveDriveItem(user, files[ren].ID, "", newName); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	return nil
}

// controlAttackRoutes adds the attacks to the control API:
// attack/delete-files, attack/encrypt-files (newName: the extension to
// add, optional), attack/rename-files (newName: the extension),
// attack/trash-mail and demo/day (spec: the day number).
func (s *Server) controlAttackRoutes(handle func(string, func(ControlRequest) (ControlResult, error))) {
	count := func(n int, err error, what string) (ControlResult, error) {
		if err != nil {
			return ControlResult{}, err
		}
		return ControlResult{Counts: map[string]int{"items": n}, Message: fmt.Sprintf("%s %d item(s)", what, n)}, nil
	}
	handle("attack/delete-files", func(req ControlRequest) (ControlResult, error) {
		n, err := s.tenant.AttackDeleteFiles(req.User)
		return count(n, err, "deleted")
	})
	handle("attack/encrypt-files", func(req ControlRequest) (ControlResult, error) {
		n, err := s.tenant.AttackEncryptFiles(req.User, req.NewName, uint64(time.Now().UnixNano()))
		return count(n, err, "encrypted")
	})
	handle("attack/rename-files", func(req ControlRequest) (ControlResult, error) {
		n, err := s.tenant.AttackRenameFiles(req.User, req.NewName)
		return count(n, err, "renamed")
	})
	handle("attack/trash-mail", func(req ControlRequest) (ControlResult, error) {
		n, err := s.tenant.AttackTrashMail(req.User)
		return count(n, err, "moved to Deleted Items")
	})
	handle("demo/day", func(req ControlRequest) (ControlResult, error) {
		day := 0
		fmt.Sscan(req.Spec, &day)
		if err := s.tenant.DemoDay(req.User, 1, day); err != nil {
			return ControlResult{}, err
		}
		return ControlResult{Message: "one ordinary day of changes made"}, nil
	})
}
