package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Tree formats (FORMAT.md). A tree blob is JSON whose "format" field says
// which of these it is.
const (
	rootFormat = "lifeboat-backup-root/1"
	pageFormat = "lifeboat-backup-page/1"
)

// Page splitting: items are sorted by ID and a page ends after an item
// whose ID hashes to 0 modulo pageTarget (so about pageTarget items per
// page, and an edit changes only the page around it), or at maxPageItems.
const (
	pageTarget   = 256
	maxPageItems = 2048
)

// ErrUnknownTree is returned by Refs for a tree blob that is not one of
// engine/backup's formats.
var ErrUnknownTree = errors.New("backup: not a backup tree")

// root is the tree blob a snapshot's Root names.
type root struct {
	Format  string           `json:"format"`
	Kind    string           `json:"kind"`
	Account string           `json:"account,omitempty"`
	Folders []folderEntry    `json:"folders,omitempty"`
	Drive   *driveEntry      `json:"drive,omitempty"`
	Catalog *repo.ContentRef `json:"catalog,omitempty"`
}

// folderEntry is one mail folder in a mail root.
type folderEntry struct {
	ID        string    `json:"id"`
	ParentID  string    `json:"parentId,omitempty"`
	Name      string    `json:"name"`
	Path      string    `json:"path"`
	WellKnown string    `json:"wellKnown,omitempty"`
	Hidden    bool      `json:"hidden,omitempty"`
	Count     int       `json:"count"`
	Pages     []repo.ID `json:"pages,omitempty"`
}

// driveEntry is the drive of a onedrive root.
type driveEntry struct {
	ID    string    `json:"id"`
	Type  string    `json:"type,omitempty"`
	Name  string    `json:"name,omitempty"`
	Count int       `json:"count"`
	Pages []repo.ID `json:"pages,omitempty"`
}

// page is a tree blob holding items.
type page struct {
	Format   string    `json:"format"`
	Messages []Message `json:"messages,omitempty"`
	Files    []File    `json:"files,omitempty"`
}

// Message is one email as a snapshot records it.
type Message struct {
	ID                string    `json:"id"`
	ChangeKey         string    `json:"changeKey,omitempty"`
	InternetMessageID string    `json:"internetMessageId,omitempty"`
	Subject           string    `json:"subject,omitempty"`
	From              Person    `json:"from,omitzero"`
	Sender            Person    `json:"sender,omitzero"`
	To                []Person  `json:"to,omitempty"`
	Cc                []Person  `json:"cc,omitempty"`
	Bcc               []Person  `json:"bcc,omitempty"`
	Received          time.Time `json:"received,omitzero"`
	Sent              time.Time `json:"sent,omitzero"`
	Modified          time.Time `json:"modified,omitzero"`
	IsRead            bool      `json:"isRead,omitempty"`
	IsDraft           bool      `json:"isDraft,omitempty"`
	Flag              string    `json:"flag,omitempty"`
	Categories        []string  `json:"categories,omitempty"`
	Importance        string    `json:"importance,omitempty"`
	ConversationID    string    `json:"conversationId,omitempty"`
	HasAttachments    bool      `json:"hasAttachments,omitempty"`
	// Links are the links to files attached to the message (links.go):
	// its MIME does not carry them.
	Links []Link `json:"links,omitempty"`
	// LinksListed: the message's attachments were listed for links (a
	// message with attachments backed up before links were kept was not).
	LinksListed bool            `json:"linksListed,omitempty"`
	Content     repo.ContentRef `json:"content"` // the MIME
}

// Person is an e-mail address with its display name.
type Person struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
}

// File is one drive item (file or folder) as a snapshot records it.
type File struct {
	ID           string `json:"id"`
	ParentID     string `json:"parentId,omitempty"`
	Name         string `json:"name"`
	Folder       bool   `json:"folder,omitempty"`
	Root         bool   `json:"root,omitempty"`
	Package      bool   `json:"package,omitempty"`
	Size         int64  `json:"size"`
	MimeType     string `json:"mimeType,omitempty"`
	QuickXorHash string `json:"quickXorHash,omitempty"`
	SHA1         string `json:"sha1,omitempty"`
	SHA256       string `json:"sha256,omitempty"`
	// ServedHash is set when OneDrive served other bytes than its hash
	// describes (it rewrites some files when serving them): the hash of
	// the bytes kept, in the encoding of the reported hash.
	ServedHash string           `json:"servedHash,omitempty"`
	ETag       string           `json:"eTag,omitempty"`
	CTag       string           `json:"cTag,omitempty"`
	Created    time.Time        `json:"created,omitzero"`
	Modified   time.Time        `json:"modified,omitzero"`
	FSCreated  time.Time        `json:"fsCreated,omitzero"`
	FSModified time.Time        `json:"fsModified,omitzero"`
	Content    *repo.ContentRef `json:"content,omitempty"` // files only
}

// pageBoundary reports whether a page ends after the item with this ID.
func pageBoundary(id string) bool {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()%pageTarget == 0
}

// splitPages cuts items (sorted by key) into pages.
func splitPages[T any](items []T, key func(T) string) [][]T {
	var out [][]T
	start := 0
	for i, it := range items {
		if pageBoundary(key(it)) || i+1-start >= maxPageItems {
			out = append(out, items[start:i+1])
			start = i + 1
		}
	}
	if start < len(items) {
		out = append(out, items[start:])
	}
	return out
}

