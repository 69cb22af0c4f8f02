//go:build linux

package oracle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// m365Path finds the CLI for Microsoft 365 that installer/oracles.sh
// installed for the current lock file.
func m365Path(t *testing.T) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..", "..")
	lock, err := os.ReadFile(filepath.Join(root, "installer", "oracles", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	base := os.Getenv("LIFEBOAT_ORACLES_DIR")
	if base == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				t.Fatal(err)
			}
			cache = filepath.Join(home, ".cache")
		}
		base = filepath.Join(cache, "lifeboat", "oracles")
	}
	p := filepath.Join(base, hex.EncodeToString(sum[:])[:16], "node_modules", ".bin", "m365")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("CLI for Microsoft 365 is not installed (%v): run installer/oracles.sh", err)
	}
	return p
}

type mailSeed struct {
	folder, subject, from string
}

func cliMessage(i int, m mailSeed) []byte {
	date := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	return []byte(fmt.Sprintf("From: %s\r\nTo: Paul Jones <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <cli-%d@example.com>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMessage %d.\r\n",
		m.from, paul, m.subject, date.Format(time.RFC1123Z), i, i))
}

// TestCLIMicrosoft365 runs CLI for Microsoft 365 (@pnp/cli-microsoft365,
// written by the Microsoft 365 community on MSAL for Node.js) against the
// simulator under Microsoft's host names: it signs in with a device code at
// login.microsoftonline.com and lists users, mail folders, messages and
// drive items, which must match the seed.
func TestCLIMicrosoft365(t *testing.T) {
	m365 := m365Path(t)
	t.Parallel()
	if !Isolated(t) {
		return
	}
	tn := m365sim.NewTenant("Contoso", "contoso.com", nil)
	users := map[string]string{paul: "Paul Jones", "anna@contoso.com": "Anna Lee", "ben@contoso.com": "Ben Okafor"}
	for _, upn := range []string{paul, "anna@contoso.com", "ben@contoso.com"} {
		if _, err := tn.AddUser(upn, users[upn]); err != nil {
			t.Fatal(err)
		}
	}
	mail := []mailSeed{
		{"Inbox", "Invoice 1001 for January", "Supplier <billing@supplier.example>"},
		{"Inbox", "Lunch on Friday?", "Anna Lee <anna@contoso.com>"},
		{"Inbox", "Ünïcödé subject – café", "Café <cafe@example.fr>"},
		{"Inbox/Receipts", "Receipt 77", "Shop <shop@example.com>"},
		{"Archive", "Old contract", "Lawyer <law@example.com>"},
		{"Projects", "Site plan, revision 3", "Architect <plans@example.com>"},
	}
	for i, m := range mail {
		f, err := tn.EnsureFolderPath(paul, m.folder)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tn.AddMessage(paul, f.ID, cliMessage(i, m), m365sim.MessageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range oneDriveSeed() {
		if _, err := tn.PutFile(paul, f.path, m365sim.BytesContent(f.data), f.mod); err != nil {
			t.Fatal(err)
		}
	}
	// The CLI lists users, which takes a directory permission
	// (User.ReadBasic.All or more, per user-list): this tenant's
	// administrator granted it to the application the CLI signs in as.
	consented := []string{"User.Read", "User.ReadBasic.All", "Mail.ReadWrite", "Files.ReadWrite.All"}
	env := Start(t, tn, m365sim.Options{AutoApprove: 200 * time.Millisecond, AutoApproveUser: paul, DeviceCodeInterval: time.Second,
		ConsentedPermissions: consented})
	writeCLIConfig(t, env)

	run := func(args ...string) []byte {
		t.Helper()
		cmd := env.Command(m365, append(args, "--output", "json")...)
		cmd.Env = append(cmd.Env, "CLIMICROSOFT365_NOUPDATE=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("m365 %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, stderr.String())
		}
		t.Logf("m365 %s: %s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		return out
	}
	decode := func(out []byte, v any) {
		t.Helper()
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("m365 output is not JSON: %v\n%s", err, out)
		}
	}

	run("login", "--authType", "deviceCode", "--appId", env.Server.ClientID(), "--tenant", tn.ID)
	var status struct {
		ConnectedAs string `json:"connectedAs"`
		AuthType    string `json:"authType"`
	}
	decode(run("status"), &status)
	if !strings.EqualFold(status.ConnectedAs, paul) || status.AuthType != "deviceCode" {
		t.Errorf("m365 status: connected as %q by %q, want %s by deviceCode", status.ConnectedAs, status.AuthType, paul)
	}

	var ulist []struct {
		ID, DisplayName, UserPrincipalName string
	}
	decode(run("entra", "user", "list"), &ulist)
	got := map[string]string{}
	for _, u := range ulist {
		got[u.UserPrincipalName] = u.DisplayName
	}
	if len(got) != len(users) {
		t.Errorf("m365 entra user list: %v, want %v", got, users)
	}
	for upn, name := range users {
		if got[upn] != name {
			t.Errorf("m365 entra user list: %s is %q, want %q", upn, got[upn], name)
		}
	}

	var msgs []struct {
		Subject          string
		ReceivedDateTime time.Time
		From             struct {
			EmailAddress struct{ Name, Address string }
		}
	}
	decode(run("outlook", "message", "list", "--folderName", "inbox"), &msgs)
	var subjects []string
	for _, m := range msgs {
		subjects = append(subjects, m.Subject)
	}
	want := []string{mail[0].subject, mail[1].subject, mail[2].subject}
	slices.Sort(subjects)
	slices.Sort(want)
	if !slices.Equal(subjects, want) {
		t.Errorf("m365 outlook message list --folderName inbox: %q, want %q", subjects, want)
	}
	// A folder that is not a well-known one, which the CLI looks up by
	// display name with $filter.
	decode(run("outlook", "message", "list", "--folderName", "Projects"), &msgs)
	if len(msgs) != 1 || msgs[0].Subject != "Site plan, revision 3" || msgs[0].From.EmailAddress.Address != "plans@example.com" {
		t.Errorf("m365 outlook message list --folderName Projects: %+v", msgs)
	}

	var folders struct {
		Value []struct {
			DisplayName      string
			TotalItemCount   int
			ChildFolderCount int
		}
	}
	decode(run("request", "--url", "https://graph.microsoft.com/v1.0/me/mailFolders"), &folders)
	byName := map[string]int{}
	for _, f := range folders.Value {
		byName[f.DisplayName] = f.TotalItemCount
	}
	if byName["Inbox"] != 3 || byName["Archive"] != 1 || byName["Projects"] != 1 {
		t.Errorf("m365 request me/mailFolders: %v", byName)
	}

	var items struct {
		Value []struct {
			Name   string
			Size   int64
			File   *struct{ MimeType string }
			Folder *struct{ ChildCount int }
		}
	}
	decode(run("request", "--url", "https://graph.microsoft.com/v1.0/me/drive/root:/Documents:/children"), &items)
	var names []string
	for _, it := range items.Value {
		names = append(names, it.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Notes", "budget 2026.xlsx", "empty.txt"}) {
		t.Errorf("m365 request me/drive/root:/Documents:/children: %q", names)
	}
	env.LogRequests(t)
}

// writeCLIConfig sets the CLI's own settings: JSON output, no telemetry, no
// browser, no clipboard, no prompts.
func writeCLIConfig(t *testing.T, env *Env) {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{
		"disableTelemetry": true, "output": "json", "autoOpenLinksInBrowser": false,
		"copyDeviceCodeToClipboard": false, "printErrorsAsPlainText": true, "prompt": false,
	})
	dir := filepath.Join(env.Home, ".config", "configstore")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cli-m365-config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
}
