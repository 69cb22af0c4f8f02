package backup

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// A file OneDrive serves with other bytes than its size and hash describe
// (m365sim.RewriteOnDownload) is kept as served, with the mismatch
// recorded, and not downloaded again by the next run.
func TestFileServedDifferentlyIsKeptNotRefetched(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	const p = "Documents/budget.xlsx"
	served := []byte("PK\x03\x04 the workbook as SharePoint serves it, with its own properties added")
	if err := e.tn.RewriteOnDownload(simtest.Alice, p, m365sim.BytesContent(served)); err != nil {
		t.Fatal(err)
	}
	res := e.mustRun(func(o *Options) { o.Only = ScopeOneDrive })
	if res.Status != catalog.RunCompleted || len(res.Skipped) != 0 {
		t.Fatalf("status %s, skipped %v, warnings %v", res.Status, res.Skipped, res.Warnings)
	}
	it, err := e.tn.DriveItemByPath(simtest.Alice, p)
	if err != nil {
		t.Fatal(err)
	}
	var got *File
	c := e.contents(res, KindOneDrive)
	for i := range c.Files {
		if c.Files[i].ID == it.ID {
			got = &c.Files[i]
		}
	}
	if got == nil || got.Content == nil {
		t.Fatalf("%s is not in the snapshot", p)
	}
	if !bytes.Equal(e.read(*got.Content), served) {
		t.Errorf("the snapshot holds other bytes than OneDrive served")
	}
	if got.ServedHash == "" || got.ServedHash == got.QuickXorHash || got.QuickXorHash != it.QuickXor || got.Size != it.Content.Size() {
		t.Errorf("snapshot file: served hash %q, hash %q (drive %q), size %d (drive %d)", got.ServedHash, got.QuickXorHash, it.QuickXor, got.Size, it.Content.Size())
	}
	vs, err := e.c.Versions(t.Context(), catalog.ItemRef{Account: e.acct.HomeID, Kind: catalog.KindFile, ID: it.ID})
	if err != nil || len(vs) != 1 {
		t.Fatalf("catalog versions: %v %v", vs, err)
	}
	var meta fileMeta
	if err := json.Unmarshal(vs[0].Metadata, &meta); err != nil || meta.ServedHash != got.ServedHash {
		t.Errorf("catalog metadata %s does not record the served hash", vs[0].Metadata)
	}
	if vs[0].Size != int64(len(served)) {
		t.Errorf("catalog size %d, want the %d bytes kept", vs[0].Size, len(served))
	}

	before := e.srv.Requests().Count("/_download/")
	res = e.mustRun(func(o *Options) { o.Only = ScopeOneDrive })
	if res.Status != catalog.RunCompleted || res.Downloads != 0 {
		t.Fatalf("second run: status %s, %d downloads, skipped %v", res.Status, res.Downloads, res.Skipped)
	}
	if n := e.srv.Requests().Count("/_download/") - before; n != 0 {
		t.Errorf("the second run downloaded %d files again", n)
	}
}
