package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// mailFolder is one folder during a run. Its messages are loaded from the
// previous snapshot only when the folder changed; an unchanged folder
// keeps its page list as it was.
type mailFolder struct {
	e        folderEntry
	link     string              // message delta link from the previous snapshot
	msgs     map[string]*Message // nil until loaded
	prevPath string
	isNew    bool
	removed  bool
	dirty    bool // messages changed: pages must be written again
	keepLink bool // an item was skipped or the delta failed: keep link
}

// mailRun is the mail phase.
type mailRun struct {
	ru       *run
	s        *stream
	folders  map[string]*mailFolder
	removed  map[string]int64    // message ids gone from their folder, with size
	upserted map[string]struct{} // message ids upserted in this run
}

func (mr *mailRun) load(ctx context.Context, f *mailFolder) error {
	if f.msgs != nil {
		return nil
	}
	f.msgs = map[string]*Message{}
	for _, pid := range f.e.Pages {
		p, err := loadPage(ctx, mr.ru.r, pid)
		if err != nil {
			return repoError{err}
		}
		for i := range p.Messages {
			m := p.Messages[i]
			f.msgs[m.ID] = &m
		}
	}
	return nil
}

func (ru *run) backupMail(ctx context.Context) error {
	prev := ru.previous(KindMail)
	s, err := ru.openStream(ctx, catalog.SnapshotMail, prev)
	if err != nil {
		return err
	}
	defer s.close()
	mr := &mailRun{ru: ru, s: s, folders: map[string]*mailFolder{}, removed: map[string]int64{}, upserted: map[string]struct{}{}}
	state := map[string]string{stateMailIDs: "immutable"}
	if prev != nil && !prev.Root.IsZero() {
		rt, err := loadRoot(ctx, ru.r, prev.Root)
		if err != nil {
			return repoError{err}
		}
		for _, fe := range rt.Folders {
			link := prev.State[stateFolderPrefix+fe.ID]
			if prev.State[stateMailIDs] != "immutable" {
				// Recorded with default IDs (before graph asked for
				// immutable ones): list each folder once, so the old
				// IDs go and stored content is found again by
				// internetMessageId.
				link = ""
			}
			mr.folders[fe.ID] = &mailFolder{e: fe, link: link, prevPath: fe.Path}
		}
	}
	ru.prog.update(true, func(p *Progress) { p.Phase = ru.phase(PhaseMail); p.Current = "" })

	// Folders: renames, moves, new and removed folders.
	folderLink := ""
	if prev != nil {
		folderLink = prev.State[stateFolderDelta]
	}
	seen := map[string]bool{}
	apply := func(page []graph.MailFolder) error {
		for _, gf := range page {
			seen[gf.ID] = true
			f := mr.folders[gf.ID]
			if gf.Removed {
				if f != nil {
					f.removed = true
				}
				continue
			}
			if f == nil {
				f = &mailFolder{isNew: true, msgs: map[string]*Message{}}
				mr.folders[gf.ID] = f
			}
			f.removed = false
			f.e.ID, f.e.ParentID, f.e.Name, f.e.Hidden = gf.ID, gf.ParentID, gf.DisplayName, gf.IsHidden
			if gf.WellKnownName != "" {
				f.e.WellKnown = gf.WellKnownName
			}
			if folderLink == "" || f.isNew {
				ru.prog.update(false, func(p *Progress) { p.ItemsTotal += int64(gf.TotalItemCount) })
			}
		}
		return nil
	}
	newLink, err := ru.g.MailFolderDelta(ctx, ru.o.User, folderLink, apply)
	full := folderLink == ""
	if errors.Is(err, graph.ErrGone) && !full {
		ru.log.Info("mail folder changes expired; listing all folders")
		clear(seen)
		full = true
		newLink, err = ru.g.MailFolderDelta(ctx, ru.o.User, "", apply)
	}
	if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
		ru.notAllowed("read the mailbox", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: listing mail folders: %w", err)
	}
	if full {
		for id, f := range mr.folders {
			if !seen[id] {
				f.removed = true
			}
		}
	}
	state[stateFolderDelta] = newLink
	mr.paths()

	// Messages, folder by folder in path order.
	ids := make([]string, 0, len(mr.folders))
	for id, f := range mr.folders {
		if !f.removed {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return strings.Compare(mr.folders[a].e.Path, mr.folders[b].e.Path) })
	for _, id := range ids {
		f := mr.folders[id]
		if err := mr.folder(ctx, f); err != nil {
			return err
		}
		// Write the folder's pages now and let its messages go: memory
		// holds one folder at a time.
		if err := mr.flush(ctx, f); err != nil {
			return err
		}
	}

	// Removed folders take their messages with them.
	for _, f := range mr.folders {
		if !f.removed {
			continue
		}
		if err := mr.load(ctx, f); err != nil {
			return err
		}
		for id, m := range f.msgs {
			mr.removed[id] = m.Content.Size
		}
	}
	// Renamed or moved folders: their messages' folder path changed.
	for _, id := range ids {
		f := mr.folders[id]
		if f.isNew || f.e.Path == f.prevPath {
			continue
		}
		if err := mr.load(ctx, f); err != nil {
			return err
		}
		for _, m := range f.msgs {
			if _, done := mr.upserted[m.ID]; done {
				continue
			}
			if err := mr.upsert(f, m, nil); err != nil {
				return err
			}
		}
		f.msgs = nil
	}
	// Deletions last: a message moved (same id) into a folder handled
	// later is not deleted.
	for id, size := range mr.removed {
		if _, ok := mr.upserted[id]; ok {
			continue
		}
		if err := s.delete(id, size); err != nil {
			return err
		}
	}

	if err := ctx.Err(); err != nil {
		return err // see stream.save
	}
	// The tree: unchanged folders kept their pages.
	rt := &root{Format: rootFormat, Kind: KindMail, Account: ru.o.Account.UPN}
	for _, id := range ids {
		f := mr.folders[id]
		rt.Folders = append(rt.Folders, f.e)
		if f.link != "" {
			state[stateFolderPrefix+id] = f.link
		}
	}
	_, err = s.save(ctx, rt, state)
	return err
}

