package graph

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// MailFolder is one folder of a mailbox.
type MailFolder struct {
	ID          string
	ParentID    string
	DisplayName string
	// WellKnownName ("inbox", "archive", …) when Graph says so: v1.0 does
	// not return it in listings; see WellKnownFolders.
	WellKnownName    string
	IsHidden         bool
	TotalItemCount   int
	UnreadItemCount  int
	ChildFolderCount int
	// Removed marks a folder deleted since the last MailFolderDelta.
	Removed bool
}

// Address is a mail address with its display name.
type Address struct {
	Name    string
	Address string
}

// MessageMeta is a message's metadata from a delta page. Removed entries
// (deleted, or moved out of the folder) carry only ID and Removed.
type MessageMeta struct {
	ID                string
	ParentFolderID    string
	Subject           string
	From              Address
	Sender            Address
	To                []Address
	Cc                []Address
	Bcc               []Address
	Received          time.Time
	Sent              time.Time
	Modified          time.Time
	IsRead            bool
	IsDraft           bool
	FlagStatus        string // notFlagged, flagged, complete
	Categories        []string
	Importance        string // low, normal, high
	InternetMessageID string
	ConversationID    string
	HasAttachments    bool
	ChangeKey         string
	Removed           bool
}

// messageSelect is the metadata a message delta asks for.
var messageSelect = []string{
	"id", "parentFolderId", "subject", "from", "sender", "toRecipients", "ccRecipients", "bccRecipients",
	"receivedDateTime", "sentDateTime", "lastModifiedDateTime", "isRead", "isDraft", "flag", "categories",
	"importance", "internetMessageId", "conversationId", "hasAttachments", "changeKey",
}

// folderPage is the size asked of folder listings.
const folderPage int32 = 250

// ListMailFolders returns every folder of the mailbox, hidden ones
// included, parents before children. It costs one request per folder that
// has children (plus paging), and one for the top level.
func (c *Client) ListMailFolders(ctx context.Context, user string) ([]MailFolder, error) {
	hidden := "true"
	top := folderPage
	mf := c.user(user).MailFolders()
	resp, err := mf.Get(ctx, &users.ItemMailFoldersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMailFoldersRequestBuilderGetQueryParameters{IncludeHiddenFolders: &hidden, Top: &top},
	})
	var out []MailFolder
	seen := map[string]bool{}
	var queue []MailFolder
	add := func(list []models.MailFolderable) {
		for _, f := range list {
			mfo := convertFolder(f)
			if mfo.ID == "" || seen[mfo.ID] {
				continue
			}
			seen[mfo.ID] = true
			out = append(out, mfo)
			queue = append(queue, mfo)
		}
	}
	prev := ""
	for {
		if err != nil {
			return nil, withOp("list mail folders", err)
		}
		if resp == nil {
			break
		}
		add(resp.GetValue())
		next := str(resp.GetOdataNextLink())
		if next == "" || next == prev {
			break
		}
		prev = next
		resp, err = mf.WithUrl(next).Get(ctx, nil)
	}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if f.ChildFolderCount == 0 {
			continue
		}
		cf := c.user(user).MailFolders().ByMailFolderId(f.ID).ChildFolders()
		resp, err := cf.Get(ctx, &users.ItemMailFoldersItemChildFoldersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemMailFoldersItemChildFoldersRequestBuilderGetQueryParameters{IncludeHiddenFolders: &hidden, Top: &top},
		})
		prev := ""
		for {
			if errors.Is(err, ErrNotFound) {
				break // deleted while we listed
			}
			if err != nil {
				return nil, withOp("list child folders", err)
			}
			if resp == nil {
				break
			}
			add(resp.GetValue())
			next := str(resp.GetOdataNextLink())
			if next == "" || next == prev {
				break
			}
			prev = next
			resp, err = cf.WithUrl(next).Get(ctx, nil)
		}
	}
	return out, nil
}

func convertFolder(f models.MailFolderable) MailFolder {
	if f == nil {
		return MailFolder{}
	}
	return MailFolder{
		ID:               str(f.GetId()),
		ParentID:         str(f.GetParentFolderId()),
		DisplayName:      str(f.GetDisplayName()),
		WellKnownName:    additionalString(f.GetAdditionalData(), "wellKnownName"),
		IsHidden:         boolean(f.GetIsHidden()),
		TotalItemCount:   i32(f.GetTotalItemCount()),
		UnreadItemCount:  i32(f.GetUnreadItemCount()),
		ChildFolderCount: i32(f.GetChildFolderCount()),
	}
}

// WellKnownFolderNames are the well-known folders WellKnownFolders looks up.
var wellKnownFolderNames = []string{"inbox", "drafts", "sentitems", "deleteditems", "junkemail", "archive", "outbox"}

// WellKnownFolders maps folder IDs to their well-known names (inbox,
// archive, deleteditems, …), one request per name; names the mailbox does
// not have are left out.
func (c *Client) WellKnownFolders(ctx context.Context, user string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range wellKnownFolderNames {
		f, err := c.user(user).MailFolders().ByMailFolderId(name).Get(ctx, &users.ItemMailFoldersMailFolderItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemMailFoldersMailFolderItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
		})
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, withOp("get well-known folder "+name, err)
		}
		if f != nil && str(f.GetId()) != "" {
			out[str(f.GetId())] = name
		}
	}
	return out, nil
}

