package m365sim

// Contacts of Outlook in Graph v1.0 (learn.microsoft.com/graph/api/resources/contact,
// /resources/contactfolder, /api/user-list-contactfolders, /api/contact-delta,
// /api/profilephoto-get, /api/profilephoto-update):
//   - the default Contacts folder holds contacts (/contacts) and the
//     folders listed by /contactFolders; those have childFolders;
//   - delta is per contact folder (contactFolders/{id}/contacts/delta),
//     with @removed for contacts deleted or moved out;
//   - a contact's photo is read and written at contacts/{id}/photo/$value;
//     the photo is not part of the contact resource and delta does not
//     report photo changes.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// maxPhotoBytes is the largest contact photo accepted (Graph's 4 MB
// request limit).
const maxPhotoBytes = 4 << 20

// ContactFolder is one contact folder; the root is the default Contacts folder.
type ContactFolder struct {
	ID       string
	ParentID string
	Name     string
	Seq      int64
}

// Contact is one contact: its properties in Graph's JSON shape, and its photo.
type Contact struct {
	ID         string
	FolderID   string
	Props      ContactProps
	Photo      []byte
	PhotoType  string
	Created    time.Time
	Modified   time.Time
	ChangeKey  string
	Seq        int64
	CreatedSeq int64
}

// ContactProps are a contact's writable properties.
type ContactProps struct {
	GivenName        string          `json:"givenName"`
	MiddleName       string          `json:"middleName"`
	Surname          string          `json:"surname"`
	DisplayName      string          `json:"displayName"`
	Nickname         string          `json:"nickName"`
	Title            string          `json:"title"`
	Generation       string          `json:"generation"`
	Initials         string          `json:"initials"`
	FileAs           string          `json:"fileAs"`
	EmailAddresses   []contactEmail  `json:"emailAddresses"`
	ImAddresses      []string        `json:"imAddresses"`
	JobTitle         string          `json:"jobTitle"`
	CompanyName      string          `json:"companyName"`
	Department       string          `json:"department"`
	OfficeLocation   string          `json:"officeLocation"`
	Profession       string          `json:"profession"`
	BusinessHomePage string          `json:"businessHomePage"`
	AssistantName    string          `json:"assistantName"`
	Manager          string          `json:"manager"`
	HomePhones       []string        `json:"homePhones"`
	MobilePhone      string          `json:"mobilePhone"`
	BusinessPhones   []string        `json:"businessPhones"`
	HomeAddress      PhysicalAddress `json:"homeAddress"`
	BusinessAddress  PhysicalAddress `json:"businessAddress"`
	OtherAddress     PhysicalAddress `json:"otherAddress"`
	SpouseName       string          `json:"spouseName"`
	PersonalNotes    string          `json:"personalNotes"`
	Children         []string        `json:"children"`
	Categories       []string        `json:"categories"`
	Birthday         *string         `json:"birthday"`
}

type contactEmail struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// contactWritable are the contact properties create and PATCH accept.
var contactWritable = map[string]bool{}

func init() {
	b, _ := json.Marshal(ContactProps{})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for k := range m {
		contactWritable[k] = true
	}
}

func (c *Contact) touch(seq int64, now time.Time) {
	c.Seq, c.Modified = seq, now
	c.ChangeKey = fmt.Sprintf("EQAAABYAAAC%08d", seq)
}

func validateContact(p *ContactProps) error {
	if len(p.EmailAddresses) > 3 {
		return invalid("ErrorInvalidRequest", "A contact has at most three e-mail addresses.")
	}
	if len(p.PersonalNotes) > maxJSONBody || len(p.HomePhones)+len(p.BusinessPhones)+len(p.ImAddresses)+len(p.Children) > maxRecipients ||
		len(p.Categories) > maxCategories {
		return invalid("ErrorInvalidRequest", "The contact is too large.")
	}
	if p.Birthday != nil && *p.Birthday != "" {
		if _, err := time.Parse(time.RFC3339, *p.Birthday); err != nil {
			return invalid("ErrorInvalidRequest", "birthday %q is not a date and time.", truncateMsg(*p.Birthday))
		}
	}
	if p.DisplayName == "" {
		p.DisplayName = strings.TrimSpace(strings.Join([]string{p.GivenName, p.MiddleName, p.Surname}, " "))
		p.DisplayName = strings.Join(strings.Fields(p.DisplayName), " ")
	}
	for _, l := range []*[]string{&p.ImAddresses, &p.HomePhones, &p.BusinessPhones, &p.Children, &p.Categories} {
		if *l == nil {
			*l = []string{}
		}
	}
	if p.EmailAddresses == nil {
		p.EmailAddresses = []contactEmail{}
	}
	return nil
}

// cfolderLocked resolves a contact folder ID ("" = the default folder).
func (p *userPIM) cfolderLocked(id string) (*ContactFolder, error) {
	if id == "" {
		return p.cfolders[p.rootCFolder], nil
	}
	if f, ok := p.cfolders[id]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("%w: contact folder %s", ErrNoFolder, id)
}

