package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestCalendarAndContactCommands backs up Alice's calendars and contacts
// alone (--only), lists, finds and restores a deleted meeting and a
// deleted contact through the CLI without a single invitation sent, and
// exports .ics and .vcf files.
func TestCalendarAndContactCommands(t *testing.T) {
	srv, profile, _ := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	ctx := t.Context()
	tn := srv.Tenant()
	cli := func(want int, args ...string) (string, string) {
		t.Helper()
		args = append([]string{"--tenant-profile", profile}, args...)
		code, out, errOut := lifeboat(t, ctx, args...)
		if code != want {
			t.Fatalf("lifeboat %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}
	zone := "W. Europe Standard Time"
	meeting := m365sim.EventProps{Subject: "Oven supplier meeting", Body: m365sim.ItemBody{ContentType: "text", Content: "Prices for next year"},
		Start: m365sim.DateTimeTimeZone{DateTime: "2026-03-04T14:00:00", TimeZone: zone}, End: m365sim.DateTimeTimeZone{DateTime: "2026-03-04T15:00:00", TimeZone: zone}}
	var at m365sim.EventAttendee
	at.Type, at.EmailAddress.Name, at.EmailAddress.Address = "required", "Carol", "carol@fabrikam.example"
	meeting.Attendees = append(meeting.Attendees, at)
	ev, err := tn.CreateEvent(simtest.Alice, "", meeting)
	if err != nil {
		t.Fatal(err)
	}
	sup, err := tn.AddContactFolder(simtest.Alice, "", "Suppliers")
	if err != nil {
		t.Fatal(err)
	}
	mila, err := tn.AddContact(simtest.Alice, sup.ID, m365sim.ContactProps{GivenName: "Mila", Surname: "Jansen", CompanyName: "Flour & Co",
		MobilePhone: "+31 6 5555 0102"}, []byte("\xff\xd8\xff\xe0 a photo"))
	if err != nil {
		t.Fatal(err)
	}

	cli(exitOK, "login", "--secret-store", "file")
	dir, _ := initRepo(t, "--secret-store", "file")
	repoFlags := []string{"--to", dir, "--secret-store", "file"}
	with := func(args ...string) []string { return append(args, repoFlags...) }
	if _, errOut := cli(exitUsage, with("backup", "--only", "diary")...); !strings.Contains(errOut, "calendar or contacts") {
		t.Errorf("--only diary: %s", errOut)
	}
	if out, _ := cli(exitOK, with("backup", "--only", "calendar")...); !strings.Contains(out, "1 new") {
		t.Errorf("backup --only calendar:\n%s", out)
	}
	if out, _ := cli(exitOK, with("backup", "--only", "contacts")...); !strings.Contains(out, "1 new") {
		t.Errorf("backup --only contacts:\n%s", out)
	}
	out, _ := cli(exitOK, with("ls", simtest.Alice)...)
	for _, want := range []string{simtest.Alice + "/calendar/", simtest.Alice + "/contacts/"} {
		if !strings.Contains(out, want) {
			t.Errorf("ls %s lacks %s:\n%s", simtest.Alice, want, out)
		}
	}
	if out, _ := cli(exitOK, with("ls", simtest.Alice+"/calendar/Calendar")...); !strings.Contains(out, "Oven supplier meeting") {
		t.Errorf("ls the calendar:\n%s", out)
	}
	if out, _ := cli(exitOK, with("ls", simtest.Alice+"/contacts/Contacts")...); !strings.Contains(out, simtest.Alice+"/contacts/Contacts/Suppliers/") {
		t.Errorf("ls the contact folders:\n%s", out)
	}
	if out, _ := cli(exitOK, with("find", "--contacts", "flour")...); !strings.Contains(out, "Mila Jansen") || !strings.Contains(out, "/contacts/Contacts/Suppliers") {
		t.Errorf("find --contacts flour:\n%s", out)
	}
	if out, _ := cli(exitOK, with("find", "--calendar", "flour")...); !strings.Contains(out, "Nothing found") {
		t.Errorf("find --calendar flour finds a contact:\n%s", out)
	}
	cli(exitUsage, with("find", "--calendar", "--contacts", "oven")...)

	// Both are deleted; the next backup sees it.
	if err := tn.DeleteEvent(simtest.Alice, ev.ID); err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteContact(simtest.Alice, mila.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	cli(exitOK, with("backup")...)
	var handles []string
	for _, k := range []string{"--calendar", "--contacts"} {
		out, _ := cli(exitOK, with("find", "--deleted", k, "--json")...)
		var hit struct {
			Item, Kind, Path string
			Deleted          time.Time
		}
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &hit) != nil || hit.Deleted.IsZero() {
			t.Fatalf("find --deleted %s:\n%s", k, out)
		}
		handles = append(handles, hit.Item)
	}
	if out, _ := cli(exitOK, with("versions", handles[0])...); !strings.Contains(out, "Oven supplier meeting") || !strings.Contains(out, "1 versions") {
		t.Errorf("versions:\n%s", out)
	}
	sent := len(tn.SentMessages())
	out, _ = cli(exitOK, with(append([]string{"restore", "--to-original", "--dry-run"}, handles...)...)...)
	if !strings.Contains(out, "appointment") || !strings.Contains(out, "nobody is invited") {
		t.Errorf("the dry run does not say the meeting comes back as an appointment:\n%s", out)
	}
	out, _ = cli(exitOK, with(append([]string{"restore", "--to-original"}, handles...)...)...)
	if !strings.Contains(out, "Restored 2 items") {
		t.Errorf("restore:\n%s", out)
	}
	if n := len(tn.SentMessages()); n != sent {
		t.Fatalf("the restore sent %d messages", n-sent)
	}
	back, _ := tn.FindEvents(simtest.Alice, "Oven supplier meeting")
	if len(back) != 1 || len(back[0].Props.Attendees) != 0 || !strings.Contains(back[0].Props.Body.Content, "carol@fabrikam.example") {
		t.Errorf("the meeting came back as %+v", back)
	}
	cs, _ := tn.Contacts(simtest.Alice, sup.ID)
	if len(cs) != 1 || cs[0].Props.DisplayName != "Mila Jansen" || len(cs[0].Photo) == 0 {
		t.Errorf("Suppliers holds %+v", cs)
	}

	// Export: an .ics per calendar, a .vcf per contact folder, as the
	// newest backup holds them (before it, the export has nothing).
	exp := t.TempDir()
	if out, _ := cli(exitOK, with("export", "--to-dir", exp)...); !strings.Contains(out, "nothing to save") {
		t.Errorf("export with every calendar empty:\n%s", out)
	}
	cli(exitOK, with("backup")...)
	out, _ = cli(exitOK, with("export", simtest.Alice, "--to-dir", exp)...)
	var files []string
	entries, _ := os.ReadDir(filepath.Join(exp, simtest.Alice))
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if want := []string{"Calendar.ics", "Contacts - Suppliers.vcf"}; !slices.Equal(files, want) || !strings.Contains(out, "1 calendar, 1 event") ||
		!strings.Contains(out, "empty, so no file: Contacts") {
		t.Errorf("export wrote %q, want %q:\n%s", files, want, out)
	}
	ics, _ := os.ReadFile(filepath.Join(exp, simtest.Alice, "Calendar.ics"))
	if !strings.Contains(string(ics), "SUMMARY:Oven supplier meeting") {
		t.Errorf("Calendar.ics:\n%s", ics)
	}
	if _, errOut := cli(exitUsage, with("export", simtest.Alice, "--to-dir", exp)...); !strings.Contains(errOut, "already holds files") {
		t.Errorf("export over an earlier export: %s", errOut)
	}
	cli(exitUsage, with("export", simtest.Alice)...)
}