// saveTree stores v as a tree blob.
func saveTree(ctx context.Context, r *repo.Repository, v any) (repo.ID, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return repo.ID{}, fmt.Errorf("backup: encoding tree: %w", err)
	}
	id, _, err := r.SaveBlob(ctx, repo.TreeBlob, b)
	if err != nil {
		return repo.ID{}, fmt.Errorf("backup: saving tree: %w", err)
	}
	return id, nil
}

// saveMessages stores a folder's messages as pages; identical pages are
// stored once (dedup), so an unchanged stretch costs nothing.
func saveMessages(ctx context.Context, r *repo.Repository, msgs map[string]*Message) ([]repo.ID, error) {
	list := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		list = append(list, *m)
	}
	slices.SortFunc(list, func(a, b Message) int { return strings.Compare(a.ID, b.ID) })
	var ids []repo.ID
	for _, p := range splitPages(list, func(m Message) string { return m.ID }) {
		id, err := saveTree(ctx, r, page{Format: pageFormat, Messages: p})
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func saveFiles(ctx context.Context, r *repo.Repository, files map[string]*File) ([]repo.ID, error) {
	list := make([]File, 0, len(files))
	for _, f := range files {
		list = append(list, *f)
	}
	slices.SortFunc(list, func(a, b File) int { return strings.Compare(a.ID, b.ID) })
	var ids []repo.ID
	for _, p := range splitPages(list, func(f File) string { return f.ID }) {
		id, err := saveTree(ctx, r, page{Format: pageFormat, Files: p})
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func loadRoot(ctx context.Context, r *repo.Repository, id repo.ID) (*root, error) {
	b, err := r.LoadBlob(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("backup: loading snapshot tree: %w", err)
	}
	var rt root
	if err := json.Unmarshal(b, &rt); err != nil {
		return nil, fmt.Errorf("backup: snapshot tree %s: %w", id.Short(), err)
	}
	if rt.Format != rootFormat {
		return nil, fmt.Errorf("backup: snapshot tree %s: %w (format %q)", id.Short(), ErrUnknownTree, rt.Format)
	}
	return &rt, nil
}

func loadPage(ctx context.Context, r *repo.Repository, id repo.ID) (*page, error) {
	b, err := r.LoadBlob(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("backup: loading tree page: %w", err)
	}
	var p page
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("backup: tree page %s: %w", id.Short(), err)
	}
	if p.Format != pageFormat {
		return nil, fmt.Errorf("backup: tree page %s: %w (format %q)", id.Short(), ErrUnknownTree, p.Format)
	}
	return &p, nil
}

// Refs returns the blobs a backup tree blob references: a root's pages
// (and catalog copy chunks), a page's content chunks. It returns an error
// wrapping ErrUnknownTree for tree blobs of other formats, so callers can
// combine it with other layers' Refs (repo.CheckOptions.Refs,
// repo.PruneOptions.Refs).
func Refs(tree []byte) ([]repo.ID, error) {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(tree, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownTree, err)
	}
	switch head.Format {
	case rootFormat:
		var rt root
		if err := json.Unmarshal(tree, &rt); err != nil {
			return nil, fmt.Errorf("backup: root tree: %w", err)
		}
		var ids []repo.ID
		for _, f := range rt.Folders {
			ids = append(ids, f.Pages...)
		}
		if rt.Drive != nil {
			ids = append(ids, rt.Drive.Pages...)
		}
		if rt.Catalog != nil {
			ids = append(ids, rt.Catalog.Chunks...)
		}
		return ids, nil
	case pageFormat:
		var p page
		if err := json.Unmarshal(tree, &p); err != nil {
			return nil, fmt.Errorf("backup: tree page: %w", err)
		}
		var ids []repo.ID
		for _, m := range p.Messages {
			ids = append(ids, m.Content.Chunks...)
		}
		for _, f := range p.Files {
			if f.Content != nil {
				ids = append(ids, f.Content.Chunks...)
			}
		}
		return ids, nil
	case pimRootFormat, pimPageFormat:
		return pimRefs(tree, head.Format)
	case teamsRootFormat:
		return teamsRefs(tree)
	case groupRootFormat:
		return groupRefs(tree)
	}
	return nil, fmt.Errorf("%w: format %q", ErrUnknownTree, head.Format)
}

// encodeContent is a ContentRef as the catalog keeps it (Version.Content):
// "<size>:<chunk>,<chunk>…" in hex.
func encodeContent(ref repo.ContentRef) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(ref.Size, 10))
	b.WriteByte(':')
	for i, c := range ref.Chunks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// decodeContent parses encodeContent's output.
func decodeContent(s string) (repo.ContentRef, error) {
	size, rest, ok := strings.Cut(s, ":")
	if !ok {
		return repo.ContentRef{}, errors.New("backup: content reference without size")
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 0 {
		return repo.ContentRef{}, fmt.Errorf("backup: content reference size %q", size)
	}
	ref := repo.ContentRef{Size: n}
	if rest == "" {
		return ref, nil
	}
	for _, h := range strings.Split(rest, ",") {
		id, err := repo.ParseID(h)
		if err != nil {
			return repo.ContentRef{}, fmt.Errorf("backup: content reference: %w", err)
		}
		ref.Chunks = append(ref.Chunks, id)
	}
	return ref, nil
}

// stored reports whether every chunk of ref is in the repository's index
// (so reusing ref needs no download).
func stored(r *repo.Repository, ref repo.ContentRef) bool {
	for _, c := range ref.Chunks {
		if !r.HasBlob(c) {
			return false
		}
	}
	return ref.Size == 0 || len(ref.Chunks) > 0
}
