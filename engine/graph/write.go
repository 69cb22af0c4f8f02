package graph

// The write side of Graph that restores use: mail folders, messages
// imported from MIME with their metadata, drive folders and file uploads.
//
// Messages: Graph creates a message from MIME only as a draft, and the
// draft state is fixed at creation, so ImportMessage posts JSON with
// singleValueExtendedProperties: PidTagMessageFlags without MSGFLAG_UNSENT
// (a received, non-draft message) and the delivery and submit times. Then
// each attachment: a POST below 3 MB, an attachment upload session above.
//
// Files: a simple PUT up to 4 MiB (then a PATCH of fileSystemInfo), an
// upload session above, in fragments that are multiples of 320 KiB, with
// fileSystemInfo given when the session is created. Upload URLs are
// pre-authenticated: no Authorization header goes to them.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/lifeboat-backup/lifeboat/engine/quickxor"
)

// ErrConflict: an item of that name already exists where a write was told
// not to replace it (conflict behaviour "fail", or a folder name taken).
var ErrConflict = errors.New("an item with that name already exists")

// Sizes of the write paths, from Microsoft's documentation.
const (
	// SimpleUploadMax is the largest file UploadFile PUTs in one request.
	SimpleUploadMax = 4 << 20
	// UploadFragmentSize is the upload-session fragment: 32 × 320 KiB.
	UploadFragmentSize = 32 * 320 << 10
	// attachmentPostMax is the largest attachment POSTed whole ("under 3
	// MB"); larger ones use an upload session.
	attachmentPostMax = 3_000_000
	// attachmentChunk is the upload-session chunk for attachments: below
	// the documented 4 MB whichever way "MB" is read.
	attachmentChunk = 12 * 320 << 10
	// maxImportXHeaders bounds the custom headers an import sends.
	maxImportXHeaders = 5
)

// MAPI properties a restored message is created with.
const (
	propMessageFlags = "Integer 0x0E07"    // PidTagMessageFlags
	propDeliveryTime = "SystemTime 0x0E06" // PidTagMessageDeliveryTime
	propSubmitTime   = "SystemTime 0x0039" // PidTagClientSubmitTime
	msgFlagRead      = 0x1
)

// conflictAware marks a 409 as ErrConflict.
func conflictAware(op string, err error) error {
	err = withOp(op, err)
	var ge *Error
	if errors.As(err, &ge) && ge.Status == http.StatusConflict {
		c := *ge
		c.Kind = ErrConflict
		return &c
	}
	return err
}

// ---- mail folders ----

// EnsureMailFolderPath finds the folder by display-name path from the
// mailbox root (e.g. ["Inbox","Invoices"]), creating missing ones. Names
// match case-insensitively, as Outlook's do.
func (c *Client) EnsureMailFolderPath(ctx context.Context, user string, path []string) (MailFolder, error) {
	if len(path) == 0 {
		return MailFolder{}, errors.New("graph: empty mail folder path")
	}
	var cur MailFolder
	parent := ""
	for _, name := range path {
		name = strings.TrimSpace(name)
		if name == "" {
			return MailFolder{}, fmt.Errorf("graph: empty name in mail folder path %q", strings.Join(path, "/"))
		}
		f, ok, err := c.findMailFolder(ctx, user, parent, name)
		if err != nil {
			return MailFolder{}, err
		}
		if !ok {
			f, err = c.createMailFolder(ctx, user, parent, name)
			if errors.Is(err, ErrConflict) {
				// Created meanwhile (another restore worker): use it.
				f, ok, err = c.findMailFolder(ctx, user, parent, name)
				if err == nil && !ok {
					err = fmt.Errorf("graph: mail folder %q exists but cannot be listed", name)
				}
			}
			if err != nil {
				return MailFolder{}, err
			}
		}
		cur, parent = f, f.ID
	}
	return cur, nil
}