// flush writes a changed folder's pages and drops its messages from
// memory (they are loaded again from the pages if needed).
func (mr *mailRun) flush(ctx context.Context, f *mailFolder) error {
	if err := ctx.Err(); err != nil {
		return err // see stream.save
	}
	if f.dirty || f.isNew {
		// Not cancelled: tree pages are small, and a pack upload cut
		// short would lose the run's stored work (see mailRun.fetch).
		pages, err := saveMessages(context.WithoutCancel(ctx), mr.ru.r, f.msgs)
		if err != nil {
			return repoError{err}
		}
		f.e.Pages, f.e.Count = pages, len(f.msgs)
		f.dirty = false
	}
	f.msgs = nil
	return nil
}

// paths computes every folder's path from its parents.
func (mr *mailRun) paths() {
	var path func(f *mailFolder, depth int) string
	path = func(f *mailFolder, depth int) string {
		p, ok := mr.folders[f.e.ParentID]
		if !ok || depth > 64 || p == f || p.removed {
			return f.e.Name
		}
		return path(p, depth+1) + "/" + f.e.Name
	}
	for _, f := range mr.folders {
		f.e.Path = path(f, 0)
	}
}

// folder runs a folder's message delta.
func (mr *mailRun) folder(ctx context.Context, f *mailFolder) error {
	ru := mr.ru
	full := f.link == ""
	var seen map[string]bool
	if full {
		seen = map[string]bool{}
	}
	fn := func(page []graph.MessageMeta) error {
		return mr.page(ctx, f, page, seen)
	}
	link, err := ru.g.MessageDelta(ctx, ru.o.User, f.e.ID, f.link, fn)
	if errors.Is(err, graph.ErrGone) && !full {
		ru.log.Info("mail folder changes expired; listing the folder again", "folder", f.e.Path)
		full, seen = true, map[string]bool{}
		link, err = ru.g.MessageDelta(ctx, ru.o.User, f.e.ID, "", fn)
	}
	if err != nil {
		if fatal(ctx, err) {
			return fmt.Errorf("backup: mail folder %s: %w", f.e.Path, err)
		}
		if errors.Is(err, graph.ErrNotFound) {
			// Deleted since the folder listing; the next run's folder
			// delta says so.
			return nil
		}
		ru.warn("mail folder %s was not completely backed up: %v", f.e.Path, err)
		return nil
	}
	if full {
		if err := mr.load(ctx, f); err != nil {
			return err
		}
		for id, m := range f.msgs {
			if !seen[id] {
				delete(f.msgs, id)
				mr.removed[id] = m.Content.Size
				f.dirty = true
			}
		}
	}
	if !f.keepLink {
		f.link = link
	}
	return nil
}

