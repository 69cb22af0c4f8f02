package m365sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/drives"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

const driveUnicodePath = "Photos/Ünïcödé – café.jpg"

// driveRaw makes Graph requests with plain net/http where exact status
// codes and headers matter.
type driveRaw struct {
	t      *testing.T
	srv    *m365sim.Server
	token  string
	hc     *http.Client // follows redirects, as any client would
	noFoll *http.Client // returns 3xx as they are
}

func newDriveRaw(t *testing.T, srv *m365sim.Server, upn string) *driveRaw {
	t.Helper()
	tok, _, err := srv.IssueAccessToken(upn)
	if err != nil {
		t.Fatal(err)
	}
	nf := *srv.HTTPClient()
	nf.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &driveRaw{t: t, srv: srv, token: tok, hc: srv.HTTPClient(), noFoll: &nf}
}

type driveResp struct {
	status int
	header http.Header
	body   []byte
}

func (r driveResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %v\n%s", r.status, err, r.body)
	}
	return m
}

func (r driveResp) errorCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// do sends a request; path is relative to the Graph base unless absolute.
// bearer=false sends no Authorization header (download URLs).
func (c *driveRaw) do(hc *http.Client, path string, bearer bool, hdr ...string) driveResp {
	c.t.Helper()
	u := path
	if !strings.HasPrefix(u, "https://") {
		u = c.srv.GraphURL() + path
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if bearer {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("GET %s: reading body: %v", u, err)
	}
	return driveResp{status: resp.StatusCode, header: resp.Header, body: b}
}

func (c *driveRaw) put(path string, body []byte) driveResp {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPut, c.srv.GraphURL()+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("PUT %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return driveResp{status: resp.StatusCode, header: resp.Header, body: b}
}

func (c *driveRaw) get(path string, hdr ...string) driveResp {
	c.t.Helper()
	return c.do(c.hc, path, true, hdr...)
}

func (c *driveRaw) mustGet(path string, hdr ...string) map[string]any {
	c.t.Helper()
	r := c.get(path, hdr...)
	if r.status != http.StatusOK {
		c.t.Fatalf("GET %s = %d\n%s", path, r.status, r.body)
	}
	return r.json(c.t)
}

// drivePathURL percent-encodes each segment of a drive path.
func drivePathURL(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func driveBytes(t *testing.T, c m365sim.Content) []byte {
	t.Helper()
	b, err := io.ReadAll(c.Open())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func driveStr(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, _ := cur.(map[string]any)
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}

// ---- SDK delta ----

// driveSDKDelta pages through a delta round with msgraph-sdk-go, starting
// at link (a fresh enumeration when empty), and returns every item, the
// deltaLink and the number of pages.
func driveSDKDelta(t *testing.T, client *msgraphsdk.GraphServiceClient, driveID, link string, hdr map[string]string) ([]models.DriveItemable, string, int) {
	t.Helper()
	ctx := context.Background()
	b := client.Drives().ByDriveId(driveID).Items().ByDriveItemId("root").Delta()
	if link != "" {
		b = b.WithUrl(link)
	}
	var items []models.DriveItemable
	for pages := 1; ; pages++ {
		h := abs.NewRequestHeaders()
		for k, v := range hdr {
			h.Add(k, v)
		}
		resp, err := b.GetAsDeltaGetResponse(ctx, &drives.ItemItemsItemDeltaRequestBuilderGetRequestConfiguration{Headers: h})
		if err != nil {
			t.Fatalf("delta page %d: %v", pages, err)
		}
		items = append(items, resp.GetValue()...)
		if nl := resp.GetOdataNextLink(); nl != nil {
			b = b.WithUrl(*nl)
			continue
		}
		dl := resp.GetOdataDeltaLink()
		if dl == nil {
			t.Fatalf("delta page %d has neither nextLink nor deltaLink", pages)
		}
		return items, *dl, pages
	}
}

func driveDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func TestDriveSDKDeltaSeesTreeThenExactlyTheChanges(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	client := simtest.GraphClient(t, srv, simtest.Alice)
	ctx := context.Background()

	drive, err := client.Me().Drive().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	driveID := driveDeref(drive.GetId())
	if driveDeref(drive.GetDriveType()) != "business" || driveDeref(drive.GetOwner().GetUser().GetDisplayName()) != "Alice Archer" {
		t.Fatalf("drive = %s owned by %s", driveDeref(drive.GetDriveType()), driveDeref(drive.GetOwner().GetUser().GetDisplayName()))
	}
	if q := drive.GetQuota(); driveDeref(q.GetUsed()) != 300_000+9+1_200_000 || driveDeref(q.GetState()) != "normal" || driveDeref(q.GetRemaining()) != driveDeref(q.GetTotal())-driveDeref(q.GetUsed()) {
		t.Fatalf("quota used=%d remaining=%d total=%d state=%s", driveDeref(q.GetUsed()), driveDeref(q.GetRemaining()), driveDeref(q.GetTotal()), driveDeref(q.GetState()))
	}

	items, link, pages := driveSDKDelta(t, client, driveID, "", map[string]string{"Prefer": "odata.maxpagesize=2"})
	if pages < 4 {
		t.Fatalf("8 items in pages of 2 came in %d pages", pages)
	}
	if len(items) == 0 || items[0].GetRoot() == nil || driveDeref(items[0].GetName()) != "root" {
		t.Fatal("the enumeration does not start with the root")
	}
	type node struct {
		name, parent string
	}
	seen := map[string]node{}
	for _, it := range items {
		id := driveDeref(it.GetId())
		if it.GetDeleted() != nil {
			t.Fatalf("the initial enumeration has a deleted item %s", id)
		}
		if it.GetCTag() != nil {
			t.Errorf("%s: delta returns cTag, OneDrive for Business does not", driveDeref(it.GetName()))
		}
		parent := ""
		if it.GetRoot() == nil {
			parent = driveDeref(it.GetParentReference().GetId())
			if _, ok := seen[parent]; !ok {
				t.Errorf("%s comes before its parent", driveDeref(it.GetName()))
			}
			if it.GetParentReference().GetPath() != nil {
				t.Errorf("%s: delta parentReference has a path", driveDeref(it.GetName()))
			}
		}
		seen[id] = node{driveDeref(it.GetName()), parent}
	}
	pathOf := func(id string) string {
		var parts []string
		for n := seen[id]; n.parent != ""; n = seen[n.parent] {
			parts = append([]string{n.name}, parts...)
		}
		return strings.Join(parts, "/")
	}
	byPath := map[string]models.DriveItemable{}
	for _, it := range items {
		byPath[pathOf(driveDeref(it.GetId()))] = it
	}
	want := []string{"", "Documents", "Documents/Notes", "Documents/Notes/todo.txt", "Documents/budget.xlsx", "Photos", driveUnicodePath, "empty.txt"}
	if got := driveSorted(driveKeys(byPath)); !slices.Equal(got, want) {
		t.Fatalf("paths = %q, want %q", got, want)
	}
	for _, p := range []string{"Documents/budget.xlsx", "Documents/Notes/todo.txt", driveUnicodePath, "empty.txt"} {
		ti, err := tn.DriveItemByPath(simtest.Alice, p)
		if err != nil {
			t.Fatal(err)
		}
		it := byPath[p]
		if driveDeref(it.GetSize()) != ti.Content.Size() || driveDeref(it.GetFile().GetHashes().GetQuickXorHash()) != ti.QuickXor {
			t.Errorf("%s: size %d hash %s, want %d %s", p, driveDeref(it.GetSize()), driveDeref(it.GetFile().GetHashes().GetQuickXorHash()), ti.Content.Size(), ti.QuickXor)
		}
		if _, ok := it.GetAdditionalData()["@microsoft.graph.downloadUrl"]; !ok {
			t.Errorf("%s: no @microsoft.graph.downloadUrl in delta", p)
		}
	}

	// Paul's afternoon: a new file, an edit, a rename with a move, a deletion.
	newIt, err := tn.PutFile(simtest.Alice, "Documents/new.txt", m365sim.BytesContent("hello"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	todo, err := tn.PutFile(simtest.Alice, "Documents/Notes/todo.txt", m365sim.BytesContent("buy milk\nand eggs\n"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	empty, _ := tn.DriveItemByPath(simtest.Alice, "empty.txt")
	if _, err := tn.MoveDriveItem(simtest.Alice, empty.ID, "Documents", "renamed.txt"); err != nil {
		t.Fatal(err)
	}
	jpg, _ := tn.DriveItemByPath(simtest.Alice, driveUnicodePath)
	if err := tn.DeleteDriveItem(simtest.Alice, jpg.ID); err != nil {
		t.Fatal(err)
	}
	docs, _ := tn.DriveItemByPath(simtest.Alice, "Documents")

	changes, link2, _ := driveSDKDelta(t, client, driveID, link, map[string]string{"deltaExcludeParent": "true"})
	got := map[string]models.DriveItemable{}
	for _, it := range changes {
		got[driveDeref(it.GetId())] = it
	}
	if len(changes) != 4 || len(got) != 4 {
		t.Fatalf("delta after four changes returned %d items: %v", len(changes), driveNames(changes))
	}
	if it := got[newIt.ID]; it == nil || driveDeref(it.GetName()) != "new.txt" || driveDeref(it.GetSize()) != 5 || driveDeref(it.GetParentReference().GetId()) != docs.ID {
		t.Errorf("new file: %v", driveNames([]models.DriveItemable{it}))
	}
	if it := got[todo.ID]; it == nil || driveDeref(it.GetSize()) != 18 || driveDeref(it.GetFile().GetHashes().GetQuickXorHash()) != todo.QuickXor {
		t.Errorf("edited file not seen with its new size and hash")
	}
	if it := got[empty.ID]; it == nil || driveDeref(it.GetName()) != "renamed.txt" || driveDeref(it.GetParentReference().GetId()) != docs.ID {
		t.Errorf("renamed and moved file not seen with its new name and parent")
	}
	if it := got[jpg.ID]; it == nil || it.GetDeleted() == nil || driveDeref(it.GetDeleted().GetState()) != "deleted" || it.GetName() != nil {
		t.Errorf("deleted file not seen with the deleted facet (and without a name)")
	}

	// Without deltaExcludeParent, Graph also returns the changed items'
	// ancestors, parents first.
	withParents, _, _ := driveSDKDelta(t, client, driveID, link, nil)
	if len(withParents) == 0 || withParents[0].GetRoot() == nil {
		t.Fatalf("incremental delta with parents does not start with the root: %v", driveNames(withParents))
	}
	shown := map[string]bool{}
	for _, it := range withParents {
		if it.GetRoot() == nil && it.GetDeleted() == nil && !shown[driveDeref(it.GetParentReference().GetId())] {
			t.Errorf("%s comes before its parent in %v", driveDeref(it.GetName()), driveNames(withParents))
		}
		shown[driveDeref(it.GetId())] = true
	}
	for _, id := range []string{newIt.ID, todo.ID, empty.ID, jpg.ID, docs.ID} {
		if !shown[id] {
			t.Errorf("item %s missing from the delta with parents", id)
		}
	}

	again, _, pages := driveSDKDelta(t, client, driveID, link2, nil)
	if len(again) != 0 || pages != 1 {
		t.Fatalf("a deltaLink with no changes since returned %d items in %d pages", len(again), pages)
	}
}

func driveKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func driveNames(items []models.DriveItemable) []string {
	var out []string
	for _, it := range items {
		if it == nil {
			out = append(out, "<nil>")
			continue
		}
		n := driveDeref(it.GetName())
		if it.GetDeleted() != nil {
			n = "deleted:" + driveDeref(it.GetId())
		}
		out = append(out, n)
	}
	return out
}

// ---- downloads ----

// driveClock is a test clock the tenant reads, to age download URLs.
type driveClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *driveClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *driveClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestDriveDownloadURLAndContent(t *testing.T) {
	clock := &driveClock{now: time.Now()}
	tn := m365sim.NewTenant("Contoso", "contoso.test", clock.Now)
	if _, err := tn.AddUser(simtest.Alice, "Alice Archer"); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 300_000)
	for i := range big {
		big[i] = byte(i*7 + i/251)
	}
	for p, b := range map[string][]byte{"Documents/budget.xlsx": big, driveUnicodePath: []byte("not really a jpeg"), "Documents/todo.txt": []byte("buy milk\n")} {
		if _, err := tn.PutFile(simtest.Alice, p, m365sim.BytesContent(b), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	srv := simtest.Start(t, tn, m365sim.Options{})
	c := newDriveRaw(t, srv, simtest.Alice)
	seeded, _ := tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	want := driveBytes(t, seeded.Content)

	meta := c.mustGet("/me/drive/root:/Documents/budget.xlsx")
	dl := driveStr(meta, "@microsoft.graph.downloadUrl")
	if !strings.HasPrefix(dl, srv.BaseURL()+"/_download/") {
		t.Fatalf("downloadUrl = %q", dl)
	}
	if mt := driveStr(meta, "file", "mimeType"); mt != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("mimeType = %q", mt)
	}

	// The download URL needs no bearer token.
	r := c.do(c.hc, dl, false)
	if r.status != http.StatusOK || !bytes.Equal(r.body, want) {
		t.Fatalf("download = %d, %d bytes; want 200, %d identical bytes", r.status, len(r.body), len(want))
	}
	if r.header.Get("Content-Length") != "300000" || r.header.Get("Accept-Ranges") != "bytes" ||
		r.header.Get("ETag") != seeded.ETag || r.header.Get("Content-Type") != "application/octet-stream" { // driveitem-get-content.md
		t.Errorf("download headers: %v", r.header)
	}

	// Ranges, and If-Range against the eTag.
	r = c.do(c.hc, dl, false, "Range", "bytes=1000-1999")
	if r.status != http.StatusPartialContent || r.header.Get("Content-Range") != "bytes 1000-1999/300000" || !bytes.Equal(r.body, want[1000:2000]) {
		t.Fatalf("range = %d %q, %d bytes", r.status, r.header.Get("Content-Range"), len(r.body))
	}
	r = c.do(c.hc, dl, false, "Range", "bytes=-10")
	if r.status != http.StatusPartialContent || !bytes.Equal(r.body, want[len(want)-10:]) {
		t.Fatalf("suffix range = %d, %d bytes", r.status, len(r.body))
	}
	r = c.do(c.hc, dl, false, "Range", "bytes=299990-", "If-Range", seeded.ETag)
	if r.status != http.StatusPartialContent || !bytes.Equal(r.body, want[299990:]) {
		t.Fatalf("range with matching If-Range = %d, %d bytes", r.status, len(r.body))
	}
	r = c.do(c.hc, dl, false, "Range", "bytes=0-9", "If-Range", `"{stale},1"`)
	if r.status != http.StatusOK || len(r.body) != len(want) {
		t.Fatalf("range with stale If-Range = %d, %d bytes; want the whole file", r.status, len(r.body))
	}

	// /content redirects to a download URL, by ID and by path.
	for _, p := range []string{"/me/drive/items/" + seeded.ID + "/content", "/me/drive/root:/Documents/budget.xlsx:/content"} {
		r = c.do(c.noFoll, p, true)
		loc := r.header.Get("Location")
		if r.status != http.StatusFound || !strings.HasPrefix(loc, srv.BaseURL()+"/_download/") {
			t.Fatalf("GET %s = %d Location %q", p, r.status, loc)
		}
		if got := c.do(c.hc, loc, false); !bytes.Equal(got.body, want) {
			t.Fatalf("following %s's redirect gave %d bytes", p, len(got.body))
		}
	}
	if r = c.do(c.noFoll, "/me/drive/items/"+seeded.ID+"/content", true, "If-None-Match", seeded.ETag); r.status != http.StatusNotModified {
		t.Errorf("/content with the current eTag in If-None-Match = %d, want 304", r.status)
	}
	if r = c.get("/me/drive/root:/Documents:/content"); r.status != http.StatusBadRequest {
		t.Errorf("/content of a folder = %d", r.status)
	}

	// msgraph-sdk-go follows the redirect itself.
	client := simtest.GraphClient(t, srv, simtest.Alice)
	driveID := driveStr(c.mustGet("/me/drive"), "id")
	todo, _ := tn.DriveItemByPath(simtest.Alice, "Documents/todo.txt")
	b, err := client.Drives().ByDriveId(driveID).Items().ByDriveItemId(todo.ID).Content().Get(context.Background(), nil)
	if err != nil || string(b) != "buy milk\n" {
		t.Fatalf("SDK content = %q, %v", b, err)
	}

	// Forged URLs are refused.
	u, _ := url.Parse(dl)
	q := u.Query()
	ta := []byte(q.Get("tempauth"))
	ta[len(ta)/2] ^= 1
	q.Set("tempauth", string(ta))
	forged := *u
	forged.RawQuery = q.Encode()
	otherItem := *u
	otherItem.Path = "/_download/" + todo.ID
	noAuth := *u
	noAuth.RawQuery = ""
	for name, f := range map[string]string{"tampered": forged.String(), "other item": otherItem.String(), "no tempauth": noAuth.String()} {
		if r := c.do(c.hc, f, false); r.status != http.StatusUnauthorized {
			t.Errorf("%s download URL = %d, want 401", name, r.status)
		}
	}

	// Download URLs die after an hour; a fresh one works.
	clock.Advance(61 * time.Minute)
	if r := c.do(c.hc, dl, false); r.status != http.StatusUnauthorized {
		t.Fatalf("an expired download URL = %d, want 401", r.status)
	}
	dl2 := driveStr(c.mustGet("/me/drive/items/"+seeded.ID), "@microsoft.graph.downloadUrl")
	if r := c.do(c.hc, dl2, false); r.status != http.StatusOK {
		t.Fatalf("a fresh download URL = %d", r.status)
	}

	// An item deleted after its URL was issued is 404.
	jpg, _ := tn.DriveItemByPath(simtest.Alice, driveUnicodePath)
	dl3 := driveStr(c.mustGet("/me/drive/items/"+jpg.ID), "@microsoft.graph.downloadUrl")
	if err := tn.DeleteDriveItem(simtest.Alice, jpg.ID); err != nil {
		t.Fatal(err)
	}
	if r := c.do(c.hc, dl3, false); r.status != http.StatusNotFound {
		t.Fatalf("download of a deleted item = %d, want 404", r.status)
	}
}

// ---- tokens ----

func driveLinkToken(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func driveValues(m map[string]any) []map[string]any {
	var out []map[string]any
	vs, _ := m["value"].([]any)
	for _, v := range vs {
		if mm, ok := v.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}

func TestDriveDeltaTokensLatestExpiredMalformed(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newDriveRaw(t, srv, simtest.Alice)
	driveID := driveStr(c.mustGet("/me/drive"), "id")

	latest := c.mustGet("/me/drive/root/delta?token=latest")
	link := driveStr(latest, "@odata.deltaLink")
	if len(driveValues(latest)) != 0 || link == "" || latest["@odata.nextLink"] != nil {
		t.Fatalf("token=latest = %v", latest)
	}
	tok := driveLinkToken(t, link)
	if _, err := strconv.ParseInt(tok, 10, 64); err == nil || len(tok) < 20 {
		t.Fatalf("delta token %q is not opaque", tok)
	}

	added, err := tn.PutFile(simtest.Alice, "Documents/later.txt", m365sim.BytesContent("later"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	page := c.mustGet(link, "deltaExcludeParent", "true")
	if vs := driveValues(page); len(vs) != 1 || vs[0]["id"] != added.ID {
		t.Fatalf("delta after token=latest and one change = %v", vs)
	}
	// The function form delta(token='…') means the same.
	fn := c.mustGet("/drives/"+url.PathEscape(driveID)+"/root/delta(token='"+tok+"')", "deltaExcludeParent", "true")
	if vs := driveValues(fn); len(vs) != 1 || vs[0]["id"] != added.ID {
		t.Fatalf("delta(token='…') = %v", vs)
	}

	// An enumeration under way and a deltaLink both die with the epoch.
	first := c.mustGet("/me/drive/root/delta?$top=2")
	next := driveStr(first, "@odata.nextLink")
	if next == "" {
		t.Fatal("no nextLink on a 2-item page")
	}
	tn.ExpireDeltaTokens()
	for name, l := range map[string]string{"deltaLink": link, "nextLink": next} {
		r := c.get(l)
		if r.status != http.StatusGone || r.errorCode(t) != "resyncChangesApplyDifferences" {
			t.Fatalf("expired %s = %d %s", name, r.status, r.body)
		}
		loc := r.header.Get("Location")
		if loc == "" {
			t.Fatalf("410 for an expired %s has no Location", name)
		}
		// The Location starts a fresh enumeration of everything.
		n := 0
		for l := loc; l != ""; {
			p := c.mustGet(l)
			n += len(driveValues(p))
			l = driveStr(p, "@odata.nextLink")
		}
		if n != 9 {
			t.Fatalf("enumeration from the 410's Location returned %d items, want 9", n)
		}
	}

	// Tokens that were never issued here.
	flipped := []byte(tok)
	flipped[len(flipped)/2] ^= 1
	for name, bad := range map[string]string{"garbage": "not-a-token", "integer": "42", "tampered": string(flipped)} {
		r := c.get("/me/drive/root/delta?token=" + url.QueryEscape(bad))
		if r.status != http.StatusGone || r.errorCode(t) != "resyncChangesUploadDifferences" || r.header.Get("Location") == "" {
			t.Errorf("%s token = %d %s", name, r.status, r.body)
		}
	}

	// Delta is only for the root in OneDrive for Business.
	docs, _ := tn.DriveItemByPath(simtest.Alice, "Documents")
	if r := c.get("/me/drive/items/" + docs.ID + "/delta"); r.status != http.StatusBadRequest {
		t.Errorf("delta on a folder = %d", r.status)
	}
}

// ---- addressing ----

func TestDriveItemsByPathIDAndChildren(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newDriveRaw(t, srv, simtest.Alice)

	drive := c.mustGet("/me/drive")
	driveID := driveStr(drive, "id")
	if driveStr(drive, "driveType") != "business" || driveStr(drive, "owner", "user", "email") != simtest.Alice || driveStr(drive, "quota", "state") != "normal" {
		t.Fatalf("drive = %v", drive)
	}
	if vs := driveValues(c.mustGet("/me/drives")); len(vs) != 1 || vs[0]["id"] != driveID {
		t.Fatalf("/me/drives = %v", vs)
	}
	if driveStr(c.mustGet("/drives/"+url.PathEscape(driveID)), "id") != driveID {
		t.Fatal("/drives/{id} is not Alice's drive")
	}

	// Alice cannot read Bob's drive.
	bob, _ := tn.User(simtest.Bob)
	for _, p := range []string{"/users/" + simtest.Bob + "/drive", "/drives/" + url.PathEscape(bob.Drive.ID), "/drives/" + url.PathEscape(bob.Drive.ID) + "/root/children"} {
		if r := c.get(p); r.status != http.StatusForbidden {
			t.Errorf("GET %s as Alice = %d, want 403", p, r.status)
		}
	}
	if r := c.get("/drives/b!nosuchdrive"); r.status != http.StatusNotFound {
		t.Errorf("unknown drive = %d", r.status)
	}

	// Path addressing with a Unicode name, with and without the closing colon.
	jpg, _ := tn.DriveItemByPath(simtest.Alice, driveUnicodePath)
	photos, _ := tn.DriveItemByPath(simtest.Alice, "Photos")
	for _, p := range []string{
		"/me/drive/root:/" + drivePathURL(driveUnicodePath),
		"/me/drive/root:/" + drivePathURL(driveUnicodePath) + ":",
		"/drives/" + url.PathEscape(driveID) + "/root:/" + drivePathURL(driveUnicodePath),
		"/drives/" + url.PathEscape(driveID) + "/items/" + photos.ID + ":/" + url.PathEscape("Ünïcödé – café.jpg") + ":",
		"/users/" + simtest.Alice + "/drive/items/" + jpg.ID,
	} {
		it := c.mustGet(p)
		if it["id"] != jpg.ID || it["name"] != "Ünïcödé – café.jpg" || it["size"] != float64(1_200_000) ||
			driveStr(it, "file", "mimeType") != "image/jpeg" || driveStr(it, "file", "hashes", "quickXorHash") != jpg.QuickXor ||
			driveStr(it, "parentReference", "path") != "/drive/root:/Photos" || driveStr(it, "parentReference", "id") != photos.ID ||
			driveStr(it, "cTag") == "" || driveStr(it, "eTag") != jpg.ETag || driveStr(it, "fileSystemInfo", "lastModifiedDateTime") != "2026-03-14T09:26:53Z" {
			t.Fatalf("GET %s = %v", p, it)
		}
	}
	client := simtest.GraphClient(t, srv, simtest.Alice)
	sdkIt, err := client.Drives().ByDriveId(driveID).Items().ByDriveItemId("root:/"+driveUnicodePath+":").Get(context.Background(), nil)
	if err != nil || driveDeref(sdkIt.GetId()) != jpg.ID {
		t.Fatalf("SDK path addressing: %v", err)
	}
	if r := c.get("/me/drive/root:/Photos/missing.jpg"); r.status != http.StatusNotFound || r.errorCode(t) != "itemNotFound" {
		t.Errorf("missing path = %d %s", r.status, r.body)
	}

	root := c.mustGet("/drives/" + url.PathEscape(driveID) + "/root")
	if root["root"] == nil || root["name"] != "root" || root["folder"].(map[string]any)["childCount"] != float64(3) {
		t.Fatalf("root = %v", root)
	}
	docs := c.mustGet("/me/drive/root:/Documents")
	if docs["size"] != float64(300_009) || docs["cTag"] != nil || docs["@microsoft.graph.downloadUrl"] != nil || driveStr(docs, "parentReference", "path") != "/drive/root:" {
		t.Fatalf("Documents = %v", docs)
	}

	// $select, and downloadUrl only when asked for.
	sel := c.mustGet("/me/drive/items/" + jpg.ID + "?$select=name")
	delete(sel, "@odata.context")
	if len(sel) != 2 || sel["name"] == nil || sel["id"] == nil {
		t.Fatalf("$select=name = %v", sel)
	}
	if dl := driveStr(c.mustGet("/me/drive/items/"+jpg.ID+"?$select=id,@microsoft.graph.downloadUrl"), "@microsoft.graph.downloadUrl"); dl == "" {
		t.Fatal("$select=id,@microsoft.graph.downloadUrl has no downloadUrl")
	}

	// Children, one per page.
	var names []string
	for l := "/me/drive/root/children?$top=1"; l != ""; {
		p := c.mustGet(l)
		for _, v := range driveValues(p) {
			names = append(names, v["name"].(string))
		}
		l = driveStr(p, "@odata.nextLink")
	}
	if strings.Join(names, ",") != "Documents,Photos,empty.txt" {
		t.Fatalf("root children = %v", names)
	}
	kids, err := client.Drives().ByDriveId(driveID).Items().ByDriveItemId("root:/Documents:").Children().Get(context.Background(), nil)
	if err != nil || len(kids.GetValue()) != 2 {
		t.Fatalf("SDK children of Documents: %v", err)
	}
}

// ---- delta while the drive changes ----

type driveNode struct {
	name, parent string
	folder       bool
	size         int64
	hash         string
}

// driveApplyPage applies delta items to a local replica, as a sync client
// would: the last occurrence of an item wins, deleted items go.
func driveApplyPage(local map[string]driveNode, values []map[string]any) {
	for _, v := range values {
		id := v["id"].(string)
		if v["deleted"] != nil {
			delete(local, id)
			continue
		}
		n := driveNode{name: driveStr(v, "name"), parent: driveStr(v, "parentReference", "id"), folder: v["folder"] != nil}
		if !n.folder {
			n.size = int64(v["size"].(float64))
			n.hash = driveStr(v, "file", "hashes", "quickXorHash")
		}
		local[id] = n
	}
}

// driveRound follows one delta round from link to its deltaLink.
func driveRound(c *driveRaw, local map[string]driveNode, link string, between func()) string {
	c.t.Helper()
	for {
		p := c.mustGet(link, "Prefer", "odata.maxpagesize=3")
		driveApplyPage(local, driveValues(p))
		if dl := driveStr(p, "@odata.deltaLink"); dl != "" {
			return dl
		}
		link = driveStr(p, "@odata.nextLink")
		if between != nil {
			between()
		}
	}
}

// driveCompare checks the replica against the tenant.
func driveCompare(t *testing.T, tn *m365sim.Tenant, local map[string]driveNode) {
	t.Helper()
	items, err := tn.DriveItems(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]driveNode{}
	for _, it := range items {
		n := driveNode{name: it.Name, parent: it.ParentID, folder: it.Folder}
		if !it.Folder {
			n.size, n.hash = it.Content.Size(), it.QuickXor
		}
		want[it.ID] = n
	}
	u, _ := tn.User(simtest.Alice)
	delete(local, u.Drive.RootID)
	for id, w := range want {
		if g, ok := local[id]; !ok {
			t.Errorf("lost: %s %+v", id, w)
		} else if g != w {
			t.Errorf("stale: %s is %+v locally, %+v in the tenant", id, g, w)
		}
	}
	for id, g := range local {
		if _, ok := want[id]; !ok {
			t.Errorf("ghost: %s %+v is gone from the tenant", id, g)
		}
	}
}

// driveMutator changes Alice's drive at random: add, edit, rename, move,
// delete files and folders.
type driveMutator struct {
	tn  *m365sim.Tenant
	rnd *rand.Rand
	n   int
}

func (m *driveMutator) paths() (files, folders []string, ids map[string]string) {
	items, _ := m.tn.DriveItems(simtest.Alice)
	byID := map[string]m365sim.DriveItem{}
	for _, it := range items {
		byID[it.ID] = it
	}
	ids = map[string]string{}
	for _, it := range items {
		var parts []string
		for cur, ok := it, true; ok; cur, ok = byID[cur.ParentID] {
			parts = append([]string{cur.Name}, parts...)
		}
		p := strings.Join(parts, "/")
		ids[p] = it.ID
		if it.Folder {
			folders = append(folders, p)
		} else {
			files = append(files, p)
		}
	}
	slices.Sort(files)
	slices.Sort(folders)
	return files, folders, ids
}

func (m *driveMutator) step() {
	m.n++
	files, folders, ids := m.paths()
	pick := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return s[m.rnd.IntN(len(s))]
	}
	content := m365sim.BytesContent(fmt.Sprintf("version %d of something", m.n))
	var err error
	switch op := m.rnd.IntN(7); {
	case op == 0 || len(files) == 0:
		dir := pick(append(folders, "Proj/New"+strconv.Itoa(m.n%3)))
		_, err = m.tn.PutFile(simtest.Alice, dir+"/added"+strconv.Itoa(m.n)+".txt", content, time.Time{})
	case op == 1:
		_, err = m.tn.PutFile(simtest.Alice, pick(files), content, time.Time{})
	case op == 2 && len(folders) > 0:
		_, err = m.tn.MoveDriveItem(simtest.Alice, ids[pick(folders)], "", "renamed"+strconv.Itoa(m.n))
	case op == 3:
		_, err = m.tn.MoveDriveItem(simtest.Alice, ids[pick(files)], "", "renamed"+strconv.Itoa(m.n)+".txt")
	case op == 4 && len(folders) > 0:
		_, err = m.tn.MoveDriveItem(simtest.Alice, ids[pick(files)], pick(folders), "")
	case op == 5:
		err = m.tn.DeleteDriveItem(simtest.Alice, ids[pick(files)])
	case op == 6 && len(folders) > 3:
		err = m.tn.DeleteDriveItem(simtest.Alice, ids[pick(folders)])
	}
	if err != nil && !errors.Is(err, m365sim.ErrConflict) && !errors.Is(err, m365sim.ErrNoItem) && !strings.Contains(err.Error(), "into itself") {
		panic(err)
	}
}

func driveBusyTenant(t *testing.T) *m365sim.Tenant {
	t.Helper()
	tn := simtest.SmallTenant(t)
	for i := range 30 {
		p := fmt.Sprintf("Proj/%c/sub%d/file%02d.txt", 'A'+i%4, i%3, i)
		if _, err := tn.PutFile(simtest.Alice, p, m365sim.BytesContent(strings.Repeat("x", i)), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

func TestDriveDeltaChangesWhilePagingAreNotLost(t *testing.T) {
	t.Run("interleaved", func(t *testing.T) {
		tn := driveBusyTenant(t)
		srv := simtest.Start(t, tn, m365sim.Options{})
		c := newDriveRaw(t, srv, simtest.Alice)
		m := &driveMutator{tn: tn, rnd: rand.New(rand.NewPCG(1, 2))}
		local := map[string]driveNode{}
		// Two changes after every page of the enumeration.
		link := driveRound(c, local, "/me/drive/root/delta", func() { m.step(); m.step() })
		if m.n < 20 {
			t.Fatalf("only %d changes during the enumeration", m.n)
		}
		// And some after it finished, seen through the deltaLink.
		for range 10 {
			m.step()
		}
		link = driveRound(c, local, link, func() { m.step() })
		driveRound(c, local, link, nil)
		driveCompare(t, tn, local)
	})
	t.Run("concurrent", func(t *testing.T) {
		tn := driveBusyTenant(t)
		srv := simtest.Start(t, tn, m365sim.Options{})
		c := newDriveRaw(t, srv, simtest.Alice)
		m := &driveMutator{tn: tn, rnd: rand.New(rand.NewPCG(3, 4))}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
					m.step()
					time.Sleep(200 * time.Microsecond)
				}
			}
		}()
		local := map[string]driveNode{}
		link := driveRound(c, local, "/me/drive/root/delta", nil)
		for range 3 {
			link = driveRound(c, local, link, nil)
		}
		close(stop)
		<-done
		driveRound(c, local, link, nil)
		if m.n < 10 {
			t.Logf("only %d concurrent changes", m.n)
		}
		driveCompare(t, tn, local)
	})
}

func driveSorted(s []string) []string {
	slices.Sort(s)
	return s
}

func TestDriveSimpleUpload(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newDriveRaw(t, srv, simtest.Alice)
	latest := driveStr(c.mustGet("/me/drive/root/delta?token=latest"), "@odata.deltaLink")
	download := func(it map[string]any) string {
		t.Helper()
		r := c.do(c.hc, driveStr(it, "@microsoft.graph.downloadUrl"), false)
		if r.status != http.StatusOK {
			t.Fatalf("download = %d", r.status)
		}
		return string(r.body)
	}

	// A new file at a path whose folders do not exist yet.
	r := c.put("/me/drive/root:/Restored/2026/"+url.PathEscape("Ünïcödé.txt")+":/content", []byte("first"))
	if r.status != http.StatusCreated {
		t.Fatalf("PUT new = %d %s", r.status, r.body)
	}
	first := r.json(t)
	if first["name"] != "Ünïcödé.txt" || first["size"] != float64(5) || download(first) != "first" || driveStr(first, "parentReference", "path") != "/drive/root:/Restored/2026" {
		t.Fatalf("created = %v", first)
	}
	id := first["id"].(string)
	// replace is the default for PUT; fail refuses; rename keeps both.
	p := "/me/drive/root:/Restored/2026/" + url.PathEscape("Ünïcödé.txt") + ":/content"
	if r = c.put(p, []byte("second")); r.status != http.StatusOK || r.json(t)["id"] != id || download(r.json(t)) != "second" {
		t.Fatalf("PUT replace = %d %s", r.status, r.body)
	}
	if r = c.put(p+"?@microsoft.graph.conflictBehavior=fail", []byte("x")); r.status != http.StatusConflict || r.errorCode(t) != "nameAlreadyExists" {
		t.Fatalf("PUT fail = %d %s", r.status, r.body)
	}
	if r = c.put(p+"?@microsoft.graph.conflictBehavior=rename", []byte("third")); r.status != http.StatusCreated || r.json(t)["name"] != "Ünïcödé 1.txt" {
		t.Fatalf("PUT rename = %d %s", r.status, r.body)
	}
	// By ID, and relative to a folder's ID.
	if r = c.put("/me/drive/items/"+id+"/content", []byte("fourth")); r.status != http.StatusOK || download(r.json(t)) != "fourth" {
		t.Fatalf("PUT by id = %d %s", r.status, r.body)
	}
	docs, _ := tn.DriveItemByPath(simtest.Alice, "Documents")
	if r = c.put("/me/drive/items/"+docs.ID+":/child.txt:/content", nil); r.status != http.StatusCreated || driveStr(r.json(t), "parentReference", "id") != docs.ID {
		t.Fatalf("PUT below a folder id = %d %s", r.status, r.body)
	}
	if r = c.put(p, make([]byte, 4<<20+1)); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("PUT of 4 MiB + 1 = %d", r.status)
	}
	for _, bad := range []string{"bad%3Aname.txt", "bad%2Aname.txt", "%20space.txt"} {
		if r = c.put("/me/drive/root:/"+bad+":/content", []byte("x")); r.status != http.StatusBadRequest {
			t.Fatalf("PUT with the invalid name %s = %d", bad, r.status)
		}
	}
	if r = c.put("/me/drive/root:/Documents:/children", []byte("x")); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT on children = %d", r.status)
	}

	// msgraph-sdk-go, which compresses request bodies.
	client := simtest.GraphClient(t, srv, simtest.Alice)
	driveID := driveStr(c.mustGet("/me/drive"), "id")
	payload := bytes.Repeat([]byte("lifeboat "), 50_000)
	up, err := client.Drives().ByDriveId(driveID).Items().ByDriveItemId("root:/Restored/sdk.txt:").Content().Put(context.Background(), payload, nil)
	if err != nil || driveDeref(up.GetSize()) != int64(len(payload)) {
		t.Fatalf("SDK PUT: %v", err)
	}
	stored, _ := tn.DriveItemByPath(simtest.Alice, "Restored/sdk.txt")
	if !bytes.Equal(driveBytes(t, stored.Content), payload) || driveDeref(up.GetFile().GetHashes().GetQuickXorHash()) != stored.QuickXor {
		t.Fatal("SDK upload not stored byte for byte")
	}

	// Delta sees the uploads.
	vs := driveValues(c.mustGet(latest, "deltaExcludeParent", "true"))
	names := map[string]bool{}
	for _, v := range vs {
		names[driveStr(v, "name")] = true
	}
	for _, n := range []string{"Restored", "2026", "Ünïcödé.txt", "Ünïcödé 1.txt", "child.txt", "sdk.txt"} {
		if !names[n] {
			t.Errorf("delta after uploads lacks %s: %v", n, names)
		}
	}
}