// findMailFolder looks for a child of parent ("" = the root) by name.
func (c *Client) findMailFolder(ctx context.Context, user, parent, name string) (MailFolder, bool, error) {
	hidden := "true"
	top := folderPage
	var list func(link string) (models.MailFolderCollectionResponseable, error)
	if parent == "" {
		b := c.user(user).MailFolders()
		list = func(link string) (models.MailFolderCollectionResponseable, error) {
			if link != "" {
				return b.WithUrl(link).Get(ctx, nil)
			}
			return b.Get(ctx, &users.ItemMailFoldersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemMailFoldersRequestBuilderGetQueryParameters{IncludeHiddenFolders: &hidden, Top: &top},
			})
		}
	} else {
		b := c.user(user).MailFolders().ByMailFolderId(parent).ChildFolders()
		list = func(link string) (models.MailFolderCollectionResponseable, error) {
			if link != "" {
				return b.WithUrl(link).Get(ctx, nil)
			}
			return b.Get(ctx, &users.ItemMailFoldersItemChildFoldersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemMailFoldersItemChildFoldersRequestBuilderGetQueryParameters{IncludeHiddenFolders: &hidden, Top: &top},
			})
		}
	}
	link := ""
	for {
		resp, err := list(link)
		if err != nil {
			return MailFolder{}, false, withOp("list mail folders", err)
		}
		if resp == nil {
			return MailFolder{}, false, nil
		}
		for _, f := range resp.GetValue() {
			if mf := convertFolder(f); mf.ID != "" && strings.EqualFold(strings.TrimSpace(mf.DisplayName), name) {
				return mf, true, nil
			}
		}
		next := str(resp.GetOdataNextLink())
		if next == "" || next == link {
			return MailFolder{}, false, nil
		}
		link = next
	}
}

func (c *Client) createMailFolder(ctx context.Context, user, parent, name string) (MailFolder, error) {
	body := models.NewMailFolder()
	body.SetDisplayName(&name)
	var f models.MailFolderable
	var err error
	if parent == "" {
		f, err = c.user(user).MailFolders().Post(ctx, body, nil)
	} else {
		f, err = c.user(user).MailFolders().ByMailFolderId(parent).ChildFolders().Post(ctx, body, nil)
	}
	if err != nil {
		return MailFolder{}, conflictAware("create mail folder", err)
	}
	mf := convertFolder(f)
	if mf.ID == "" {
		return MailFolder{}, &Error{Op: "create mail folder", Kind: ErrTransient, Err: errors.New("no folder in the response")}
	}
	return mf, nil
}

// ---- messages ----

// FindMessages returns the ids of messages in folderID with that
// internetMessageId.
func (c *Client) FindMessages(ctx context.Context, user, folderID, internetMessageID string) ([]string, error) {
	return c.messageIDs(ctx, "find messages", user, folderID, "internetMessageId eq '"+strings.ReplaceAll(internetMessageID, "'", "''")+"'")
}

// messageIDs returns the ids of the messages in folderID that filter
// matches, following every page.
func (c *Client) messageIDs(ctx context.Context, op, user, folderID, filter string) ([]string, error) {
	top := int32(50)
	b := c.user(user).MailFolders().ByMailFolderId(folderID).Messages()
	resp, err := b.Get(ctx, &users.ItemMailFoldersItemMessagesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{Filter: &filter, Select: []string{"id"}, Top: &top},
	})
	var ids []string
	prev := ""
	for {
		if err != nil {
			return nil, withOp(op, err)
		}
		if resp == nil {
			return ids, nil
		}
		for _, m := range resp.GetValue() {
			if id := str(m.GetId()); id != "" {
				ids = append(ids, id)
			}
		}
		next := str(resp.GetOdataNextLink())
		if next == "" || next == prev {
			return ids, nil
		}
		prev = next
		resp, err = b.WithUrl(next).Get(ctx, nil)
	}
}

// DeleteMessage deletes a message (Outlook moves it to Deleted Items).
func (c *Client) DeleteMessage(ctx context.Context, user, messageID string) error {
	if err := c.user(user).Messages().ByMessageId(messageID).Delete(ctx, nil); err != nil {
		return withOp("delete message", err)
	}
	return nil
}

// ImportMeta is what a restored message carries beside its MIME.
type ImportMeta struct {
	IsRead     bool
	Flag       string // "notFlagged", "flagged", "complete" ("" = notFlagged)
	Categories []string
	Importance string // "low", "normal", "high" ("" = normal)
	// Received and Sent: zero takes them from the MIME (the topmost
	// Received header, the Date header).
	Received, Sent time.Time
}