// fetched is the outcome of one MIME download.
type fetched struct {
	ref    repo.ContentRef
	info   mimeInfo
	ok     bool
	reason string
	// served is set when OneDrive served other bytes than the hash it
	// reports, twice alike: the hash of what was kept.
	served string
	// links are the message's links to files (links.go).
	links []Link
}

// page applies one page of a folder's delta.
func (mr *mailRun) page(ctx context.Context, f *mailFolder, page []graph.MessageMeta, seen map[string]bool) error {
	ru := mr.ru
	if len(page) == 0 {
		return nil
	}
	if err := mr.load(ctx, f); err != nil {
		return err
	}
	type job struct {
		m   graph.MessageMeta
		ref repo.ContentRef
		get bool
	}
	var jobs []job
	for _, m := range page {
		if m.Removed {
			if old, ok := f.msgs[m.ID]; ok {
				delete(f.msgs, m.ID)
				mr.removed[m.ID] = old.Content.Size
				f.dirty = true
			}
			continue
		}
		if seen != nil {
			seen[m.ID] = true
		}
		ref, ok := mr.known(ctx, f, m)
		jobs = append(jobs, job{m: m, ref: ref, get: !ok})
	}
	ru.prog.update(false, func(p *Progress) {
		if p.ItemsTotal < p.ItemsDone+int64(len(jobs)) {
			p.ItemsTotal = p.ItemsDone + int64(len(jobs))
		}
	})
	results := make([]fetched, len(jobs))
	err := ru.parallel(ctx, len(jobs), func(ctx context.Context, i int) error {
		j := jobs[i]
		if !j.get {
			return nil
		}
		ru.prog.update(false, func(p *Progress) { p.Current = j.m.Subject })
		res, err := mr.fetch(ctx, j.m)
		if err != nil {
			return err
		}
		results[i] = res
		if res.ok {
			// Counted as it arrives, so the count moves with the bytes
			// rather than a page at a time; a failure counts as a skip.
			ru.prog.update(false, func(p *Progress) { p.ItemsDone++ })
		}
		return nil
	})
	// A page cut short (cancelled, a fatal error) still records what was
	// fetched, so the next run does not fetch it again; then it stops.
	for i, j := range jobs {
		if err != nil && j.get && !results[i].ok {
			continue // not fetched (or failed) before the page stopped
		}
		msg := messageFrom(j.m)
		var info *mimeInfo
		if j.get {
			r := results[i]
			if !r.ok {
				f.keepLink = true
				if err := ru.skip(ctx, "mail "+f.e.Path+": "+describe(j.m.Subject, j.m.ID), r.reason, 0); err != nil {
					return err
				}
				continue
			}
			msg.Content, info, msg.Links, msg.LinksListed = r.ref, &r.info, r.links, msg.HasAttachments
		} else {
			msg.Content = j.ref
			links, listed, lerr := mr.keptLinks(ctx, f, j.m)
			if lerr != nil {
				return errors.Join(err, lerr)
			}
			msg.Links, msg.LinksListed = links, listed
			ru.mu.Lock()
			ru.res.Reused++
			ru.mu.Unlock()
		}
		f.msgs[msg.ID] = msg
		f.dirty = true
		if uerr := mr.upsert(f, msg, info); uerr != nil {
			return errors.Join(err, uerr)
		}
		if !j.get {
			ru.prog.update(false, func(p *Progress) { p.ItemsDone++ })
		}
	}
	return err
}

