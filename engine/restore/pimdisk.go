package restore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/pim"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Top folders of events and contacts restored to disk.
const (
	calendarDir = "Calendar"
	contactsDir = "Contacts"
)

func (d *dirDest) useContent(c ContentSource) { d.content = c }

// pimComponents is where an event (.ics) or a contact (.vcf) goes.
func pimComponents(v catalog.VersionInfo) (dirs []string, name string) {
	base := strings.TrimSpace(v.Name)
	if base == "" {
		base = "(no name)"
	}
	if v.Item.Kind == catalog.KindEvent {
		dirs = []string{calendarDir}
		name = truncateName(SafeName(base), MaxNameBytes-4) + ".ics"
	} else {
		dirs = []string{contactsDir}
		name = truncateName(SafeName(base), MaxNameBytes-4) + ".vcf"
	}
	folder := v.Folder
	if v.Item.Kind == catalog.KindContact {
		folder = strings.TrimPrefix(strings.TrimPrefix(folder, "Contacts"), "/")
	}
	for _, c := range strings.Split(folder, "/") {
		if c != "" {
			dirs = append(dirs, c)
		}
	}
	return dirs, name
}

// renderPIM turns an event's or contact's backed-up JSON into the .ics or
// .vcf written to disk, with its attachments or photo.
func (d *dirDest) renderPIM(ctx context.Context, s *Step, content io.Reader) ([]byte, error) {
	raw, err := readAllBounded(content)
	if err != nil {
		return nil, fmt.Errorf("restore: %q: %w", s.Name, err)
	}
	var out bytes.Buffer
	if s.Item.Item.Kind == catalog.KindEvent {
		ev, err := pim.ParseEvent(raw)
		if err != nil {
			return nil, fmt.Errorf("restore: %q: %w", s.Name, err)
		}
		meta, err := backup.ParseEventMetadata(s.Item.Metadata)
		if err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		atts, err := loadAttachments(ctx, d.content, meta.Attachments)
		if err != nil {
			return nil, fmt.Errorf("restore: %q: %w", s.Name, err)
		}
		err = pim.WriteICS(&out, meta.CalendarName, []pim.ICSEvent{{Event: ev, Attachments: atts}}, s.Item.Time)
		return out.Bytes(), err
	}
	c, err := pim.ParseContact(raw)
	if err != nil {
		return nil, fmt.Errorf("restore: %q: %w", s.Name, err)
	}
	meta, err := backup.ParseContactMetadata(s.Item.Metadata)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	vc := pim.VCFContact{Contact: c, PhotoType: meta.PhotoType}
	if meta.Photo != "" {
		if vc.Photo, err = readRef(ctx, d.content, meta.Photo); err != nil {
			return nil, fmt.Errorf("restore: the photo of %q: %w", s.Name, err)
		}
	}
	err = pim.WriteVCF(&out, []pim.VCFContact{vc})
	return out.Bytes(), err
}