// ImportMessage creates a non-draft copy of a message in folderID from its
// MIME: headers, body (HTML when it has one, else text; Graph keeps one
// body), every attachment (inline ones with their Content-ID), with meta
// and the sent/received dates. It returns the new message's ID. If an
// attachment fails, the half-made message is deleted again.
//
// A create or attachment whose answer was lost is not simply sent again,
// which could leave two copies (see sendChecked): the import carries a
// random token in a named property, so after a lost create the folder is
// searched for it; after a lost attachment the message's attachments are
// counted.
func (c *Client) ImportMessage(ctx context.Context, user, folderID string, mime io.Reader, meta ImportMeta) (string, error) {
	pm, err := parseMIME(mime, "")
	if err != nil {
		return "", fmt.Errorf("graph: import message: %w", err)
	}
	defer pm.Close()
	msg, err := importBody(pm, meta)
	if err != nil {
		return "", err
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("graph: import message: %w", err)
	}
	token := hex.EncodeToString(raw[:])
	msg.SetSingleValueExtendedProperties(append(msg.GetSingleValueExtendedProperties(), extProp(propImportToken, token)))
	id := ""
	err = c.sendChecked(ctx, "create message", func(ctx context.Context) error {
		created, err := c.user(user).MailFolders().ByMailFolderId(folderID).Messages().Post(ctx, msg, nil)
		if err == nil && created != nil {
			id = str(created.GetId())
		}
		return err
	}, func() (bool, error) {
		filter := "singleValueExtendedProperties/Any(ep: ep/id eq '" + propImportToken + "' and ep/value eq '" + token + "')"
		ids, err := c.messageIDs(ctx, "find an imported message", user, folderID, filter)
		if len(ids) > 0 {
			id = ids[0]
		}
		return len(ids) > 0, err
	})
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", &Error{Op: "create message", Kind: ErrTransient, Err: errors.New("no message id in the response")}
	}
	for i, a := range pm.Attachments {
		if err := c.addAttachment(ctx, user, id, i, a); err != nil {
			// Leave no message without its attachments behind.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			if derr := c.DeleteMessage(dctx, user, id); derr != nil {
				c.log.Warn("graph: could not remove a partly imported message", "err", derr)
			}
			cancel()
			return "", err
		}
	}
	return id, nil
}

// propImportToken is the named property that marks an import, so that a
// create whose answer was lost can be found again.
const propImportToken = "String {1d4e2b3a-7c51-4f0e-9a61-5b3f0c8e2d47} Name LifeboatImportToken"

// sendAttempts bounds how often sendChecked sends a request whose answers
// were lost.
const sendAttempts = 4

// sendChecked sends a request that creates something (send, given a
// context that keeps the transport from repeating it) and, when the
// answer is lost, asks landed whether it was carried out before sending
// it again. Any other failure, or not being able to tell, ends it: a
// second copy is worse than a failed item the next attempt retries.
func (c *Client) sendChecked(ctx context.Context, op string, send func(context.Context) error, landed func() (bool, error)) error {
	for attempt := 1; ; attempt++ {
		err := send(sendOnce(ctx))
		if err == nil {
			return nil
		}
		if !uncertain(err) || attempt >= sendAttempts || ctx.Err() != nil {
			return withOp(op, err)
		}
		ok, lerr := landed()
		if lerr != nil {
			return fmt.Errorf("graph: %s: the answer was lost (%v), and checking whether it was done failed: %w", op, err, lerr)
		}
		if ok {
			return nil
		}
		c.log.Debug("graph: an answer was lost and nothing was done; sending again", "op", op, "attempt", attempt)
		if err := sleepCtx(ctx, c.backoff(attempt)); err != nil {
			return err
		}
	}
}

