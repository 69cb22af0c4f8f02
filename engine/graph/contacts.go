package graph

// Contact folders and contacts, as Graph's own JSON (see calendar.go for
// why). v1.0 has a delta per contact folder
// (learn.microsoft.com/graph/api/contact-delta); photos are read and
// written at contacts/{id}/photo/$value and are not tracked by delta.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxPhotoBytes bounds a contact photo read (Graph takes at most 4 MB).
const maxPhotoBytes = 4 << 20

// ContactFolder is one contact folder; Path is its display-name path from
// the default Contacts folder ("" for that one).
type ContactFolder struct {
	ID       string `json:"id"`
	ParentID string `json:"parentFolderId"`
	Name     string `json:"displayName"`
	Path     string `json:"-"`
}

// RawItem is one entry of a contact delta: the item's JSON as Graph
// served it, or a removal.
type RawItem struct {
	ID      string
	Removed bool
	JSON    json.RawMessage
}

// ListContactFolders returns the default Contacts folder (when its id can
// be learned: it is the parent of the folders below it, or of a contact
// in it) and every folder below it, parents first. The folders come from
// one round of contactFolders/delta (learn.microsoft.com/graph/api/contactfolder-delta),
// which lists them all, flattened, in one request.
func (c *Client) ListContactFolders(ctx context.Context, user string) ([]ContactFolder, error) {
	var all []ContactFolder
	link := userPath(user) + "/contactFolders/delta"
	for n := 0; ; n++ {
		b, err := c.getJSON(ctx, "list contact folders", link)
		if err != nil {
			return nil, err
		}
		var page struct {
			Value []ContactFolder `json:"value"`
			Next  string          `json:"@odata.nextLink"`
			Delta string          `json:"@odata.deltaLink"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return nil, &Error{Op: "list contact folders", Kind: ErrTransient, Err: fmt.Errorf("the answer is not a delta page: %w", err)}
		}
		for _, f := range page.Value {
			if f.ID != "" {
				all = append(all, f)
			}
		}
		if page.Delta != "" || page.Next == "" {
			break
		}
		if page.Next == link || n > 100000 {
			return nil, &Error{Op: "list contact folders", Err: errors.New("nextLink repeats itself")}
		}
		link = page.Next
	}
	byID := map[string]ContactFolder{}
	for _, f := range all {
		byID[f.ID] = f
	}
	rootID := ""
	for _, f := range all {
		if _, ok := byID[f.ParentID]; !ok && f.ParentID != "" {
			rootID = f.ParentID
			break
		}
	}
	if rootID == "" {
		b, err := c.getJSON(ctx, "list contacts", userPath(user)+"/contacts?$top=1&$select=id,parentFolderId")
		if err != nil {
			return nil, err
		}
		var page struct {
			Value []struct {
				Parent string `json:"parentFolderId"`
			} `json:"value"`
		}
		if json.Unmarshal(b, &page) == nil && len(page.Value) > 0 {
			rootID = page.Value[0].Parent
		}
	}
	var out []ContactFolder
	if rootID != "" {
		out = append(out, ContactFolder{ID: rootID, Name: "Contacts"})
	}
	// Parents first: a breadth-first walk from the default folder.
	queue := []string{rootID}
	paths := map[string]string{rootID: ""}
	for len(queue) > 0 && len(out) <= len(all)+1 {
		parent := queue[0]
		queue = queue[1:]
		for _, f := range all {
			if f.ParentID != parent || f.ID == rootID {
				continue
			}
			if _, done := paths[f.ID]; done {
				continue
			}
			f.Path = strings.TrimPrefix(paths[parent]+"/"+f.Name, "/")
			paths[f.ID] = f.Path
			out = append(out, f)
			queue = append(queue, f.ID)
		}
	}
	return out, nil
}

// ContactDelta runs one round of a contact folder's delta, from the start
// when deltaLink is empty; ErrGone means start again with "".
func (c *Client) ContactDelta(ctx context.Context, user, folderID, deltaLink string, fn func([]RawItem) error) (string, error) {
	link := deltaLink
	if link == "" {
		link = userPath(user) + "/contactFolders/" + url.PathEscape(folderID) + "/contacts/delta"
	}
	pref := fmt.Sprintf("odata.maxpagesize=%d", c.opts.MessagePageSize)
	for n := 0; ; n++ {
		b, err := c.getJSON(ctx, "contact delta", link, "Prefer", pref)
		if err != nil {
			return "", err
		}
		var page struct {
			Value []json.RawMessage `json:"value"`
			Next  string            `json:"@odata.nextLink"`
			Delta string            `json:"@odata.deltaLink"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return "", &Error{Op: "contact delta", Kind: ErrTransient, Err: fmt.Errorf("the answer is not a delta page: %w", err)}
		}
		items := make([]RawItem, 0, len(page.Value))
		for _, v := range page.Value {
			var head struct {
				ID      string          `json:"id"`
				Removed json.RawMessage `json:"@removed"`
			}
			if json.Unmarshal(v, &head) != nil || head.ID == "" {
				continue
			}
			items = append(items, RawItem{ID: head.ID, Removed: head.Removed != nil, JSON: v})
		}
		if err := fn(items); err != nil {
			return "", err
		}
		if page.Delta != "" {
			return page.Delta, nil
		}
		if page.Next == "" || page.Next == link || n > 100000 {
			return "", &Error{Op: "contact delta", Err: errors.New("page has neither a usable nextLink nor a deltaLink")}
		}
		link = page.Next
	}
}

