package graph

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Drive is a OneDrive.
type Drive struct {
	ID         string
	DriveType  string // business, personal, documentLibrary
	Name       string
	QuotaTotal int64
	QuotaUsed  int64
	WebURL     string // a library's address (SiteDrives, DriveByID)
}

// DriveItem is a file or folder from a drive delta. Deleted entries carry
// ID, ParentID and Deleted (and often little else).
type DriveItem struct {
	ID       string
	ParentID string
	DriveID  string
	Name     string
	Size     int64
	IsFolder bool
	IsRoot   bool
	// IsPackage marks a OneNote notebook or similar package (a folder-like
	// item whose content is not downloadable as one file).
	IsPackage bool
	MimeType  string
	// Hashes as Graph reports them: QuickXorHash (base64) on OneDrive for
	// Business, SHA1/SHA256 (hex) on personal OneDrive.
	QuickXorHash string
	SHA1         string
	SHA256       string
	// DownloadURL is pre-authenticated and short-lived (about an hour);
	// never log it.
	DownloadURL string
	Created     time.Time
	Modified    time.Time
	FSCreated   time.Time
	FSModified  time.Time
	ETag        string
	CTag        string
	Deleted     bool
}

// GetDrive returns the user's OneDrive ("me" for the signed-in user).
func (c *Client) GetDrive(ctx context.Context, user string) (Drive, error) {
	d, err := c.user(user).Drive().Get(ctx, nil)
	if err != nil {
		return Drive{}, withOp("get drive", err)
	}
	if d == nil {
		return Drive{}, &Error{Op: "get drive", Kind: ErrTransient, Err: errors.New("empty response")}
	}
	out := Drive{ID: str(d.GetId()), DriveType: str(d.GetDriveType()), Name: str(d.GetName())}
	if q := d.GetQuota(); q != nil {
		out.QuotaTotal, out.QuotaUsed = i64(q.GetTotal()), i64(q.GetUsed())
	}
	if out.ID == "" {
		return Drive{}, &Error{Op: "get drive", Err: errors.New("the drive has no id")}
	}
	return out, nil
}

// DriveDelta runs one round of the drive's root delta: a full enumeration
// when deltaLink is empty (or a 410's Location), else the changes since.
// It calls fn with each page and returns the new delta link. A stale link
// yields ErrGone; *Error.Location then holds the link to enumerate again
// with (passing "" works too).
func (c *Client) DriveDelta(ctx context.Context, driveID, deltaLink string, fn func(page []DriveItem) error) (string, error) {
	b := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId("root").Delta()
	cfg := &drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{Headers: preferPageSize(c.opts.DrivePageSize)}
	get := func(ctx context.Context, link string) (drives.ItemItemsItemDeltaGetResponseable, error) {
		if link == "" {
			return b.GetAsDeltaGetResponse(ctx, cfg)
		}
		return b.WithUrl(link).GetAsDeltaGetResponse(ctx, cfg)
	}
	return runDelta(ctx, "drive delta", deltaLink, get, convertDriveItem, fn)
}

// GetDriveItem returns one item with a fresh DownloadURL (for when the one
// from the delta expired: ErrExpiredURL).
func (c *Client) GetDriveItem(ctx context.Context, driveID, itemID string) (DriveItem, error) {
	v, err := c.sdk.Drives().ByDriveId(driveID).Items().ByDriveItemId(itemID).Get(ctx, nil)
	if err != nil {
		return DriveItem{}, withOp("get drive item", err)
	}
	it, ok := convertDriveItem(v)
	if !ok {
		return DriveItem{}, &Error{Op: "get drive item", Kind: ErrTransient, Err: errors.New("empty response")}
	}
	return it, nil
}

func convertDriveItem(v models.DriveItemable) (DriveItem, bool) {
	if v == nil || str(v.GetId()) == "" {
		return DriveItem{}, false
	}
	it := DriveItem{
		ID:          str(v.GetId()),
		Name:        str(v.GetName()),
		Size:        i64(v.GetSize()),
		IsFolder:    v.GetFolder() != nil || v.GetRoot() != nil,
		IsRoot:      v.GetRoot() != nil,
		IsPackage:   v.GetPackageEscaped() != nil,
		DownloadURL: additionalString(v.GetAdditionalData(), "@microsoft.graph.downloadUrl"),
		Created:     tm(v.GetCreatedDateTime()),
		Modified:    tm(v.GetLastModifiedDateTime()),
		ETag:        str(v.GetETag()),
		CTag:        str(v.GetCTag()),
		Deleted:     v.GetDeleted() != nil,
	}
	if p := v.GetParentReference(); p != nil {
		it.ParentID = str(p.GetId())
		it.DriveID = str(p.GetDriveId())
	}
	if f := v.GetFile(); f != nil {
		it.MimeType = str(f.GetMimeType())
		if h := f.GetHashes(); h != nil {
			it.QuickXorHash = str(h.GetQuickXorHash())
			it.SHA1 = str(h.GetSha1Hash())
			it.SHA256 = str(h.GetSha256Hash())
		}
	}
	if fs := v.GetFileSystemInfo(); fs != nil {
		it.FSCreated = tm(fs.GetCreatedDateTime())
		it.FSModified = tm(fs.GetLastModifiedDateTime())
	}
	return it, true
}

// OpenDownload streams a file from its pre-authenticated downloadUrl,
// starting at offset (a Range request, to resume). No Authorization header
// is sent. The stream resumes by itself after resets and truncations; its
// Size method gives the file's total size. ErrNotFound means the file was
// deleted, ErrExpiredURL that the URL expired (see GetDriveItem).
func (c *Client) OpenDownload(ctx context.Context, downloadURL string, offset int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, errors.New("graph: negative download offset")
	}
	s, err := c.openStream(ctx, "download", downloadURL, true, offset, nil)
	if err != nil {
		return nil, err
	}
	return s, nil
}
