package graph

import (
	"context"
	"errors"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/sites"
)

// Site is a SharePoint site, as far as backups need it.
type Site struct {
	ID          string
	Name        string
	DisplayName string
	WebURL      string
	// Personal marks a OneDrive's own site, which getAllSites lists too;
	// OneDrives are backed up with their people.
	Personal bool
}

// maxPages bounds a listing that never ends (a hostile or broken server).
const maxPages = 100000

// ListSites lists every site of the organization with
// GET /sites/getAllSites, following every page (application permissions
// only: Sites.Read.All or Sites.ReadWrite.All).
// https://learn.microsoft.com/graph/api/site-getallsites
func (c *Client) ListSites(ctx context.Context) ([]Site, error) {
	b := c.sdk.Sites().GetAllSites()
	resp, err := b.GetAsGetAllSitesGetResponse(ctx, nil)
	var out []Site
	prev := ""
	for pages := 0; ; pages++ {
		if err != nil {
			return nil, withOp("list sites", err)
		}
		if resp == nil {
			return out, nil
		}
		for _, s := range resp.GetValue() {
			if v := siteOf(s); v.ID != "" {
				out = append(out, v)
			}
		}
		next := str(resp.GetOdataNextLink())
		if next == "" || next == prev {
			return out, nil
		}
		if pages > maxPages {
			return nil, &Error{Op: "list sites", Err: errors.New("the list does not end")}
		}
		prev = next
		resp, err = b.WithUrl(next).GetAsGetAllSitesGetResponse(ctx, nil)
	}
}

func siteOf(s models.Siteable) Site {
	v := Site{ID: str(s.GetId()), Name: str(s.GetName()), DisplayName: str(s.GetDisplayName()), WebURL: str(s.GetWebUrl())}
	if p := s.GetIsPersonalSite(); p != nil {
		v.Personal = *p
	}
	return v
}

// SiteDrives lists a site's document libraries.
// https://learn.microsoft.com/graph/api/drive-list
func (c *Client) SiteDrives(ctx context.Context, siteID string) ([]Drive, error) {
	b := c.sdk.Sites().BySiteId(siteID).Drives()
	resp, err := b.Get(ctx, &sites.ItemDrivesRequestBuilderGetRequestConfiguration{})
	var out []Drive
	prev := ""
	for pages := 0; ; pages++ {
		if err != nil {
			return nil, withOp("list a site's libraries", err)
		}
		if resp == nil {
			return out, nil
		}
		for _, d := range resp.GetValue() {
			if v := driveOf(d); v.ID != "" {
				out = append(out, v)
			}
		}
		next := str(resp.GetOdataNextLink())
		if next == "" || next == prev || pages > maxPages {
			return out, nil
		}
		prev = next
		resp, err = b.WithUrl(next).Get(ctx, nil)
	}
}

// DriveByID returns any drive (a OneDrive or a site's library) by ID.
// https://learn.microsoft.com/graph/api/drive-get
func (c *Client) DriveByID(ctx context.Context, driveID string) (Drive, error) {
	d, err := c.sdk.Drives().ByDriveId(driveID).Get(ctx, nil)
	if err != nil {
		return Drive{}, withOp("get drive", err)
	}
	out := driveOf(d)
	if out.ID == "" {
		return Drive{}, &Error{Op: "get drive", Kind: ErrTransient, Err: errors.New("empty response")}
	}
	return out, nil
}

func driveOf(d models.Driveable) Drive {
	if d == nil {
		return Drive{}
	}
	out := Drive{ID: str(d.GetId()), DriveType: str(d.GetDriveType()), Name: str(d.GetName()), WebURL: str(d.GetWebUrl())}
	if q := d.GetQuota(); q != nil {
		out.QuotaTotal, out.QuotaUsed = i64(q.GetTotal()), i64(q.GetUsed())
	}
	return out
}