// importBody builds the JSON message of an import.
func importBody(pm *parsedMessage, meta ImportMeta) (models.Messageable, error) {
	msg := models.NewMessage()
	subject := pm.Subject
	msg.SetSubject(&subject)
	body := models.NewItemBody()
	ct, content := models.TEXT_BODYTYPE, pm.Text
	if pm.HTML != "" {
		ct, content = models.HTML_BODYTYPE, pm.HTML
	}
	body.SetContentType(&ct)
	body.SetContent(&content)
	msg.SetBody(body)
	if pm.From != nil {
		msg.SetFrom(recipient(*pm.From))
	}
	if pm.Sender != nil {
		msg.SetSender(recipient(*pm.Sender))
	}
	msg.SetToRecipients(recipients(pm.To))
	msg.SetCcRecipients(recipients(pm.Cc))
	msg.SetBccRecipients(recipients(pm.Bcc))
	msg.SetReplyTo(recipients(pm.ReplyTo))
	if pm.MessageID != "" {
		id := pm.MessageID
		msg.SetInternetMessageId(&id)
	}
	if len(pm.XHeaders) > 0 {
		var hs []models.InternetMessageHeaderable
		for _, h := range pm.XHeaders {
			// Exchange stamps its own X-MS-* headers and Graph keeps
			// custom headers to a handful: send the sender's few, so an
			// import never fails over a header nobody reads.
			lower := strings.ToLower(h[0])
			if strings.HasPrefix(lower, "x-ms-") || strings.HasPrefix(lower, "x-microsoft-") || len(hs) >= maxImportXHeaders {
				continue
			}
			mh := models.NewInternetMessageHeader()
			name, value := h[0], h[1]
			mh.SetName(&name)
			mh.SetValue(&value)
			hs = append(hs, mh)
		}
		msg.SetInternetMessageHeaders(hs)
	}
	read := meta.IsRead
	msg.SetIsRead(&read)
	flag := models.NOTFLAGGED_FOLLOWUPFLAGSTATUS
	switch strings.ToLower(meta.Flag) {
	case "", "notflagged":
	case "flagged":
		flag = models.FLAGGED_FOLLOWUPFLAGSTATUS
	case "complete":
		flag = models.COMPLETE_FOLLOWUPFLAGSTATUS
	default:
		return nil, fmt.Errorf("graph: import message: unknown flag status %q", meta.Flag)
	}
	ff := models.NewFollowupFlag()
	ff.SetFlagStatus(&flag)
	msg.SetFlag(ff)
	imp := models.NORMAL_IMPORTANCE
	switch strings.ToLower(meta.Importance) {
	case "", "normal":
	case "low":
		imp = models.LOW_IMPORTANCE
	case "high":
		imp = models.HIGH_IMPORTANCE
	default:
		return nil, fmt.Errorf("graph: import message: unknown importance %q", meta.Importance)
	}
	msg.SetImportance(&imp)
	msg.SetCategories(append([]string{}, meta.Categories...))

	flags := 0
	if meta.IsRead {
		flags |= msgFlagRead
	}
	props := []models.SingleValueLegacyExtendedPropertyable{extProp(propMessageFlags, strconv.Itoa(flags))}
	sent := meta.Sent
	if sent.IsZero() {
		sent = pm.Date
	}
	received := meta.Received
	if received.IsZero() {
		received = pm.Received
	}
	if received.IsZero() {
		received = sent
	}
	if !received.IsZero() {
		props = append(props, extProp(propDeliveryTime, received.UTC().Format(time.RFC3339)))
	}
	if !sent.IsZero() {
		props = append(props, extProp(propSubmitTime, sent.UTC().Format(time.RFC3339)))
	}
	msg.SetSingleValueExtendedProperties(props)
	return msg, nil
}

func extProp(id, value string) models.SingleValueLegacyExtendedPropertyable {
	p := models.NewSingleValueLegacyExtendedProperty()
	p.SetId(&id)
	p.SetValue(&value)
	return p
}

func recipient(a Address) models.Recipientable {
	r := models.NewRecipient()
	e := models.NewEmailAddress()
	name, addr := a.Name, a.Address
	if name != "" {
		e.SetName(&name)
	}
	e.SetAddress(&addr)
	r.SetEmailAddress(e)
	return r
}

func recipients(l []Address) []models.Recipientable {
	out := []models.Recipientable{}
	for _, a := range l {
		if a.Address != "" {
			out = append(out, recipient(a))
		}
	}
	return out
}