// GetContactPhoto returns a contact's photo, or nil when it has none.
func (c *Client) GetContactPhoto(ctx context.Context, user, contactID string) ([]byte, string, error) {
	u := c.opts.GraphURL + userPath(user) + "/contacts/" + url.PathEscape(contactID) + "/photo/$value"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", &Error{Op: "get contact photo", Err: errors.New("invalid URL")}
	}
	resp, err := c.send(req, false)
	if errors.Is(err, ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", withOp("get contact photo", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPhotoBytes+1))
	if err != nil {
		return nil, "", withOp("get contact photo", err)
	}
	if len(b) > maxPhotoBytes {
		return nil, "", &Error{Op: "get contact photo", Err: errors.New("the photo is larger than 4 MB")}
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// SetContactPhoto replaces a contact's photo (a PUT: repeating it is safe).
func (c *Client) SetContactPhoto(ctx context.Context, user, contactID string, photo []byte, contentType string) error {
	if !strings.HasPrefix(contentType, "image/") {
		contentType = "image/jpeg"
	}
	u := c.opts.GraphURL + userPath(user) + "/contacts/" + url.PathEscape(contactID) + "/photo/$value"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader(string(photo)))
	if err != nil {
		return &Error{Op: "set contact photo", Err: errors.New("invalid URL")}
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.send(req, false)
	if err != nil {
		return withOp("set contact photo", err)
	}
	resp.Body.Close()
	return nil
}

// EnsureContactFolder returns the top-level contact folder named name
// (below the default Contacts folder), creating it if needed.
func (c *Client) EnsureContactFolder(ctx context.Context, user, name string) (ContactFolder, error) {
	find := func() (ContactFolder, bool, error) {
		var found ContactFolder
		ok := false
		err := c.pages(ctx, "list contact folders", userPath(user)+"/contactFolders?$top=250", func(vs []json.RawMessage) error {
			for _, v := range vs {
				var f ContactFolder
				if json.Unmarshal(v, &f) == nil && strings.EqualFold(strings.TrimSpace(f.Name), strings.TrimSpace(name)) {
					found, ok = f, true
				}
			}
			return nil
		})
		return found, ok, err
	}
	if f, ok, err := find(); ok || err != nil {
		return f, err
	}
	b, err := c.sendJSON(ctx, "create contact folder", http.MethodPost, userPath(user)+"/contactFolders", map[string]string{"displayName": name}, false)
	if err != nil {
		var ge *Error
		if errors.As(err, &ge) && ge.Status == http.StatusConflict {
			if f, ok, ferr := find(); ok || ferr != nil {
				return f, ferr
			}
		}
		return ContactFolder{}, err
	}
	var f ContactFolder
	if err := json.Unmarshal(b, &f); err != nil || f.ID == "" {
		return ContactFolder{}, &Error{Op: "create contact folder", Kind: ErrTransient, Err: errors.New("no folder in the answer")}
	}
	return f, nil
}

// CreateContact creates a contact in folderID ("" = the default folder)
// and returns its id. Contacts have no transactionId, so after a lost
// answer the folder is searched for a contact with the same display name
// and first e-mail address created since the first try, before the
// create is sent again.
func (c *Client) CreateContact(ctx context.Context, user, folderID string, body map[string]any) (string, error) {
	path := userPath(user) + "/contacts"
	if folderID != "" {
		path = userPath(user) + "/contactFolders/" + url.PathEscape(folderID) + "/contacts"
	}
	since := time.Now().Add(-5 * time.Minute)
	name, _ := body["displayName"].(string)
	email := firstEmail(body["emailAddresses"])
	id := ""
	err := c.sendChecked(ctx, "create contact", func(ctx context.Context) error {
		b, err := c.sendJSON(ctx, "create contact", http.MethodPost, path, body, true)
		if err == nil {
			var v struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(b, &v) != nil || v.ID == "" {
				return &Error{Op: "create contact", Kind: ErrTransient, Err: errors.New("no contact in the answer")}
			}
			id = v.ID
		}
		return err
	}, func() (bool, error) {
		found := false
		err := c.pages(ctx, "find a created contact", path+"?$select=id,displayName,emailAddresses,createdDateTime&$top=1000", func(vs []json.RawMessage) error {
			for _, v := range vs {
				var ct struct {
					ID      string    `json:"id"`
					Name    string    `json:"displayName"`
					Emails  any       `json:"emailAddresses"`
					Created time.Time `json:"createdDateTime"`
				}
				if json.Unmarshal(v, &ct) == nil && ct.Name == name && firstEmail(ct.Emails) == email && !ct.Created.Before(since) {
					id, found = ct.ID, true
				}
			}
			return nil
		})
		return found, err
	})
	return id, err
}

func firstEmail(v any) string {
	l, _ := v.([]any)
	if len(l) == 0 {
		if m, ok := v.([]map[string]any); ok && len(m) > 0 {
			s, _ := m[0]["address"].(string)
			return strings.ToLower(s)
		}
		return ""
	}
	m, _ := l[0].(map[string]any)
	s, _ := m["address"].(string)
	return strings.ToLower(s)
}

// DeleteContact deletes a contact.
func (c *Client) DeleteContact(ctx context.Context, user, contactID string) error {
	_, err := c.sendJSON(ctx, "delete contact", http.MethodDelete, userPath(user)+"/contacts/"+url.PathEscape(contactID), nil, false)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
