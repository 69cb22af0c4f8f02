package m365sim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want m365sim.FaultConfig
	}{
		{"", m365sim.FaultConfig{}},
		{"none", m365sim.FaultConfig{}},
		{"429=0.05,503=0.02,504=0.01,reset=0.01,truncate=0.02,gone=0.01,token-expiry=30s,seed=7", m365sim.FaultConfig{
			Seed: 7,
			Rate: map[m365sim.FaultKind]float64{
				m365sim.Fault429: 0.05, m365sim.Fault503: 0.02, m365sim.Fault504: 0.01,
				m365sim.FaultReset: 0.01, m365sim.FaultTruncate: 0.02, m365sim.FaultGone: 0.01,
			},
			TokenEarlyExpiry: 30 * time.Second,
		}},
		{" 503 = 1 , only=/$value ", m365sim.FaultConfig{Rate: map[m365sim.FaultKind]float64{m365sim.Fault503: 1}, Only: "/$value"}},
		{"429=0.5,storm=5,retry-after=2s", m365sim.FaultConfig{Rate: map[m365sim.FaultKind]float64{m365sim.Fault429: 0.5}, Storm: 5, RetryAfter: 2 * time.Second}},
		{"429=0.5,storm=0", m365sim.FaultConfig{Rate: map[m365sim.FaultKind]float64{m365sim.Fault429: 0.5}, Storm: -1}},
		{"token-expiry=2m", m365sim.FaultConfig{TokenEarlyExpiry: 2 * time.Minute}},
	} {
		got, err := m365sim.ParseFaults(tc.spec)
		if err != nil {
			t.Errorf("ParseFaults(%q): %v", tc.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFaults(%q) = %+v, want %+v", tc.spec, got, tc.want)
		}
		back, err := m365sim.ParseFaults(got.String())
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("round trip of %q through %q: %+v, %v", tc.spec, got.String(), back, err)
		}
	}

	for _, tc := range []struct{ spec, want string }{
		{"500=0.1", `unknown key "500" (valid: 429, 503, 504, reset, truncate, gone, lost, seed, storm, retry-after, token-expiry, only)`},
		{"429=1.5", "429=1.5: the rate must be a number in [0,1]"},
		{"503=-0.1", "503=-0.1: the rate must be a number in [0,1]"},
		{"reset=often", "reset=often: the rate must be a number in [0,1]"},
		{"gone=NaN", "the rate must be a number in [0,1]"},
		{"429=0.6,503=0.6", "add up to 1.2, more than 1"},
		{"429", `"429" is not key=value`},
		{"429=0.1,429=0.2", "429 given twice"},
		{"token-expiry=30", "token-expiry=30: not a duration"},
		{"token-expiry=-5s", "must not be negative"},
		{"seed=x", "seed=x: not an integer"},
		{"storm=many", "storm=many: not an integer"},
		{"storm=-1", "storm=-1: must not be negative"},
	} {
		_, err := m365sim.ParseFaults(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFaults(%q) error = %v, want it to contain %q", tc.spec, err, tc.want)
		}
	}
}

// The same seed gives the same faults for the same requests; the rate is
// roughly honoured; a different seed gives different faults.
func TestFaultPickIsDeterministic(t *testing.T) {
	res := m365sim.Resource{Kind: m365sim.ResourceMailbox, Key: "app/alice", Units: 1}
	req := httptest.NewRequest(http.MethodGet, "/v1.0/me/messages", nil)
	run := func(seed int64) []m365sim.FaultKind {
		f := m365sim.NewFaults(m365sim.FaultConfig{Seed: seed, Rate: map[m365sim.FaultKind]float64{m365sim.Fault503: 0.3, m365sim.Fault504: 0.2}})
		out := make([]m365sim.FaultKind, 400)
		for i := range out {
			out[i] = f.Pick(req, res)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different faults")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same faults")
	}
	n := map[m365sim.FaultKind]int{}
	for _, k := range a {
		n[k]++
	}
	if n[m365sim.Fault503] < 80 || n[m365sim.Fault503] > 160 || n[m365sim.Fault504] < 40 || n[m365sim.Fault504] > 120 || n[m365sim.FaultNone] < 150 {
		t.Fatalf("counts %v for rates 503=0.3, 504=0.2 over 400 requests", n)
	}
	// Content-only kinds never hit non-content requests.
	f := m365sim.NewFaults(m365sim.FaultConfig{Rate: map[m365sim.FaultKind]float64{m365sim.FaultTruncate: 0.5, m365sim.FaultGone: 0.5}})
	for range 50 {
		if k := f.Pick(req, res); k != m365sim.FaultNone {
			t.Fatalf("%v on a non-content request", k)
		}
	}
}

