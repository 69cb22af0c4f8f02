package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/pim"
)

// backupContacts backs up every contact folder of the mailbox with the
// per-folder contact delta: a folder without changes costs one request.
// A changed contact is stored with its photo; delta does not report a
// photo change alone, which is therefore seen with the contact's next
// change (DESIGN.md section 10).
func (ru *run) backupContacts(ctx context.Context) error {
	folders, err := ru.g.ListContactFolders(ctx, ru.o.User)
	if err != nil {
		if fatal(ctx, err) && !forbidden(err) {
			return fmt.Errorf("backup: listing contact folders: %w", err)
		}
		ru.warn("contacts were not backed up: %v", permissionHint(err, "contacts"))
		return nil
	}
	prev := ru.previous(KindContacts)
	s, err := ru.openStream(ctx, catalog.SnapshotContacts, prev)
	if err != nil {
		return err
	}
	defer s.close()
	old := map[string]*cfolderEntry{}
	if prev != nil && !prev.Root.IsZero() {
		rt, err := loadPIMRoot(ctx, ru.r, prev.Root)
		if err != nil {
			return repoError{err}
		}
		for i := range rt.Folders {
			old[rt.Folders[i].ID] = &rt.Folders[i]
		}
	}
	ru.prog.update(true, func(p *Progress) { p.Phase = ru.phase(PhaseMail); p.Current = "contacts" })
	rt := &pimRoot{Format: pimRootFormat, Kind: KindContacts, Account: ru.o.Account.UPN}
	state := map[string]string{}
	removed := map[string]int64{}
	upserted := map[string]bool{}
	live := map[string]bool{}
	for _, f := range folders {
		path := "Contacts"
		if f.Path != "" {
			path += "/" + f.Path
		}
		entry := cfolderEntry{ID: f.ID, ParentID: f.ParentID, Name: f.Name, Path: path}
		live[f.ID] = true
		o := old[f.ID]
		link := ""
		if prev != nil {
			link = prev.State[stateContactFolderPrefix+f.ID]
		}
		var cs map[string]*Contact
		load := func() error {
			if cs != nil {
				return nil
			}
			cs = map[string]*Contact{}
			if o == nil {
				return nil
			}
			for _, pid := range o.Pages {
				p, err := loadPIMPage(ctx, ru.r, pid)
				if err != nil {
					return repoError{err}
				}
				for i := range p.Contacts {
					c := p.Contacts[i]
					cs[c.ID] = &c
				}
			}
			return nil
		}
		dirty, keepLink := o == nil || o.Path != path, false
		var seen map[string]bool
		apply := func(items []graph.RawItem) error {
			if len(items) == 0 {
				return nil
			}
			if err := load(); err != nil {
				return err
			}
			dirty = true
			for _, it := range items {
				if it.Removed {
					if c, ok := cs[it.ID]; ok {
						removed[it.ID] = c.Content.Size
						delete(cs, it.ID)
					}
					continue
				}
				if seen != nil {
					seen[it.ID] = true
				}
				c, info, err := ru.fetchContact(ctx, it)
				if err != nil {
					if fatal(ctx, err) {
						return err
					}
					keepLink = true
					if err := ru.skip(ctx, "contacts "+path+": "+it.ID, err.Error(), 0); err != nil {
						return err
					}
					continue
				}
				cs[c.ID] = c
				upserted[c.ID] = true
				if err := s.upsert(contactVersion(ru.o.Account.HomeID, path, c, info)); err != nil {
					return err
				}
				ru.prog.update(false, func(p *Progress) { p.ItemsDone++ })
			}
			return nil
		}
		if link == "" {
			seen = map[string]bool{}
		}
		newLink, err := ru.g.ContactDelta(ctx, ru.o.User, f.ID, link, apply)
		if errors.Is(err, graph.ErrGone) && link != "" {
			seen = map[string]bool{}
			newLink, err = ru.g.ContactDelta(ctx, ru.o.User, f.ID, "", apply)
		}
		if err != nil {
			if fatal(ctx, err) {
				return fmt.Errorf("backup: contacts %s: %w", path, err)
			}
			ru.warn("contact folder %q was not completely backed up: %v", path, err)
			newLink, keepLink = link, true
			seen = nil
		}
		if seen != nil {
			if err := load(); err != nil {
				return err
			}
			for id, c := range cs {
				if !seen[id] {
					removed[id] = c.Content.Size
					delete(cs, id)
					dirty = true
				}
			}
		}
		if o != nil && o.Path != path {
			// Renamed or moved: its contacts' folder path changed.
			if err := load(); err != nil {
				return err
			}
			for _, c := range cs {
				if !upserted[c.ID] {
					if err := ru.reindexContact(ctx, s, path, c); err != nil {
						return err
					}
				}
			}
		}
		if keepLink {
			newLink = link
		}
		if newLink != "" {
			state[stateContactFolderPrefix+f.ID] = newLink
		}
		if dirty {
			if err := load(); err != nil {
				return err
			}
			pages, err := saveContacts(context.WithoutCancel(ctx), ru.r, cs)
			if err != nil {
				return repoError{err}
			}
			entry.Pages, entry.Count = pages, len(cs)
		} else if o != nil {
			entry.Pages, entry.Count = o.Pages, o.Count
		}
		rt.Folders = append(rt.Folders, entry)
	}
	// Folders gone take their contacts with them.
	for id, o := range old {
		if live[id] {
			continue
		}
		for _, pid := range o.Pages {
			p, err := loadPIMPage(ctx, ru.r, pid)
			if err != nil {
				return repoError{err}
			}
			for _, c := range p.Contacts {
				removed[c.ID] = c.Content.Size
			}
		}
	}
	for id, size := range removed {
		if !upserted[id] {
			if err := s.delete(id, size); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = s.saveAs(ctx, KindContacts, rt, state)
	return err
}

// fetchContact stores a contact's JSON (as the delta served it) and its
// photo.
func (ru *run) fetchContact(ctx context.Context, it graph.RawItem) (*Contact, *pim.Contact, error) {
	info, err := pim.ParseContact(it.JSON)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errItemJSON, err)
	}
	c := &Contact{ID: info.ID, ChangeKey: info.ChangeKey, DisplayName: info.Name()}
	photo, ct, err := ru.g.GetContactPhoto(ctx, ru.o.User, info.ID)
	if err != nil {
		return nil, nil, err
	}
	if photo != nil {
		ref, err := ru.saveBytes(ctx, photo)
		if err != nil {
			return nil, nil, err
		}
		c.Photo, c.PhotoType = &ref, ct
	}
	if c.Content, err = ru.saveBytes(ctx, it.JSON); err != nil {
		return nil, nil, err
	}
	return c, info, nil
}

