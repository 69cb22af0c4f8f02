package backup

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// Download URLs live a few minutes: a file whose URL from the delta page
// expired before its turn is fetched with a fresh URL (GET the item again),
// not skipped.
func TestExpiredDownloadURLsAreRefetched(t *testing.T) {
	e := newEnvWith(t, nil, simtest.Alice, m365sim.Options{DownloadURLLifetime: time.Second})
	var mu sync.Mutex
	delayed := map[string]bool{}
	e.mu.Lock()
	e.before = func(r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_download/") {
			return
		}
		mu.Lock()
		first := !delayed[r.URL.Path]
		delayed[r.URL.Path] = true
		mu.Unlock()
		if first { // the URL from the delta page ages past its lifetime
			time.Sleep(1500 * time.Millisecond)
		}
	}
	e.mu.Unlock()
	res := e.mustRun(func(o *Options) { o.Only = ScopeOneDrive })
	if res.Status != catalog.RunCompleted || len(res.Skipped) != 0 {
		t.Fatalf("status %s, skipped %v", res.Status, res.Skipped)
	}
	e.checkFiles(res)
	refused, refetched := 0, 0
	for _, r := range e.srv.Requests().Entries() {
		switch {
		case strings.HasPrefix(r.Path, "/_download/") && r.Status == http.StatusUnauthorized:
			refused++
		case strings.Contains(r.Path, "/items/") && r.Method == http.MethodGet && r.Status == http.StatusOK:
			refetched++
		}
	}
	if refused != 4 || refetched < 4 { // four files, the empty one included
		t.Errorf("%d expired URLs refused, %d items fetched again; want 4 and 4:\n%s", refused, refetched, strings.Join(e.srv.Requests().Summary(), "\n"))
	}
}

// The 410 OneDrive sends in practice (code resyncRequired) starts a full
// listing that reuses every stored file.
func TestDriveResyncRequired(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	e.mustRun(func(o *Options) { o.Only = ScopeOneDrive })
	e.tn.ExpireDeltaTokensWith("resyncRequired")
	e.srv.Requests().Reset()
	res := e.mustRun(func(o *Options) { o.Only = ScopeOneDrive })
	if res.Status != catalog.RunCompleted || res.Downloads != 0 {
		t.Fatalf("status %s, %d downloads, skipped %v", res.Status, res.Downloads, res.Skipped)
	}
	gone := 0
	for _, r := range e.srv.Requests().Entries() {
		if r.Status == http.StatusGone {
			gone++
		}
	}
	if gone != 1 {
		t.Errorf("%d 410 answers, want the one that started the resync", gone)
	}
	e.checkFiles(res)
}