func (p *userPIM) childCFoldersLocked(parent string) []*ContactFolder {
	var out []*ContactFolder
	for _, f := range p.cfolders {
		if f.ParentID == parent && f.ID != p.rootCFolder {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AddContactFolder creates a contact folder below parent ("" = the
// default Contacts folder).
func (t *Tenant) AddContactFolder(user, parent, name string) (*ContactFolder, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	return t.addCFolderLocked(u, parent, name)
}

func (t *Tenant) addCFolderLocked(u *User, parent, name string) (*ContactFolder, error) {
	p := t.pimLocked(u)
	pf, err := p.cfolderLocked(parent)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "\x00\r\n") {
		return nil, invalid("ErrorInvalidRequest", "The folder display name is missing or invalid.")
	}
	for _, c := range p.childCFoldersLocked(pf.ID) {
		if strings.EqualFold(c.Name, name) {
			return nil, fmt.Errorf("m365sim: contact folder %q: %w", name, ErrConflict)
		}
	}
	f := &ContactFolder{ID: t.newItemID("AAMkCFolder"), ParentID: pf.ID, Name: name, Seq: t.bump()}
	p.cfolders[f.ID] = f
	return f, nil
}

// ContactFolders returns a mailbox's contact folders, the default one first.
func (t *Tenant) ContactFolders(user string) ([]ContactFolder, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	p := t.pimLocked(u)
	out := []ContactFolder{*p.cfolders[p.rootCFolder]}
	var walk func(id string)
	walk = func(id string) {
		for _, f := range p.childCFoldersLocked(id) {
			out = append(out, *f)
			walk(f.ID)
		}
	}
	walk(p.rootCFolder)
	return out, nil
}

// AddContact creates a contact in a folder ("" = the default folder).
func (t *Tenant) AddContact(user, folder string, props ContactProps, photo []byte) (Contact, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return Contact{}, err
	}
	c, err := t.addContactLocked(u, folder, props)
	if err != nil {
		return Contact{}, err
	}
	if photo != nil {
		c.Photo, c.PhotoType = append([]byte(nil), photo...), "image/jpeg"
	}
	return *c, nil
}

func (t *Tenant) addContactLocked(u *User, folder string, props ContactProps) (*Contact, error) {
	p := t.pimLocked(u)
	f, err := p.cfolderLocked(folder)
	if err != nil {
		return nil, err
	}
	if err := validateContact(&props); err != nil {
		return nil, err
	}
	now := t.now().UTC()
	c := &Contact{ID: t.newItemID("AAMkCnt"), FolderID: f.ID, Props: props, Created: now}
	c.touch(t.bump(), now)
	c.CreatedSeq = c.Seq
	p.contacts[c.ID] = c
	return c, nil
}

// Contacts returns copies of the contacts of a folder ("" = every folder).
func (t *Tenant) Contacts(user, folder string) ([]Contact, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	p := t.pimLocked(u)
	fid := ""
	if folder != "" {
		f, err := p.cfolderLocked(folder)
		if err != nil {
			return nil, err
		}
		fid = f.ID
	}
	var out []Contact
	for _, c := range p.contacts {
		if fid == "" || c.FolderID == fid {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// UpdateContact applies a PATCH of a contact's properties.
func (t *Tenant) UpdateContact(user, id string, patch map[string]json.RawMessage) (Contact, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return Contact{}, err
	}
	c, err := t.updateContactLocked(u, id, patch)
	if err != nil {
		return Contact{}, err
	}
	return *c, nil
}

func (t *Tenant) updateContactLocked(u *User, id string, patch map[string]json.RawMessage) (*Contact, error) {
	c, ok := t.pimLocked(u).contacts[id]
	if !ok {
		return nil, fmt.Errorf("%w: contact %s", ErrNoItem, id)
	}
	for k := range patch {
		if !contactWritable[k] {
			return nil, invalid("ErrorInvalidProperty", "The property '%s' does not exist on type 'microsoft.graph.contact'.", truncateMsg(k))
		}
	}
	cur, _ := json.Marshal(c.Props)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(cur, &m)
	for k, v := range patch {
		m[k] = v
	}
	merged, _ := json.Marshal(m)
	var np ContactProps
	if err := json.Unmarshal(merged, &np); err != nil {
		return nil, invalid("ErrorInvalidRequest", "The request body is not a valid contact: %s", truncateMsg(err.Error()))
	}
	if err := validateContact(&np); err != nil {
		return nil, err
	}
	c.Props = np
	c.touch(t.bump(), t.now().UTC())
	return c, nil
}

// DeleteContact removes a contact.
func (t *Tenant) DeleteContact(user, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	p := t.pimLocked(u)
	c, ok := p.contacts[id]
	if !ok {
		return fmt.Errorf("%w: contact %s", ErrNoItem, id)
	}
	delete(p.contacts, id)
	p.contactGone = append(p.contactGone, tombstone{ID: c.ID, ParentID: c.FolderID, Seq: t.bump()})
	return nil
}

// SetContactPhoto replaces a contact's photo. The photo is not a property
// of the contact resource: the contact does not change, so delta does not
// report it (DESIGN.md section 10).
func (t *Tenant) SetContactPhoto(user, id string, photo []byte, contentType string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	c, ok := t.pimLocked(u).contacts[id]
	if !ok {
		return fmt.Errorf("%w: contact %s", ErrNoItem, id)
	}
	if len(photo) > maxPhotoBytes {
		return invalid("ErrorRequestEntityTooLarge", "The photo is larger than 4 MB.")
	}
	if contentType == "" {
		contentType = "image/jpeg"
	}
	c.Photo, c.PhotoType = append([]byte(nil), photo...), contentType
	return nil
}