// loadAttachments reads backed-up event attachments (their Graph JSON).
func loadAttachments(ctx context.Context, src ContentSource, list []backup.EventAttachment) ([]pim.ICSAttachment, error) {
	var out []pim.ICSAttachment
	for _, a := range list {
		if src == nil {
			return nil, errors.New("no backup to read attachments from")
		}
		rc := src.OpenStream(ctx, a.Content)
		raw, err := readAllBounded(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		var in struct {
			ContentBytes string `json:"contentBytes"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, fmt.Errorf("attachment %q is unreadable: %w", a.Name, err)
		}
		b, err := base64.StdEncoding.DecodeString(in.ContentBytes)
		if err != nil {
			return nil, fmt.Errorf("attachment %q is unreadable: %w", a.Name, err)
		}
		out = append(out, pim.ICSAttachment{EventID: a.EventID, Name: a.Name, ContentType: a.ContentType, Content: b})
	}
	return out, nil
}

// ExportPIM writes a calendar or contacts snapshot into dir: one
// "<calendar>.ics" per calendar and one "<folder>.vcf" per contact folder
// ("Contacts.vcf", "Contacts - Suppliers.vcf"), empty ones left out,
// never outside dir, each
// file written under a temporary name and renamed when complete. It
// returns the files written, relative to dir.
func ExportPIM(ctx context.Context, src ContentSource, c *backup.PIMContents, dir string, now time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("restore: export: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("restore: export: %w", err)
	}
	defer root.Close()
	var files []string
	claimed := map[string]bool{}
	name := func(base, ext string) string {
		base = truncateName(SafeName(base), MaxNameBytes-8)
		for n := 0; ; n++ {
			cand := base + ext
			if n > 0 {
				cand = numbered(base+ext, n)
			}
			if !claimed[foldKey(cand)] {
				claimed[foldKey(cand)] = true
				return cand
			}
		}
	}
	for _, cal := range c.Calendars {
		var evs []pim.ICSEvent
		for _, e := range cal.Events {
			raw, err := readBackedUp(ctx, src, e.Content)
			if err != nil {
				return files, fmt.Errorf("restore: export %q: %w", e.Subject, err)
			}
			ev, err := pim.ParseEvent(raw)
			if err != nil {
				continue // was skipped when it was backed up; nothing to write
			}
			atts, err := loadAttachments(ctx, src, e.Attachments)
			if err != nil {
				return files, fmt.Errorf("restore: export %q: %w", e.Subject, err)
			}
			evs = append(evs, pim.ICSEvent{Event: ev, Attachments: atts})
		}
		if len(evs) == 0 {
			// RFC 5545 has no empty calendar (a VCALENDAR holds at least
			// one component): an empty calendar gets no file.
			continue
		}
		var buf bytes.Buffer
		if err := pim.WriteICS(&buf, cal.Name, evs, now); err != nil {
			return files, fmt.Errorf("restore: export %q: %w", cal.Name, err)
		}
		f := name(cal.Name, ".ics")
		if err := writeWhole(root, f, buf.Bytes()); err != nil {
			return files, err
		}
		files = append(files, f)
	}
	for _, fo := range c.Folders {
		var cs []pim.VCFContact
		for _, ct := range fo.Contacts {
			raw, err := readBackedUp(ctx, src, ct.Content)
			if err != nil {
				return files, fmt.Errorf("restore: export %q: %w", ct.DisplayName, err)
			}
			info, err := pim.ParseContact(raw)
			if err != nil {
				continue
			}
			vc := pim.VCFContact{Contact: info, PhotoType: ct.PhotoType}
			if ct.Photo != nil {
				if vc.Photo, err = readBackedUp(ctx, src, *ct.Photo); err != nil {
					return files, fmt.Errorf("restore: export the photo of %q: %w", ct.DisplayName, err)
				}
			}
			cs = append(cs, vc)
		}
		if len(cs) == 0 {
			continue // as for calendars: no empty file
		}
		var buf bytes.Buffer
		if err := pim.WriteVCF(&buf, cs); err != nil {
			return files, fmt.Errorf("restore: export %q: %w", fo.Path, err)
		}
		f := name(strings.ReplaceAll(fo.Path, "/", " - "), ".vcf")
		if err := writeWhole(root, f, buf.Bytes()); err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}

func readBackedUp(ctx context.Context, src ContentSource, ref repo.ContentRef) ([]byte, error) {
	rc := src.OpenStream(ctx, ref)
	defer rc.Close()
	return readAllBounded(rc)
}

// writeWhole writes b as name in root: temporary file, sync, rename.
func writeWhole(root *os.Root, name string, b []byte) error {
	tmp := "." + name + ".lifeboat.tmp"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("restore: export: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		_ = root.Remove(tmp)
		return fmt.Errorf("restore: export %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		_ = root.Remove(tmp)
		return fmt.Errorf("restore: export %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("restore: export %s: %w", name, err)
	}
	if err := root.Rename(tmp, name); err != nil {
		return fmt.Errorf("restore: export %s: %w", name, err)
	}
	syncDir(root, filepath.Dir(name))
	return nil
}