func (ru *run) reindexContact(ctx context.Context, s *stream, path string, c *Contact) error {
	rc := ru.r.OpenStream(ctx, c.Content)
	defer rc.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(rc).Decode(&raw); err != nil {
		return nil
	}
	info, err := pim.ParseContact(raw)
	if err != nil {
		return nil
	}
	return s.upsert(contactVersion(ru.o.Account.HomeID, path, c, info))
}

// ContactMetadata is a contact's catalog metadata.
type ContactMetadata struct {
	Company   string   `json:"company,omitempty"`
	JobTitle  string   `json:"jobTitle,omitempty"`
	Emails    []Person `json:"emails,omitempty"`
	Phones    []string `json:"phones,omitempty"`
	ChangeKey string   `json:"changeKey,omitempty"`
	PhotoType string   `json:"photoType,omitempty"`
	Photo     string   `json:"photo,omitempty"` // content reference, as Version.Content
	PhotoSize int64    `json:"photoSize,omitempty"`
}

func contactVersion(account, path string, c *Contact, info *pim.Contact) catalog.Version {
	meta := ContactMetadata{Company: info.CompanyName, JobTitle: info.JobTitle, Phones: info.Phones(), ChangeKey: info.ChangeKey}
	for _, e := range info.EmailAddresses {
		meta.Emails = append(meta.Emails, Person(e))
	}
	if c.Photo != nil {
		meta.PhotoType, meta.Photo, meta.PhotoSize = c.PhotoType, encodeContent(*c.Photo), c.Photo.Size
	}
	b, _ := json.Marshal(meta)
	v := catalog.Version{
		Item:     catalog.ItemRef{Account: account, Kind: catalog.KindContact, ID: c.ID},
		Content:  encodeContent(c.Content),
		Size:     c.Content.Size,
		Name:     info.Name(),
		Folder:   path,
		Time:     info.LastModified(),
		Metadata: b,
		Body:     info.SearchText(),
	}
	for _, e := range info.EmailAddresses {
		v.People = append(v.People, catalog.Person{Name: e.Name, Address: e.Address})
	}
	if len(v.People) == 0 {
		v.People = []catalog.Person{{Name: strings.TrimSpace(info.Name())}}
	}
	return v
}

// ParseContactMetadata reads a contact Version's Metadata.
func ParseContactMetadata(b []byte) (ContactMetadata, error) {
	var m ContactMetadata
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("backup: contact metadata: %w", err)
	}
	return m, nil
}