// addAttachment attaches one file, the message's have+1st: a POST when
// small, an upload session otherwise.
func (c *Client) addAttachment(ctx context.Context, user, msgID string, have int, a *parsedAttachment) error {
	if a.Size <= attachmentPostMax {
		rc, err := a.Open()
		if err != nil {
			return fmt.Errorf("graph: open attachment: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, attachmentPostMax+1))
		rc.Close()
		if err != nil {
			return fmt.Errorf("graph: read attachment: %w", err)
		}
		fa := models.NewFileAttachment()
		c.describeAttachment(fa, a)
		fa.SetContentBytes(data)
		// Nobody else adds attachments to this new message, so counting
		// them tells whether a POST whose answer was lost landed.
		return c.sendChecked(ctx, "add attachment", func(ctx context.Context) error {
			_, err := c.user(user).Messages().ByMessageId(msgID).Attachments().Post(ctx, fa, nil)
			return err
		}, func() (bool, error) {
			n, err := c.countAttachments(ctx, user, msgID)
			if err == nil && n != have && n != have+1 {
				err = fmt.Errorf("the message has %d attachments, expected %d or %d", n, have, have+1)
			}
			return n == have+1, err
		})
	}
	item := models.NewAttachmentItem()
	at := models.FILE_ATTACHMENTTYPE
	item.SetAttachmentType(&at)
	name, ct, size, inline := a.Name, a.ContentType, a.Size, a.Inline
	item.SetName(&name)
	item.SetContentType(&ct)
	item.SetSize(&size)
	item.SetIsInline(&inline)
	if a.ContentID != "" {
		cid := a.ContentID
		item.SetContentId(&cid)
	}
	body := users.NewItemMessagesItemAttachmentsCreateUploadSessionPostRequestBody()
	body.SetAttachmentItem(item)
	sess, err := c.user(user).Messages().ByMessageId(msgID).Attachments().CreateUploadSession().Post(ctx, body, nil)
	if err != nil {
		return withOp("create attachment upload session", err)
	}
	uploadURL := ""
	if sess != nil {
		uploadURL = str(sess.GetUploadUrl())
	}
	if uploadURL == "" {
		return &Error{Op: "create attachment upload session", Kind: ErrTransient, Err: errors.New("no uploadUrl in the response")}
	}
	rc, err := a.Open()
	if err != nil {
		return fmt.Errorf("graph: open attachment: %w", err)
	}
	defer rc.Close()
	if _, err := c.uploadChunks(ctx, "upload attachment", uploadURL, rc, a.Size, attachmentChunk); err != nil {
		c.cancelUpload(ctx, uploadURL)
		return err
	}
	return nil
}

// countAttachments returns how many attachments a message has.
func (c *Client) countAttachments(ctx context.Context, user, msgID string) (int, error) {
	resp, err := c.user(user).Messages().ByMessageId(msgID).Attachments().Get(ctx, &users.ItemMessagesItemAttachmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMessagesItemAttachmentsRequestBuilderGetQueryParameters{Select: []string{"id", "name", "size"}},
	})
	if err != nil {
		return 0, withOp("list attachments", err)
	}
	n := 0
	if resp != nil {
		n = len(resp.GetValue())
	}
	return n, nil
}

func (c *Client) describeAttachment(fa models.FileAttachmentable, a *parsedAttachment) {
	name, ct, inline := a.Name, a.ContentType, a.Inline
	fa.SetName(&name)
	fa.SetContentType(&ct)
	fa.SetIsInline(&inline)
	if a.ContentID != "" {
		cid := a.ContentID
		fa.SetContentId(&cid)
	}
}

// ---- upload sessions ----

// uploadChunks PUTs size bytes from r to a pre-authenticated upload URL in
// chunks of chunk bytes and returns the final response's body. A chunk
// whose response was lost but which the server kept (a retry answered
// 416) is recognised by asking the session where it stands.
func (c *Client) uploadChunks(ctx context.Context, op, uploadURL string, r io.Reader, size int64, chunk int) ([]byte, error) {
	buf := make([]byte, chunk)
	var off int64
	for off < size {
		n := int(min(int64(chunk), size-off))
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return nil, fmt.Errorf("graph: %s: read source at %d of %d bytes: %w", op, off, size, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, uploadURL, bytes.NewReader(buf[:n]))
		if err != nil {
			return nil, &Error{Op: op, Err: errors.New("invalid upload URL")}
		}
		req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+int64(n)-1, size))
		resp, err := c.send(req, false)
		var ge *Error
		if errors.As(err, &ge) && ge.Status == http.StatusRequestedRangeNotSatisfiable && ge.Attempts > 1 {
			if next, ok := c.uploadNext(ctx, uploadURL); ok && next == off+int64(n) {
				off = next
				continue
			}
		}
		if errors.As(err, &ge) && ge.Status == http.StatusNotFound && ge.Attempts > 1 && off+int64(n) == size {
			// The session is gone after a retried last fragment: the
			// first try most likely completed the upload.
			return nil, fmt.Errorf("graph: %s: %w: %w", op, errFinalLost, err)
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		off += int64(n)
		if off >= size {
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
				return nil, &Error{Op: op, Status: resp.StatusCode, Err: errors.New("the last fragment did not complete the upload")}
			}
			return body, nil
		}
	}
	return nil, &Error{Op: op, Err: errors.New("nothing to upload")}
}

// errFinalLost: the last fragment's response was lost and its retry found
// the session closed, so the upload probably completed.
var errFinalLost = errors.New("the response to the last fragment was lost")