// known returns stored content for a message when its MIME need not be
// fetched. The rule: a message's MIME never changes except while it is a
// draft, so a non-draft message whose id is known (in this folder in the
// previous snapshot, or anywhere in the catalog — a move, or the work of
// an interrupted run) keeps its content, whatever its changeKey says (read
// state, flags, categories and moves change it); a message that moved and
// got a new id is matched by internetMessageId, received time and subject.
// A draft is fetched again whenever its changeKey changed. Content is
// reused only if every chunk of it is in the repository.
func (mr *mailRun) known(ctx context.Context, f *mailFolder, m graph.MessageMeta) (repo.ContentRef, bool) {
	if old, ok := f.msgs[m.ID]; ok && stored(mr.ru.r, old.Content) && (!m.IsDraft || old.ChangeKey == m.ChangeKey) {
		return old.Content, true
	}
	if m.IsDraft {
		// What an interrupted run stored of this very edit of the draft.
		return mr.s.lookup(ctx, m.ID, func(v catalog.VersionInfo) bool {
			var meta mailMeta
			return m.ChangeKey != "" && json.Unmarshal(v.Metadata, &meta) == nil && meta.DraftChangeKey == m.ChangeKey
		})
	}
	if ref, ok := mr.s.lookup(ctx, m.ID, nil); ok {
		return ref, true
	}
	if m.InternetMessageID == "" || !mr.s.lookups {
		return repo.ContentRef{}, false
	}
	vs, err := mr.ru.c.ByInternetMessageID(ctx, mr.ru.o.Account.HomeID, m.InternetMessageID)
	if err != nil {
		return repo.ContentRef{}, false
	}
	for _, v := range vs {
		if !v.Time.Equal(m.Received.Truncate(time.Millisecond)) || v.Name != m.Subject {
			continue
		}
		if ref, err := decodeContent(v.Content); err == nil && stored(mr.ru.r, ref) {
			return ref, true
		}
	}
	return repo.ContentRef{}, false
}

// fetch streams a message's MIME into the repository. Errors other than
// those that end the run come back as a skip reason.
func (mr *mailRun) fetch(ctx context.Context, m graph.MessageMeta) (fetched, error) {
	ru := mr.ru
	rc, _, err := ru.g.OpenMIME(ctx, ru.o.User, m.ID)
	if err != nil {
		return mr.failed(ctx, err)
	}
	defer rc.Close()
	cap := &capture{max: maxCapture}
	ref, itemErr, err := ru.saveDownload(ctx, io.TeeReader(rc, cap))
	if itemErr != nil {
		return mr.failed(ctx, itemErr)
	}
	if err != nil {
		return fetched{}, err
	}
	links, err := mr.links(ctx, m)
	if err != nil {
		return mr.failed(ctx, err)
	}
	return fetched{ref: ref, info: parseMIME(cap.buf), ok: true, links: links}, nil
}

// saveDownload streams a download into the repository and counts it.
// The repository gets a context that is not cancelled: cancelling stops
// the download (the reader fails), while a pack upload in progress
// completes, so an interruption never loses stored work. A failure of the
// download comes back as itemErr (the item is skipped or retried); any
// other error ends the run.
func (ru *run) saveDownload(ctx context.Context, src io.Reader) (ref repo.ContentRef, itemErr, err error) {
	ref, err = ru.r.SaveStream(context.WithoutCancel(ctx), &countReader{r: src, ru: ru})
	if err != nil {
		var ge *graph.Error
		if errors.As(err, &ge) || errors.Is(err, graph.ErrTransient) || errors.Is(err, graph.ErrNotFound) {
			return ref, err, nil
		}
		if ctx.Err() != nil {
			return ref, nil, ctx.Err()
		}
		return ref, nil, repoError{err}
	}
	ru.mu.Lock()
	ru.res.Downloads++
	ru.mu.Unlock()
	return ref, nil, nil
}

