package service

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestCompanyBackupKeepsTeamsConversations: in organization mode every
// team's channels (standard, private, shared) are backed up with their
// messages and replies, found by words, exported to one HTML page per
// channel that headless Chromium renders with every message and reply in
// order; a no-change incremental costs one request per channel (and one
// channel listing per team); Microsoft's protected-API refusal gives one
// sentence per team and everyone's mail and files still complete.
func TestCompanyBackupKeepsTeamsConversations(t *testing.T) {
	tn := companyTenant(t)
	people := []string{simtest.Alice, simtest.Bob}
	sales, err := tn.AddSampleTeam("Sales", people, m365sim.SampleTeamOptions{Threads: 3, Replies: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		if _, err := tn.AddSampleTeam(fmt.Sprintf("Team %d", i+2), people, m365sim.SampleTeamOptions{Threads: 1, Replies: 1}); err != nil {
			t.Fatal(err)
		}
	}
	general := tn.Channels(sales.ID)[0]
	hostile, err := tn.PostMessage(sales.ID, general.ID, simtest.Bob, m365sim.PostOptions{
		HTML: `<p>Quarterly numbers <script>alert(1)</script><img src="x" onerror="alert(2)"> &lt;b&gt;not bold&lt;/b&gt;</p><style>body{display:none}</style>`})
	if err != nil {
		t.Fatal(err)
	}
	// Older than channel delta's eight months: only the full listing has it.
	if _, err := tn.PostMessage(sales.ID, general.ID, simtest.Alice, m365sim.PostOptions{HTML: "<p>Founding agreement signed</p>",
		At: time.Now().AddDate(0, -10, 0)}); err != nil {
		t.Fatal(err)
	}
	// Group mailboxes: the team's group and a group without a team.
	office, err := tn.AddGroup("Office")
	if err != nil {
		t.Fatal(err)
	}
	th, err := tn.PostToGroup(office.ID, "", "Parking spaces", simtest.Alice, "<p>Who needs a parking permit?</p>", time.Now().Add(-2*time.Hour))
	if err == nil {
		_, err = tn.PostToGroup(office.ID, th, "", simtest.Bob, "<p>Me, <script>x()</script>thanks</p>", time.Now().Add(-time.Hour))
	}
	if err == nil {
		_, err = tn.PostToGroup(sales.ID, "", "Price list 2027", simtest.Bob, "<p>New prices attached</p>", time.Now().Add(-time.Hour))
	}
	if err != nil {
		t.Fatal(err)
	}
	srv, svc, dir := companyOffice(t, tn, nil)
	ctx := t.Context()
	var mu sync.Mutex
	var notes []string
	req := BackupRequest{Dir: dir, Events: BackupEvents{Note: func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }}}
	sum, err := svc.Backup(ctx, req)
	if err != nil {
		t.Fatalf("company backup: %v (notes %q)", err, notes)
	}
	teams := 0
	for _, ar := range sum.Accounts {
		if ar.Err != nil {
			t.Errorf("%s: %v", ar.Account, ar.Err)
		}
		if strings.HasPrefix(ar.Account, "Team ") || ar.Account == "Sales" {
			teams++
		}
	}
	if teams != 10 {
		t.Fatalf("%d teams backed up, want 10", teams)
	}

	// Found by words, with who wrote it.
	b, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	hits, err := b.Find(ctx, FindRequest{Text: "Quarterly", Kind: catalog.KindChatMessage})
	if err != nil || len(hits) != 1 || !strings.Contains(string(hits[0].Version.Metadata), "Bob Baker") || hits[0].Version.Folder != "Sales/General" {
		b.Close()
		t.Fatalf("find Quarterly: %v %+v", err, hits)
	}
	if old, err := b.Find(ctx, FindRequest{Text: "Founding", Kind: catalog.KindChatMessage}); err != nil || len(old) != 1 {
		t.Errorf("a message older than eight months: %v %d hits", err, len(old))
	}
	if gp, err := b.Find(ctx, FindRequest{Text: "parking permit", Kind: catalog.KindGroupPost}); err != nil || len(gp) != 1 || gp[0].Version.Folder != "Office" {
		t.Errorf("a group conversation post: %v %+v", err, gp)
	}
	// Restoring it into Teams is refused with the reason and the export offered.
	if _, err := b.PlanRestore(ctx, RestoreRequest{Items: []catalog.VersionInfo{hits[0].Version}, To: ToOriginal}); err == nil ||
		!strings.Contains(err.Error(), "export --teams") || !strings.Contains(err.Error(), "cannot be put back into Teams") {
		t.Errorf("restoring a channel message: %v", err)
	}
	b.Close()

	// A no-change incremental: one delta per channel, one channel list per team.
	channels := 0
	for _, tm := range tn.Teams() {
		channels += len(tn.Channels(tm.ID))
	}
	srv.Requests().Reset()
	if _, err := svc.Backup(ctx, req); err != nil {
		t.Fatalf("incremental: %v", err)
	}
	teamReqs, deltas := 0, 0
	for _, e := range srv.Requests().Entries() {
		if strings.HasPrefix(e.Path, "/v1.0/teams") {
			teamReqs++
			if strings.HasSuffix(e.Path, "/messages/delta") {
				deltas++
			}
		}
	}
	t.Logf("no-change incremental over %d teams and %d channels: %d Teams requests (%d message deltas), %.2f per channel",
		len(tn.Teams()), channels, teamReqs, deltas, float64(teamReqs)/float64(channels))
	if deltas != channels || teamReqs != channels+len(tn.Teams())+1 {
		t.Fatalf("no-change incremental: %d Teams requests, %d deltas for %d channels of %d teams", teamReqs, deltas, channels, len(tn.Teams()))
	}

	// A reply after the backup comes in at the next one.
	roots, _ := tn.ChannelMessages(sales.ID, general.ID)
	if _, err := tn.PostReply(sales.ID, general.ID, roots[0].ID, simtest.Alice, m365sim.PostOptions{HTML: "<p>Late answer about pricing</p>"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backup(ctx, req); err != nil {
		t.Fatalf("incremental with a reply: %v", err)
	}

	// Export and render.
	out := t.TempDir()
	exp, err := svc.ExportTeams(ctx, dir, "", out)
	if err != nil {
		t.Fatal(err)
	}
	var page string
	for _, e := range exp {
		var tmID string
		for _, tm := range tn.Teams() {
			if tm.DisplayName == e.Team {
				tmID = tm.ID
			}
		}
		for _, c := range tn.Channels(tmID) {
			if c.DisplayName == e.Channel {
				m, r := tn.ChannelCounts(tmID, c.ID)
				if e.Messages != m || e.Replies != r {
					t.Errorf("%s/%s exported %d messages %d replies, the tenant has %d and %d", e.Team, e.Channel, e.Messages, e.Replies, m, r)
				}
			}
		}
		if e.Team == "Sales" && e.Channel == "General" {
			page = e.Path
		}
	}
	groupPages := 0
	for _, e := range exp {
		if e.Channel != "" {
			continue
		}
		groupPages++
		id := office.ID
		for _, tm := range tn.Teams() {
			if tm.DisplayName == e.Team {
				id = tm.ID
			}
		}
		if threads, posts := tn.GroupPostCount(id); e.Messages != threads || e.Replies != posts {
			t.Errorf("group %s exported %d threads %d posts, the tenant has %d and %d", e.Team, e.Messages, e.Replies, threads, posts)
		}
		if b, err := os.ReadFile(e.Path); err != nil || strings.Contains(string(b), "<script") {
			t.Errorf("group page %s: %v or a script", e.Path, err)
		}
	}
	if groupPages != 11 {
		t.Errorf("%d group pages, want 11 (10 teams' groups and Office)", groupPages)
	}
	if page == "" {
		t.Fatalf("no export of Sales/General in %+v", exp)
	}
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "onerror", "<style>body{display:none}", `src="x"`, "https://127.0.0.1"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("the export holds %q", bad)
		}
	}
	if !strings.Contains(string(raw), "data:image/png;base64,") || !strings.Contains(string(raw), `class="mention"`) || !strings.Contains(string(raw), "Plan General.docx") || !strings.Contains(string(raw), "heart") {
		t.Errorf("the export lacks an inline image, a mention, a file link or a reaction")
	}
	checkRendered(t, tn, sales.ID, general.ID, page, hostile.ID)

	// Microsoft refuses the protected API: one sentence per team, the rest completes.
	tn.RefuseProtectedTeamsAPIs(true)
	mu.Lock()
	notes = nil
	mu.Unlock()
	sum, err = svc.Backup(ctx, req)
	if err != nil && !strings.Contains(err.Error(), "skipped") {
		t.Logf("backup with the refusal: %v", err)
	}
	for _, ar := range sum.Accounts {
		if ar.Err != nil {
			t.Errorf("%s failed under the refusal: %v", ar.Account, ar.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, tm := range tn.Teams() {
		n := 0
		for _, s := range notes {
			if strings.Contains(s, `team "`+tm.DisplayName+`"`) && strings.Contains(s, "Microsoft has not approved Lifeboat") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("team %s: %d sentences about the refusal in %q", tm.DisplayName, n, notes)
		}
	}
	if len(sum.Accounts) < 14 {
		t.Errorf("only %d accounts in the backup under the refusal", len(sum.Accounts))
	}
}

// checkRendered renders the page in headless Chromium (no network) and
// checks every message and reply is there, in the order written; it
// saves a screenshot.
func checkRendered(t *testing.T, tn *m365sim.Tenant, teamID, channelID, page, hostileID string) {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is needed (installer/deps.sh installs it): %v", err)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--proxy-server=127.0.0.1:9", "--user-data-dir=" + t.TempDir()}
	dom, err := exec.CommandContext(t.Context(), chromium, append(args, "--dump-dom", "file://"+page)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	roots, replies := tn.ChannelMessages(teamID, channelID)
	// In the order people wrote them (the old message was posted last
	// with an earlier date).
	slices.SortStableFunc(roots, func(a, b *m365sim.ChatMessage) int { return a.Created.Compare(b.Created) })
	var want []string
	for _, m := range roots {
		want = append(want, m.ID)
		for _, r := range replies[m.ID] {
			want = append(want, r.ID)
		}
	}
	var got []string
	for _, m := range regexp.MustCompile(`data-id="([0-9]+)"`).FindAllStringSubmatch(string(dom), -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rendered messages in order %q, want %q", got, want)
	}
	if strings.Contains(string(dom), "<script") {
		t.Fatal("the rendered page holds a script")
	}
	if !strings.Contains(string(dom), "&lt;b&gt;not bold&lt;/b&gt;") {
		t.Errorf("escaped text did not survive as text")
	}
	shot := filepath.Join(os.Getenv("TEAMS_SCREENSHOT_DIR"), "teams-export.png")
	if os.Getenv("TEAMS_SCREENSHOT_DIR") == "" {
		shot = filepath.Join(t.TempDir(), "teams-export.png")
	}
	if err := exec.CommandContext(t.Context(), chromium, append(args, "--screenshot="+shot, "--window-size=1000,1400", "file://"+page)...).Run(); err != nil {
		t.Fatalf("chromium --screenshot: %v", err)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 1000 {
		t.Fatalf("screenshot: %v", err)
	}
	_ = hostileID
}