// uploadNext asks an upload session for the next byte it expects.
func (c *Client) uploadNext(ctx context.Context, uploadURL string) (int64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uploadURL, nil)
	if err != nil {
		return 0, false
	}
	resp, err := c.send(req, false)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var st struct {
		Next []string `json:"nextExpectedRanges"`
	}
	if json.NewDecoder(resp.Body).Decode(&st) != nil || len(st.Next) == 0 {
		return 0, false
	}
	start, _, _ := strings.Cut(st.Next[0], "-")
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil
}

// cancelUpload deletes an upload session, best effort.
func (c *Client) cancelUpload(ctx context.Context, uploadURL string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(dctx, http.MethodDelete, uploadURL, nil)
	if err != nil {
		return
	}
	if resp, err := c.send(req, false); err == nil {
		resp.Body.Close()
	}
}

// ---- drive ----

// drivePath escapes a "/"-separated path below a drive root, refusing
// empty, "." and ".." segments.
func drivePath(p string) (string, error) {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			continue
		}
		if s == "." || s == ".." {
			return "", fmt.Errorf("graph: path %q has a %q segment", p, s)
		}
		segs = append(segs, url.PathEscape(s))
	}
	return strings.Join(segs, "/"), nil
}

func (c *Client) driveURL(driveID string) string {
	return c.opts.GraphURL + "/drives/" + url.PathEscape(driveID)
}

// ItemByPath returns the item at path ("/"-separated, relative to the drive
// root; "" is the root); errors.Is(err, ErrNotFound) when absent.
func (c *Client) ItemByPath(ctx context.Context, driveID, path string) (DriveItem, error) {
	ep, err := drivePath(path)
	if err != nil {
		return DriveItem{}, err
	}
	u := c.driveURL(driveID) + "/root"
	if ep != "" {
		u += ":/" + ep + ":"
	}
	v, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId("root").WithUrl(u).Get(ctx, nil)
	if err != nil {
		return DriveItem{}, withOp("get item by path", err)
	}
	it, ok := convertDriveItem(v)
	if !ok {
		return DriveItem{}, &Error{Op: "get item by path", Kind: ErrTransient, Err: errors.New("empty response")}
	}
	return it, nil
}

// EnsureFolderPath creates missing folders along path and returns the last
// ("" returns the root). A file in the way is an ErrConflict.
func (c *Client) EnsureFolderPath(ctx context.Context, driveID, path string) (DriveItem, error) {
	if _, err := drivePath(path); err != nil {
		return DriveItem{}, err
	}
	it, err := c.ItemByPath(ctx, driveID, path)
	if err == nil {
		if !it.IsFolder {
			return DriveItem{}, fmt.Errorf("graph: %q is a file, not a folder: %w", path, ErrConflict)
		}
		return it, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return DriveItem{}, err
	}
	cur, err := c.ItemByPath(ctx, driveID, "")
	if err != nil {
		return DriveItem{}, err
	}
	sofar := ""
	for _, name := range strings.Split(path, "/") {
		if name == "" {
			continue
		}
		sofar += "/" + name
		next, err := c.ItemByPath(ctx, driveID, sofar)
		if errors.Is(err, ErrNotFound) {
			next, err = c.createDriveFolder(ctx, driveID, cur.ID, name)
			if errors.Is(err, ErrConflict) {
				next, err = c.ItemByPath(ctx, driveID, sofar) // made meanwhile
			}
		}
		if err != nil {
			return DriveItem{}, err
		}
		if !next.IsFolder {
			return DriveItem{}, fmt.Errorf("graph: %q is a file, not a folder: %w", sofar, ErrConflict)
		}
		cur = next
	}
	return cur, nil
}

func (c *Client) createDriveFolder(ctx context.Context, driveID, parentID, name string) (DriveItem, error) {
	item := models.NewDriveItem()
	item.SetName(&name)
	item.SetFolder(models.NewFolder())
	item.SetAdditionalData(map[string]any{"@microsoft.graph.conflictBehavior": "fail"})
	v, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(parentID).Children().Post(ctx, item, nil)
	if err != nil {
		return DriveItem{}, conflictAware("create folder", err)
	}
	it, ok := convertDriveItem(v)
	if !ok {
		return DriveItem{}, &Error{Op: "create folder", Kind: ErrTransient, Err: errors.New("empty response")}
	}
	return it, nil
}