func (mr *mailRun) failed(ctx context.Context, err error) (fetched, error) {
	if fatal(ctx, err) {
		return fetched{}, err
	}
	reason := err.Error()
	if errors.Is(err, graph.ErrNotFound) {
		reason = "the message was deleted while it was being backed up"
	}
	return fetched{reason: reason}, nil
}

// upsert records a message in the catalog.
func (mr *mailRun) upsert(f *mailFolder, m *Message, info *mimeInfo) error {
	meta, err := json.Marshal(mailMeta{From: m.From, To: m.To, Cc: m.Cc, Bcc: m.Bcc, Sent: m.Sent, IsRead: m.IsRead, IsDraft: m.IsDraft,
		Flag: m.Flag, Categories: m.Categories, Importance: m.Importance, HasAttachments: m.HasAttachments, ConversationID: m.ConversationID, DraftChangeKey: draftKey(m),
		Links: m.Links})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	v := catalog.Version{
		Item:              catalog.ItemRef{Account: mr.ru.o.Account.HomeID, Kind: catalog.KindMail, ID: m.ID},
		InternetMessageID: m.InternetMessageID,
		Content:           encodeContent(m.Content),
		Size:              m.Content.Size,
		Name:              m.Subject,
		Folder:            f.e.Path,
		Time:              m.Received,
		Metadata:          meta,
	}
	for _, p := range append(append([]Person{m.From}, m.To...), m.Cc...) {
		if p != (Person{}) {
			v.People = append(v.People, catalog.Person(p))
		}
	}
	if info != nil {
		v.Body, v.Attachments = info.body, info.attachments
	}
	mr.upserted[m.ID] = struct{}{}
	return mr.s.upsert(v)
}

// mailMeta is a message's catalog metadata.
type mailMeta struct {
	From           Person   `json:"from,omitzero"`
	To             []Person `json:"to,omitempty"`
	Cc             []Person `json:"cc,omitempty"`
	Bcc            []Person `json:"bcc,omitempty"`
	Sent           any      `json:"sent,omitempty"`
	IsRead         bool     `json:"isRead"`
	IsDraft        bool     `json:"isDraft,omitempty"`
	Flag           string   `json:"flag,omitempty"`
	Categories     []string `json:"categories,omitempty"`
	Importance     string   `json:"importance,omitempty"`
	HasAttachments bool     `json:"hasAttachments,omitempty"`
	ConversationID string   `json:"conversationId,omitempty"`
	Links          []Link   `json:"links,omitempty"`
	// DraftChangeKey is a draft's changeKey: a draft's MIME changes as it
	// is edited, so an interrupted run may reuse stored content for it only
	// when the changeKey is the same.
	DraftChangeKey string `json:"draftChangeKey,omitempty"`
}

func messageFrom(m graph.MessageMeta) *Message {
	return &Message{
		ID: m.ID, ChangeKey: m.ChangeKey, InternetMessageID: m.InternetMessageID, Subject: m.Subject,
		From: Person(m.From), Sender: Person(m.Sender), To: persons(m.To), Cc: persons(m.Cc), Bcc: persons(m.Bcc),
		Received: m.Received, Sent: m.Sent, Modified: m.Modified, IsRead: m.IsRead, IsDraft: m.IsDraft,
		Flag: m.FlagStatus, Categories: m.Categories, Importance: m.Importance, ConversationID: m.ConversationID,
		HasAttachments: m.HasAttachments,
	}
}

func persons(as []graph.Address) []Person {
	var out []Person
	for _, a := range as {
		out = append(out, Person(a))
	}
	return out
}

// describe names an item for the owner: its subject or name, else its id.
func describe(name, id string) string {
	if name != "" {
		return fmt.Sprintf("%q (%s)", name, id)
	}
	return id
}

// countReader counts content bytes for progress.
type countReader struct {
	r  io.Reader
	ru *run
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.ru.prog.update(false, func(pr *Progress) { pr.BytesDone += int64(n) })
	}
	return n, err
}

// draftKey is the changeKey recorded for a draft, empty for other messages.
func draftKey(m *Message) string {
	if !m.IsDraft {
		return ""
	}
	return m.ChangeKey
}