// MessageDelta runs one round of a folder's message delta: from the start
// when deltaLink is empty, else from deltaLink. It calls fn with each page
// and returns the new delta link to store for next time. A stale link
// yields ErrGone: call again with "" (a full enumeration).
func (c *Client) MessageDelta(ctx context.Context, user, folderID, deltaLink string, fn func(page []MessageMeta) error) (string, error) {
	b := c.user(user).MailFolders().ByMailFolderId(folderID).Messages().Delta()
	cfg := &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetRequestConfiguration{
		Headers:         preferPageSize(c.opts.MessagePageSize),
		QueryParameters: &users.ItemMailFoldersItemMessagesDeltaRequestBuilderGetQueryParameters{Select: messageSelect},
	}
	get := func(ctx context.Context, link string) (users.ItemMailFoldersItemMessagesDeltaGetResponseable, error) {
		if link == "" {
			return b.GetAsDeltaGetResponse(ctx, cfg)
		}
		return b.WithUrl(link).GetAsDeltaGetResponse(ctx, cfg)
	}
	return runDelta(ctx, "message delta", deltaLink, get, convertMessage, fn)
}

// MailFolderDelta runs one round of the mailbox's folder delta: every
// folder (flattened, parents not necessarily first) when deltaLink is
// empty, else the folders added, changed (renamed, moved) or removed since.
// A no-change round costs one request, against ListMailFolders' one per
// folder with children.
func (c *Client) MailFolderDelta(ctx context.Context, user, deltaLink string, fn func(page []MailFolder) error) (string, error) {
	b := c.user(user).MailFolders().Delta()
	cfg := &users.ItemMailFoldersDeltaRequestBuilderGetRequestConfiguration{Headers: preferPageSize(c.opts.MessagePageSize)}
	get := func(ctx context.Context, link string) (users.ItemMailFoldersDeltaGetResponseable, error) {
		if link == "" {
			return b.GetAsDeltaGetResponse(ctx, cfg)
		}
		return b.WithUrl(link).GetAsDeltaGetResponse(ctx, cfg)
	}
	conv := func(f models.MailFolderable) (MailFolder, bool) {
		mf := convertFolder(f)
		if mf.ID == "" {
			return mf, false
		}
		if f != nil {
			if _, removed := f.GetAdditionalData()["@removed"]; removed {
				return MailFolder{ID: mf.ID, Removed: true}, true
			}
		}
		return mf, true
	}
	return runDelta(ctx, "mail folder delta", deltaLink, get, conv, fn)
}

func convertMessage(m models.Messageable) (MessageMeta, bool) {
	if m == nil || str(m.GetId()) == "" {
		return MessageMeta{}, false
	}
	mm := MessageMeta{ID: str(m.GetId())}
	if _, removed := m.GetAdditionalData()["@removed"]; removed {
		mm.Removed = true
		return mm, true
	}
	mm.ParentFolderID = str(m.GetParentFolderId())
	mm.Subject = str(m.GetSubject())
	mm.From = address(m.GetFrom())
	mm.Sender = address(m.GetSender())
	mm.To = addresses(m.GetToRecipients())
	mm.Cc = addresses(m.GetCcRecipients())
	mm.Bcc = addresses(m.GetBccRecipients())
	mm.Received = tm(m.GetReceivedDateTime())
	mm.Sent = tm(m.GetSentDateTime())
	mm.Modified = tm(m.GetLastModifiedDateTime())
	mm.IsRead = boolean(m.GetIsRead())
	mm.IsDraft = boolean(m.GetIsDraft())
	if f := m.GetFlag(); f != nil {
		mm.FlagStatus = enumString(f.GetFlagStatus())
	}
	mm.Categories = append([]string(nil), m.GetCategories()...)
	mm.Importance = enumString(m.GetImportance())
	mm.InternetMessageID = str(m.GetInternetMessageId())
	mm.ConversationID = str(m.GetConversationId())
	mm.HasAttachments = boolean(m.GetHasAttachments())
	mm.ChangeKey = str(m.GetChangeKey())
	return mm, true
}

func address(r models.Recipientable) Address {
	if r == nil {
		return Address{}
	}
	e := r.GetEmailAddress()
	if e == nil {
		return Address{}
	}
	return Address{Name: str(e.GetName()), Address: str(e.GetAddress())}
}

func addresses(rs []models.Recipientable) []Address {
	var out []Address
	for _, r := range rs {
		if a := address(r); a != (Address{}) {
			out = append(out, a)
		}
	}
	return out
}

// OpenMIME streams a message's full MIME content (/messages/{id}/$value).
// size is its length when Graph says it (else -1). The stream resumes by
// itself after a reset or truncation; ErrNotFound means the message was
// deleted.
func (c *Client) OpenMIME(ctx context.Context, user, messageID string) (io.ReadCloser, int64, error) {
	u := c.opts.GraphURL + userPath(user) + "/messages/" + url.PathEscape(messageID) + "/$value"
	s, err := c.openStream(ctx, "get message MIME", u, false, 0, nil)
	if err != nil {
		return nil, 0, err
	}
	return s, s.Size(), nil
}

// statusOK says whether a stream response is usable.
func statusOK(code int) bool { return code == http.StatusOK || code == http.StatusPartialContent }