// UploadOptions says how UploadFile treats a name that exists and which
// timestamps the file gets.
type UploadOptions struct {
	Conflict string // "rename" (default), "replace", "fail" (→ ErrConflict)
	// Created and Modified become fileSystemInfo; zero leaves what the
	// server sets.
	Created, Modified time.Time
}

// UploadFile writes a file of size bytes from r into parentID: a simple
// PUT up to 4 MiB, an upload session in 320 KiB-multiple fragments above.
// The result carries the name OneDrive chose (rename conflict behaviour).
func (c *Client) UploadFile(ctx context.Context, driveID, parentID, name string, size int64, r io.Reader, o UploadOptions) (DriveItem, error) {
	switch o.Conflict {
	case "":
		o.Conflict = "rename"
	case "rename", "replace", "fail":
	default:
		return DriveItem{}, fmt.Errorf("graph: unknown conflict behaviour %q", o.Conflict)
	}
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") {
		return DriveItem{}, fmt.Errorf("graph: invalid file name %q", name)
	}
	if size < 0 {
		return DriveItem{}, errors.New("graph: negative file size")
	}
	target := c.driveURL(driveID) + "/items/" + url.PathEscape(parentID) + ":/" + url.PathEscape(name) + ":"
	if size <= SimpleUploadMax {
		return c.simpleUpload(ctx, driveID, parentID, name, target, size, r, o)
	}
	body := drives.NewItemItemsItemCreateUploadSessionPostRequestBody()
	props := models.NewDriveItemUploadableProperties()
	props.SetAdditionalData(map[string]any{"@microsoft.graph.conflictBehavior": o.Conflict})
	if fsi := fileSystemInfo(o); fsi != nil {
		props.SetFileSystemInfo(fsi)
	}
	body.SetItem(props)
	sess, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(parentID).CreateUploadSession().
		WithUrl(target+"/createUploadSession").Post(ctx, body, nil)
	if err != nil {
		return DriveItem{}, conflictAware("create upload session", err)
	}
	uploadURL := ""
	if sess != nil {
		uploadURL = str(sess.GetUploadUrl())
	}
	if uploadURL == "" {
		return DriveItem{}, &Error{Op: "create upload session", Kind: ErrTransient, Err: errors.New("no uploadUrl in the response")}
	}
	hash := quickxor.New()
	final, err := c.uploadChunks(ctx, "upload file", uploadURL, io.TeeReader(r, hash), size, UploadFragmentSize)
	if errors.Is(err, errFinalLost) {
		if it, ok := c.findUploaded(ctx, driveID, parentID, name, size, base64.StdEncoding.EncodeToString(hash.Sum(nil))); ok {
			return it, nil
		}
	}
	if err != nil {
		c.cancelUpload(ctx, uploadURL)
		return DriveItem{}, conflictAware("upload file", err)
	}
	return decodeDriveItem("upload file", final)
}

// findUploaded looks in parentID for the file an upload whose last
// response was lost created: same size and QuickXorHash, and the name asked
// for or OneDrive's rename of it ("name 1.ext").
func (c *Client) findUploaded(ctx context.Context, driveID, parentID, name string, size int64, hash string) (DriveItem, bool) {
	b := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(parentID).Children()
	ext := pathExt(name)
	stem := strings.TrimSuffix(name, ext)
	var best DriveItem
	found := false
	link := ""
	for {
		var resp models.DriveItemCollectionResponseable
		var err error
		if link == "" {
			resp, err = b.Get(ctx, nil)
		} else {
			resp, err = b.WithUrl(link).Get(ctx, nil)
		}
		if err != nil || resp == nil {
			return best, found
		}
		for _, v := range resp.GetValue() {
			it, ok := convertDriveItem(v)
			if !ok || it.IsFolder || it.Size != size || it.QuickXorHash != hash {
				continue
			}
			rest, okPrefix := strings.CutPrefix(it.Name, stem+" ")
			num, okSuffix := strings.CutSuffix(rest, ext)
			isRename := okPrefix && okSuffix && num != "" && strings.Trim(num, "0123456789") == ""
			if it.Name != name && !isRename {
				continue
			}
			if !found || it.Modified.After(best.Modified) {
				best, found = it, true
			}
		}
		next := str(resp.GetOdataNextLink())
		if next == "" || next == link {
			return best, found
		}
		link = next
	}
}

// pathExt is a file name's extension as OneDrive's rename keeps it.
func pathExt(name string) string {
	i := strings.LastIndex(name, ".")
	if i <= 0 {
		return ""
	}
	return name[i:]
}