// A 429 starts a storm on its resource: the next Storm requests to Alice's
// mailbox get 429 too, Bob's mailbox does not, and then Alice recovers.
func TestFault429StormThenRecovers(t *testing.T) {
	srv := startSim(t, m365sim.Options{Faults: m365sim.FaultConfig{Storm: 2}})
	faults := srv.FaultInjector()
	faults.Force(m365sim.Fault429, 1)
	for i := range 3 {
		r := get(t, srv, simtest.Alice, "/me")
		if r.Status != http.StatusTooManyRequests || r.ErrCode != "ApplicationThrottled" {
			t.Fatalf("request %d of the storm: %d %s", i+1, r.Status, r.ErrCode)
		}
		if retryAfter(t, r) < 1 {
			t.Fatal("no Retry-After")
		}
		if i == 0 {
			if b := get(t, srv, simtest.Bob, "/me"); b.Status != http.StatusOK {
				t.Fatalf("Bob during Alice's storm: %d", b.Status)
			}
		}
	}
	if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("after the storm: %d %s", r.Status, r.ErrCode)
	}
	if n := faults.Injected()[m365sim.Fault429]; n != 3 {
		t.Fatalf("%d 429s injected, want 3", n)
	}
	// On a drive, the storm's 429 is OneDrive's.
	faults.SetConfig(m365sim.FaultConfig{Storm: -1})
	faults.Force(m365sim.Fault429, 1)
	if r := get(t, srv, simtest.Alice, "/me/drive"); r.Status != http.StatusTooManyRequests || r.ErrCode != "activityLimitReached" {
		t.Fatalf("drive 429: %d %s", r.Status, r.ErrCode)
	}
	if r := get(t, srv, simtest.Alice, "/me/drive"); r.Status == http.StatusTooManyRequests {
		t.Fatal("storm=0 still stormed")
	}
}

func TestFault503And504(t *testing.T) {
	srv := startSim(t, m365sim.Options{})
	faults := srv.FaultInjector()
	faults.Force(m365sim.Fault503, 1)
	r := get(t, srv, simtest.Alice, "/me")
	if r.Status != http.StatusServiceUnavailable || r.ErrCode != "serviceNotAvailable" || retryAfter(t, r) < 1 {
		t.Fatalf("503: %d %s Retry-After %q", r.Status, r.ErrCode, r.Header.Get("Retry-After"))
	}
	faults.Force(m365sim.Fault504, 1)
	r = get(t, srv, simtest.Alice, "/me")
	if r.Status != http.StatusGatewayTimeout || r.ErrCode != "UnknownError" {
		t.Fatalf("504: %d %s", r.Status, r.ErrCode)
	}
	faults.Force(m365sim.Fault504, 1)
	if r = get(t, srv, simtest.Alice, "/me/drive"); r.Status != http.StatusGatewayTimeout || r.ErrCode != "gatewayTimeout" {
		t.Fatalf("drive 504: %d %s", r.Status, r.ErrCode)
	}
	if r = get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("after the faults: %d", r.Status)
	}

	// The real msgraph-sdk-go retries a 503 after its Retry-After.
	faults.Force(m365sim.Fault503, 1)
	u, err := simtest.GraphClient(t, srv.Server, simtest.Alice).Me().Get(t.Context(), nil)
	if err != nil || *u.GetUserPrincipalName() != simtest.Alice {
		t.Fatalf("SDK through a 503: %v", err)
	}
	if n := faults.Injected()[m365sim.Fault503]; n != 2 {
		t.Fatalf("%d 503s injected, want 2", n)
	}
}

// A reset aborts the connection before any response: the client sees a
// transport error, and the request log still records the request.
func TestFaultReset(t *testing.T) {
	srv := startSim(t, m365sim.Options{})
	srv.FaultInjector().Force(m365sim.FaultReset, 1)
	fresh := srv.HTTPClient() // a new connection: nothing for the transport to retry on
	defer fresh.CloseIdleConnections()
	_, err := do(t, fresh, srv.Server, simtest.Alice, "/me")
	if err == nil {
		t.Fatal("no transport error from a reset")
	}
	var aborted bool
	for _, e := range srv.Requests().Entries() {
		aborted = aborted || e.Status == 0 && strings.HasSuffix(e.Path, "/me")
	}
	if !aborted {
		t.Fatalf("the request log has no aborted request: %v", srv.Requests().Entries())
	}
	if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("after the reset: %d", r.Status)
	}
}

