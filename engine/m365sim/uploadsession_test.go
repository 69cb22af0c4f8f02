package m365sim_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

const kib320 = 320 << 10

// driveSession creates an upload session for name below parent and
// returns its uploadUrl.
func driveSession(c *writeRaw, status int, parent, name string, item map[string]any) string {
	c.t.Helper()
	v := c.must(status, "POST", "/me/drive/items/"+parent+":/"+url.PathEscape(name)+":/createUploadSession", map[string]any{"item": item})
	if status != http.StatusOK {
		return ""
	}
	return v["uploadUrl"].(string)
}

func putFragment(c *writeRaw, up string, data []byte, start, end int, hdr ...string) driveResp {
	c.t.Helper()
	h := append([]string{"Authorization", "", "Content-Range", "bytes " + strconv.Itoa(start) + "-" + strconv.Itoa(end-1) + "/" + strconv.Itoa(len(data))}, hdr...)
	return c.send("PUT", up, data[start:end], h...)
}

func TestDriveUploadSessionFragmentRules(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newWriteRaw(t, srv)
	created := "2024-01-02T03:04:05Z"
	modified := "2025-06-07T08:09:10Z"
	up := driveSession(c, http.StatusOK, "root", "Restored/report.bin", map[string]any{
		"@microsoft.graph.conflictBehavior": "rename",
		"fileSystemInfo":                    map[string]any{"createdDateTime": created, "lastModifiedDateTime": modified},
	})
	data := bytes.Repeat([]byte("0123456789abcdef"), (3*kib320+1000)/16)

	if r := putFragment(c, up, data, 0, 100<<10); r.status != http.StatusBadRequest {
		t.Errorf("fragment not a multiple of 320 KiB: %d", r.status)
	}
	if r := c.send("PUT", up, data[:kib320], "Authorization", ""); r.status != http.StatusBadRequest {
		t.Errorf("no Content-Range: %d", r.status)
	}
	if r := putFragment(c, up, data, 0, kib320, "Authorization", "Bearer "+c.token); r.status != http.StatusUnauthorized {
		t.Errorf("fragment with a token: %d", r.status)
	}
	if r := putFragment(c, up, data, kib320, 2*kib320); r.status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("out-of-order fragment: %d", r.status)
	}
	r := putFragment(c, up, data, 0, 2*kib320)
	if r.status != http.StatusAccepted || r.json(t)["nextExpectedRanges"].([]any)[0] != strconv.Itoa(2*kib320)+"-" {
		t.Fatalf("first fragment: %d %s", r.status, r.body)
	}
	// The same fragment again (a retry after a lost response) overlaps.
	if r := putFragment(c, up, data, 0, 2*kib320); r.status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("repeated fragment: %d", r.status)
	}
	if st := c.must(http.StatusOK, "GET", up, nil, "Authorization", ""); st["nextExpectedRanges"].([]any)[0] != strconv.Itoa(2*kib320)+"-" {
		t.Errorf("session status %v", st)
	}
	// The last fragment need not be a multiple of 320 KiB.
	r = putFragment(c, up, data, 2*kib320, len(data))
	if r.status != http.StatusCreated {
		t.Fatalf("last fragment: %d %s", r.status, r.body)
	}
	v := r.json(t)
	if v["name"] != "report.bin" || driveStr(v, "fileSystemInfo", "createdDateTime") != created || driveStr(v, "fileSystemInfo", "lastModifiedDateTime") != modified {
		t.Errorf("item %v", v)
	}
	it, err := tn.DriveItemByPath(simtest.Alice, "Restored/report.bin")
	if err != nil || !bytes.Equal(driveBytes(t, it.Content), data) {
		t.Fatalf("stored file: %v", err)
	}
	if r := putFragment(c, up, data, 0, kib320); r.status != http.StatusNotFound {
		t.Errorf("PUT after completion: %d", r.status)
	}

	// rename gives "report 1.bin"; replace keeps the item and answers 200;
	// fail is refused when the session is created.
	up = driveSession(c, http.StatusOK, "root", "Restored/report.bin", map[string]any{"@microsoft.graph.conflictBehavior": "rename"})
	if r := putFragment(c, up, data, 0, len(data)); r.status != http.StatusCreated || r.json(t)["name"] != "report 1.bin" {
		t.Errorf("rename: %d %s", r.status, r.body)
	}
	up = driveSession(c, http.StatusOK, "root", "Restored/report.bin", map[string]any{"@microsoft.graph.conflictBehavior": "replace"})
	small := data[:kib320+5]
	if r := putFragment(c, up, small, 0, len(small)); r.status != http.StatusOK || r.json(t)["id"] != it.ID {
		t.Errorf("replace: %d %s", r.status, r.body)
	}
	driveSession(c, http.StatusConflict, "root", "Restored/report.bin", map[string]any{"@microsoft.graph.conflictBehavior": "fail"})
	// A name that became taken while uploading fails at the end.
	up = driveSession(c, http.StatusOK, "root", "Restored/late.bin", map[string]any{"@microsoft.graph.conflictBehavior": "fail"})
	if _, err := tn.PutFile(simtest.Alice, "Restored/late.bin", m365sim.BytesContent("x"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if r := putFragment(c, up, small, 0, len(small)); r.status != http.StatusConflict {
		t.Errorf("late conflict: %d %s", r.status, r.body)
	}
	c.wantError(http.StatusBadRequest, "invalidRequest", "POST", "/me/drive/items/root:/bad%3Aname.txt:/createUploadSession", map[string]any{})
}

func TestDriveUploadSessionCancelAndExpiry(t *testing.T) {
	clock := &driveClock{now: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)}
	srv := simtest.Start(t, clockTenant(t, clock), m365sim.Options{})
	c := newWriteRaw(t, srv)
	data := make([]byte, 2*kib320)
	up := driveSession(c, http.StatusOK, "root", "a.bin", nil)
	if r := putFragment(c, up, data, 0, kib320); r.status != http.StatusAccepted {
		t.Fatalf("fragment: %d", r.status)
	}
	// The tempauth in the URL is its credential.
	if r := putFragment(c, strings.Replace(up, "tempauth=", "tempauth=x", 1), data, kib320, len(data)); r.status != http.StatusNotFound {
		t.Errorf("PUT with a forged tempauth: %d", r.status)
	}
	c.must(http.StatusNoContent, "DELETE", up, nil, "Authorization", "")
	if r := putFragment(c, up, data, kib320, len(data)); r.status != http.StatusNotFound {
		t.Errorf("PUT after cancel: %d", r.status)
	}
	up = driveSession(c, http.StatusOK, "root", "b.bin", nil)
	clock.Advance(10 * time.Minute)
	if r := putFragment(c, up, data, 0, kib320); r.status != http.StatusAccepted {
		t.Fatalf("fragment: %d", r.status) // extends the session
	}
	clock.Advance(10 * time.Minute)
	if r := putFragment(c, up, data, kib320, len(data)); r.status != http.StatusCreated {
		t.Errorf("fragment within the extended lifetime: %d", r.status)
	}
	up = driveSession(c, http.StatusOK, "root", "c.bin", nil)
	clock.Advance(16 * time.Minute)
	if r := putFragment(c, up, data, 0, kib320); r.status != http.StatusNotFound {
		t.Errorf("PUT to an expired session: %d", r.status)
	}
	if n := srv.OpenUploadSessions(); n != 0 {
		t.Errorf("%d sessions open", n)
	}
}

// Uploads go through fault injection like any Graph request.
func TestUploadURLFaults(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{Faults: m365sim.FaultConfig{Seed: 1, Rate: map[m365sim.FaultKind]float64{m365sim.Fault503: 1}, Storm: -1, Only: "/_upload/"}})
	c := newWriteRaw(t, srv)
	up := driveSession(c, http.StatusOK, "root", "a.bin", nil)
	data := make([]byte, kib320)
	if r := putFragment(c, up, data, 0, len(data)); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("faulty upload URL: %d %v", r.status, r.header)
	}
}
