package backup

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// DecodeContent parses a catalog Version's Content string (where the
// item's bytes are in the repository) back into a repo.ContentRef for
// repo.OpenStream. The string is treated as untrusted input.
func DecodeContent(s string) (repo.ContentRef, error) { return decodeContent(s) }

// EncodeContent is the catalog's form of ref (DecodeContent's inverse).
func EncodeContent(ref repo.ContentRef) string { return encodeContent(ref) }

// MailMetadata is the part of a message's catalog Metadata a restore
// needs to put the message back as it was.
type MailMetadata struct {
	From       Person
	To, Cc     []Person
	Sent       time.Time
	IsRead     bool
	IsDraft    bool
	Flag       string // notFlagged, flagged, complete
	Categories []string
	Importance string // low, normal, high
	// Links are the message's links to files (links.go).
	Links []Link
}

// ParseMailMetadata reads a mail Version's Metadata (as written by a mail
// backup). Unknown fields are ignored; an empty document is no metadata.
func ParseMailMetadata(b []byte) (MailMetadata, error) {
	var m struct {
		From       Person     `json:"from"`
		To         []Person   `json:"to"`
		Cc         []Person   `json:"cc"`
		Sent       *time.Time `json:"sent"`
		IsRead     bool       `json:"isRead"`
		IsDraft    bool       `json:"isDraft"`
		Flag       string     `json:"flag"`
		Categories []string   `json:"categories"`
		Importance string     `json:"importance"`
		Links      []Link     `json:"links"`
	}
	if len(b) == 0 {
		return MailMetadata{}, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return MailMetadata{}, fmt.Errorf("backup: mail metadata: %w", err)
	}
	out := MailMetadata{From: m.From, To: m.To, Cc: m.Cc, IsRead: m.IsRead, IsDraft: m.IsDraft, Flag: m.Flag,
		Categories: m.Categories, Importance: m.Importance, Links: m.Links}
	if m.Sent != nil {
		out.Sent = *m.Sent
	}
	return out, nil
}

// FileMetadata is the part of a file's catalog Metadata a restore needs.
type FileMetadata struct {
	MimeType     string
	QuickXorHash string
	SHA1, SHA256 string
	// Created and Modified are the file system times the drive reported
	// (fileSystemInfo); zero when the drive gave none.
	Created, Modified time.Time
	Size              int64
}

// ParseFileMetadata reads a file Version's Metadata (as written by a
// OneDrive backup).
func ParseFileMetadata(b []byte) (FileMetadata, error) {
	var m struct {
		QuickXorHash string     `json:"quickXorHash"`
		SHA1         string     `json:"sha1"`
		SHA256       string     `json:"sha256"`
		MimeType     string     `json:"mimeType"`
		FSCreated    *time.Time `json:"fsCreated"`
		FSModified   *time.Time `json:"fsModified"`
		Size         int64      `json:"size"`
	}
	if len(b) == 0 {
		return FileMetadata{}, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return FileMetadata{}, fmt.Errorf("backup: file metadata: %w", err)
	}
	out := FileMetadata{MimeType: m.MimeType, QuickXorHash: m.QuickXorHash, SHA1: m.SHA1, SHA256: m.SHA256, Size: m.Size}
	if m.FSCreated != nil {
		out.Created = *m.FSCreated
	}
	if m.FSModified != nil {
		out.Modified = *m.FSModified
	}
	return out, nil
}