// A truncated download declares the full Content-Length and delivers
// less: the client's read fails instead of returning a short body as
// complete.
func TestFaultTruncate(t *testing.T) {
	srv := startSim(t, m365sim.Options{})
	msgs, err := srv.Tenant().Messages(simtest.Alice, "")
	if err != nil || len(msgs) == 0 {
		t.Fatalf("messages: %v", err)
	}
	m := msgs[0]
	path := "/me/messages/" + m.ID + "/$value"
	faults := srv.FaultInjector()
	faults.Force(m365sim.FaultTruncate, 1)
	// Forced content faults wait for a content request.
	if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("non-content request: %d", r.Status)
	}
	r, err := do(t, srv.hc, srv.Server, simtest.Alice, path)
	if err == nil {
		t.Fatalf("truncated body read without error: %d, %d bytes", r.Status, len(r.Body))
	}
	if r.Status != http.StatusOK || r.Header.Get("Content-Length") != strconv.Itoa(len(m.MIME)) {
		t.Fatalf("status %d Content-Length %q, want 200 and %d", r.Status, r.Header.Get("Content-Length"), len(m.MIME))
	}
	if len(r.Body) >= len(m.MIME) || !bytes.Equal(r.Body, m.MIME[:len(r.Body)]) {
		t.Fatalf("got %d of %d bytes, want a strict prefix", len(r.Body), len(m.MIME))
	}
	if full := get(t, srv, simtest.Alice, path); full.Status != http.StatusOK || !bytes.Equal(full.Body, m.MIME) {
		t.Fatalf("after the fault: %d, %d bytes", full.Status, len(full.Body))
	}

	// A file through its pre-authenticated download URL.
	file := fileBytes(t, srv, "Photos/Ünïcödé – café.jpg")
	dl := downloadURL(t, srv, "Photos/Ünïcödé – café.jpg")
	faults.Force(m365sim.FaultTruncate, 1)
	r, err = do(t, srv.hc, srv.Server, "", dl)
	if err == nil || r.Status != http.StatusOK || r.Header.Get("Content-Length") != strconv.Itoa(len(file)) ||
		len(r.Body) >= len(file) || !bytes.Equal(r.Body, file[:len(r.Body)]) {
		t.Fatalf("truncated download: err %v, status %d, %d of %d bytes", err, r.Status, len(r.Body), len(file))
	}
	if full := get(t, srv, "", dl); full.Status != http.StatusOK || !bytes.Equal(full.Body, file) {
		t.Fatalf("download after the fault: %d, %d bytes", full.Status, len(full.Body))
	}
	if n := faults.Injected()[m365sim.FaultTruncate]; n != 2 {
		t.Fatalf("%d truncations, want 2", n)
	}
}

func fileBytes(t *testing.T, srv *sim, file string) []byte {
	t.Helper()
	it, err := srv.Tenant().DriveItemByPath(simtest.Alice, file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(it.Content.Open())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// downloadURL returns the path (from the server's origin) of a file's
// @microsoft.graph.downloadUrl.
func downloadURL(t *testing.T, srv *sim, file string) string {
	t.Helper()
	it, err := srv.Tenant().DriveItemByPath(simtest.Alice, file)
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, srv, simtest.Alice, "/me/drive/items/"+it.ID)
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("item JSON: %v", err)
	}
	u, _ := v["@microsoft.graph.downloadUrl"].(string)
	if !strings.HasPrefix(u, srv.BaseURL()+"/_") {
		t.Fatalf("downloadUrl %q", u)
	}
	return strings.TrimPrefix(u, srv.BaseURL())
}

