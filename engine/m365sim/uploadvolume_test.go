package m365sim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// Outlook service limits (learn.microsoft.com/graph/throttling-limits):
// 150 MB of uploads (PATCH, POST, PUT) per 5 minutes per app and mailbox;
// past it 429 with Retry-After, until the window moves on. Scaled here:
// 2,000 bytes per 5 model minutes, 1 real second on a 300× clock.
func TestMailboxUploadVolumeLimit(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraphFast, Speedup: 300, MailboxUploadBytes: 2000}})
	tok, _, err := srv.IssueAccessToken(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	post := func(i int) *http.Response {
		body := `{"displayName":"Folder ` + strings.Repeat("x", 200) + string(rune('A'+i)) + `"}`
		req, _ := http.NewRequest("POST", srv.GraphURL()+"/me/mailFolders", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	refused := -1
	for i := range 20 {
		if resp := post(i); resp.StatusCode == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			refused = i
			break
		}
	}
	if refused < 8 || refused > 11 { // about 2,000 / 220 bytes
		t.Fatalf("the upload limit refused request %d", refused)
	}
	// Reads are not uploads.
	req, _ := http.NewRequest("GET", srv.GraphURL()+"/me/mailFolders", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := srv.HTTPClient().Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a read during the upload wait: %v %v", resp, err)
	}
	time.Sleep(1100 * time.Millisecond)
	if resp := post(refused); resp.StatusCode != http.StatusCreated {
		t.Errorf("after the window: %d", resp.StatusCode)
	}
	if n := srv.ThrottleModel().Snapshot().MailboxUploadThrottled; n != 1 {
		t.Errorf("%d upload refusals counted", n)
	}
}