func fileSystemInfo(o UploadOptions) models.FileSystemInfoable {
	if o.Created.IsZero() && o.Modified.IsZero() {
		return nil
	}
	fsi := models.NewFileSystemInfo()
	if !o.Created.IsZero() {
		t := o.Created.UTC()
		fsi.SetCreatedDateTime(&t)
	}
	if !o.Modified.IsZero() {
		t := o.Modified.UTC()
		fsi.SetLastModifiedDateTime(&t)
	}
	return fsi
}

// simpleUpload PUTs a small file, then sets its fileSystemInfo.
func (c *Client) simpleUpload(ctx context.Context, driveID, parentID, name, target string, size int64, r io.Reader, o UploadOptions) (DriveItem, error) {
	data, err := io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return DriveItem{}, fmt.Errorf("graph: upload file: read source: %w", err)
	}
	if int64(len(data)) != size {
		return DriveItem{}, fmt.Errorf("graph: upload file: the source has %d bytes, not %d", len(data), size)
	}
	// When the PUT's answer is lost the file may be there already, and a
	// blind repeat would fail as a conflict (or make "name 1.ext"): look
	// for it by size and hash, as for a lost last fragment.
	var it DriveItem
	err = c.sendChecked(ctx, "upload file", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, target+"/content?@microsoft.graph.conflictBehavior="+o.Conflict, bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := c.send(req, false)
		if err != nil {
			return conflictAware("upload file", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		it, err = decodeDriveItem("upload file", body)
		return err
	}, func() (bool, error) {
		hash := quickxor.New()
		hash.Write(data)
		found, ok := c.findUploaded(ctx, driveID, parentID, name, size, base64.StdEncoding.EncodeToString(hash.Sum(nil)))
		if ok {
			it = found
		}
		return ok, nil
	})
	if err != nil {
		return DriveItem{}, err
	}
	fsi := fileSystemInfo(o)
	if fsi == nil {
		return it, nil
	}
	patch := models.NewDriveItem()
	patch.SetFileSystemInfo(fsi)
	v, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(it.ID).Patch(ctx, patch, nil)
	if err != nil {
		return DriveItem{}, withOp("set file times", err)
	}
	if pit, ok := convertDriveItem(v); ok {
		return pit, nil
	}
	return it, nil
}

// driveItemJSON is the part of a driveItem an upload's response needs.
type driveItemJSON struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Size            int64     `json:"size"`
	ETag            string    `json:"eTag"`
	CTag            string    `json:"cTag"`
	Created         time.Time `json:"createdDateTime"`
	Modified        time.Time `json:"lastModifiedDateTime"`
	DownloadURL     string    `json:"@microsoft.graph.downloadUrl"`
	ParentReference *struct {
		ID      string `json:"id"`
		DriveID string `json:"driveId"`
	} `json:"parentReference"`
	File *struct {
		MimeType string `json:"mimeType"`
		Hashes   struct {
			QuickXor string `json:"quickXorHash"`
			SHA1     string `json:"sha1Hash"`
			SHA256   string `json:"sha256Hash"`
		} `json:"hashes"`
	} `json:"file"`
	Folder         *json.RawMessage `json:"folder"`
	FileSystemInfo *struct {
		Created  time.Time `json:"createdDateTime"`
		Modified time.Time `json:"lastModifiedDateTime"`
	} `json:"fileSystemInfo"`
}

func decodeDriveItem(op string, body []byte) (DriveItem, error) {
	var v driveItemJSON
	if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
		return DriveItem{}, &Error{Op: op, Kind: ErrTransient, Err: errors.New("the response is not a driveItem")}
	}
	it := DriveItem{ID: v.ID, Name: v.Name, Size: v.Size, ETag: v.ETag, CTag: v.CTag, Created: v.Created, Modified: v.Modified,
		DownloadURL: v.DownloadURL, IsFolder: v.Folder != nil}
	if p := v.ParentReference; p != nil {
		it.ParentID, it.DriveID = p.ID, p.DriveID
	}
	if f := v.File; f != nil {
		it.MimeType, it.QuickXorHash, it.SHA1, it.SHA256 = f.MimeType, f.Hashes.QuickXor, f.Hashes.SHA1, f.Hashes.SHA256
	}
	if fs := v.FileSystemInfo; fs != nil {
		it.FSCreated, it.FSModified = fs.Created, fs.Modified
	}
	return it, nil
}
