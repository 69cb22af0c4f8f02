package m365sim_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/quickxor"
)

// OneDrive for Business serves some files with other bytes than their size
// and QuickXorHash say (OneDrive/onedrive-api-docs#1066, #935; rclone's
// OneDrive docs, "Unexpected file size/hash differences on Sharepoint"):
// the metadata keeps describing the uploaded file, the download host serves
// the rewritten one, every time.
func TestRewriteOnDownloadServesOtherBytesThanTheMetadataSays(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c := newDriveRaw(t, srv, simtest.Alice)
	const p = "Documents/budget.xlsx"
	before := c.mustGet("/me/drive/root:/" + drivePathURL(p))
	enriched := []byte("PK\x03\x04 SharePoint added its own properties to this workbook")
	if err := srv.Tenant().RewriteOnDownload(simtest.Alice, p, m365sim.BytesContent(enriched)); err != nil {
		t.Fatal(err)
	}
	after := c.mustGet("/me/drive/root:/" + drivePathURL(p))
	if after["size"] != before["size"] || driveStr(after, "file", "hashes", "quickXorHash") != driveStr(before, "file", "hashes", "quickXorHash") {
		t.Fatalf("the metadata changed: %v %v", after["size"], driveStr(after, "file", "hashes", "quickXorHash"))
	}
	for range 2 {
		r := c.do(c.hc, driveStr(after, "@microsoft.graph.downloadUrl"), false)
		if r.status != http.StatusOK || !bytes.Equal(r.body, enriched) {
			t.Fatalf("download = %d, %d bytes; want the rewritten %d bytes", r.status, len(r.body), len(enriched))
		}
		h := quickxor.New()
		h.Write(r.body)
		if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got == driveStr(after, "file", "hashes", "quickXorHash") {
			t.Fatal("the served bytes match the reported hash")
		}
	}
	// A new upload ends the rewrite.
	if _, err := srv.Tenant().PutFile(simtest.Alice, p, m365sim.BytesContent("v2"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	it := c.mustGet("/me/drive/root:/" + drivePathURL(p))
	if r := c.do(c.hc, driveStr(it, "@microsoft.graph.downloadUrl"), false); string(r.body) != "v2" {
		t.Fatalf("after a new upload the download is %q", r.body)
	}
	if err := srv.Tenant().RewriteOnDownload(simtest.Alice, "Documents", m365sim.BytesContent("x")); err == nil {
		t.Fatal("a folder was given served bytes")
	}
}