// "Gone" deletes the item for real, between listing and download, and
// answers 404: for a message's $value and for file downloads, however the
// file is addressed.
func TestFaultGone(t *testing.T) {
	srv := startSim(t, m365sim.Options{})
	tn := srv.Tenant()
	faults := srv.FaultInjector()
	if _, err := tn.PutFile(simtest.Alice, "Documents/report.txt", m365sim.BytesContent("Q1 report\n"), time.Now()); err != nil {
		t.Fatal(err)
	}

	msgs, err := tn.Messages(simtest.Alice, "")
	if err != nil {
		t.Fatal(err)
	}
	id := msgs[3].ID
	faults.Force(m365sim.FaultGone, 1)
	r := get(t, srv, simtest.Alice, "/me/messages/"+id+"/$value")
	if r.Status != http.StatusNotFound || r.ErrCode != "ErrorItemNotFound" {
		t.Fatalf("$value of a message gone: %d %s", r.Status, r.ErrCode)
	}
	if _, err := tn.Message(simtest.Alice, id); !errors.Is(err, m365sim.ErrNoItem) {
		t.Fatalf("message still in the tenant: %v", err)
	}

	alice, err := tn.User(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, path string }{
		{"Documents/budget.xlsx", "/me/drive/items/{id}/content"},
		{"Documents/Notes/todo.txt", "/me/drive/root:/Documents/Notes/todo.txt:/content"},
		{"Photos/Ünïcödé – café.jpg", "/drives/" + alice.Drive.ID + "/items/{id}/content"},
		{"empty.txt", "/users/" + simtest.Alice + "/drive/items/{id}/content"},
	} {
		it, err := tn.DriveItemByPath(simtest.Alice, tc.file)
		if err != nil {
			t.Fatal(err)
		}
		faults.Force(m365sim.FaultGone, 1)
		r := get(t, srv, simtest.Alice, strings.ReplaceAll(tc.path, "{id}", it.ID))
		if r.Status != http.StatusNotFound || r.ErrCode != "itemNotFound" {
			t.Fatalf("%s: %d %s, want 404 itemNotFound", tc.path, r.Status, r.ErrCode)
		}
		if _, err := tn.DriveItemByPath(simtest.Alice, tc.file); !errors.Is(err, m365sim.ErrNoItem) {
			t.Fatalf("%s still in the drive after %s: %v", tc.file, tc.path, err)
		}
	}

	dl := downloadURL(t, srv, "Documents/report.txt")
	faults.Force(m365sim.FaultGone, 1)
	if r := get(t, srv, "", dl); r.Status != http.StatusNotFound || r.ErrCode != "itemNotFound" {
		t.Fatalf("download URL of a file gone: %d %s", r.Status, r.ErrCode)
	}
	if _, err := tn.DriveItemByPath(simtest.Alice, "Documents/report.txt"); !errors.Is(err, m365sim.ErrNoItem) {
		t.Fatalf("file still in the drive after its download URL: %v", err)
	}
	if n := faults.Injected()[m365sim.FaultGone]; n != 6 {
		t.Fatalf("%d gone faults, want 6", n)
	}
}

func TestFaultTokenEarlyExpiry(t *testing.T) {
	cfg, err := m365sim.ParseFaults("token-expiry=30s")
	if err != nil {
		t.Fatal(err)
	}
	srv := startSim(t, m365sim.Options{Faults: cfg})
	faults := srv.FaultInjector()
	if got := faults.TokenEarlyExpiry(); got != 30*time.Second {
		t.Fatalf("TokenEarlyExpiry = %v", got)
	}
	faults.SetConfig(m365sim.FaultConfig{TokenEarlyExpiry: 5 * time.Second})
	if got := faults.TokenEarlyExpiry(); got != 5*time.Second {
		t.Fatalf("after SetConfig: %v", got)
	}
	faults.SetConfig(m365sim.FaultConfig{})
	if got := faults.TokenEarlyExpiry(); got != 0 {
		t.Fatalf("after clearing: %v", got)
	}
}

// Rates apply at runtime through SetConfig, and Only limits them to
// matching routes.
func TestFaultRatesOnlyAndSetConfig(t *testing.T) {
	srv := startSim(t, m365sim.Options{})
	faults := srv.FaultInjector()
	if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("no faults: %d", r.Status)
	}
	cfg, err := m365sim.ParseFaults("504=1,only=/mailFolders")
	if err != nil {
		t.Fatal(err)
	}
	faults.SetConfig(cfg)
	if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("route outside only=: %d", r.Status)
	}
	if r := get(t, srv, simtest.Alice, "/me/mailFolders"); r.Status != http.StatusGatewayTimeout {
		t.Fatalf("route inside only=: %d", r.Status)
	}
	faults.SetConfig(m365sim.FaultConfig{})
	if r := get(t, srv, simtest.Alice, "/me/mailFolders"); r.Status != http.StatusOK {
		t.Fatalf("after clearing: %d", r.Status)
	}
}
