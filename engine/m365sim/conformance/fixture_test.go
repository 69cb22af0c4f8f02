package conformance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// The fixture tenant every case runs against, a fresh copy per case: Paul
// (signed in) and Anna; Paul's mail in Inbox, Inbox/Receipts and Archive;
// Paul's OneDrive with a folder, files and an empty file.
const (
	paul = "paul@contoso.com"
	anna = "anna@contoso.com"
)

type fixture struct {
	tn    *m365sim.Tenant
	srv   *m365sim.Server
	token string
	vars  map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tn := m365sim.NewTenant("Contoso", "contoso.com", nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := tn.AddUser(paul, "Paul Jones")
	must(err)
	_, err = tn.AddUser(anna, "Anna Lee")
	must(err)
	receipts, err := tn.EnsureFolderPath(paul, "Inbox/Receipts")
	must(err)
	archive, err := tn.EnsureFolderPath(paul, "Archive")
	must(err)
	var first, withAttachment *m365sim.Message
	for i := range 3 {
		m, err := tn.AddMessage(paul, "inbox", message(i, i == 1), m365sim.MessageOptions{IsRead: i == 0})
		must(err)
		if i == 0 {
			first = m
		}
		if i == 1 {
			withAttachment = m
		}
	}
	_, err = tn.AddMessage(paul, receipts.ID, message(10, false), m365sim.MessageOptions{})
	must(err)
	_, err = tn.AddMessage(paul, archive.ID, message(20, false), m365sim.MessageOptions{})
	must(err)
	// A forwarded message attached whole, and a link to a OneDrive file
	// (itemattach.go in the simulator).
	fwd, err := tn.AddMessage(paul, "inbox", forwardedMessage(), m365sim.MessageOptions{})
	must(err)
	ref, err := tn.AddReferenceAttachment(paul, fwd.ID, m365sim.ReferenceAttachment{Name: "Sales Invoice Template.docx",
		ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		SourceURL:   "https://contoso-my.sharepoint.com/personal/paul_contoso_com/Documents/Sales%20Invoice%20Template.docx"})
	must(err)
	mod := time.Date(2026, 1, 12, 10, 30, 0, 0, time.UTC)
	file, err := tn.PutFile(paul, "Documents/budget.xlsx", m365sim.BytesContent(strings.Repeat("budget ", 300)), mod)
	must(err)
	_, err = tn.PutFile(paul, "Documents/report.docx", m365sim.BytesContent("report"), mod)
	must(err)
	_, err = tn.PutFile(paul, "Documents/Notes/todo.txt", m365sim.BytesContent("call the accountant\n"), mod)
	must(err)
	_, err = tn.PutFile(paul, "myfile.jpg", m365sim.BytesContent(strings.Repeat("\xff\xd8", 1024)), mod)
	must(err)
	_, err = tn.PutFile(paul, "empty.txt", m365sim.BytesContent(nil), mod)
	must(err)
	folder, err := tn.DriveItemByPath(paul, "Documents")
	must(err)
	empty, err := tn.DriveItemByPath(paul, "empty.txt")
	must(err)

	// Lifeboat's permissions plus User.ReadBasic.All, which the user-list
	// examples need (user-list, "Permissions"): as if the administrator
	// had granted the directory read.
	// Paul is the Global Administrator who set the tenant up, and the token
	// carries what organization setup asks for (appshttp.go).
	srv, err := m365sim.NewServer(tn, m365sim.Options{ConsentedPermissions: []string{"User.Read", "User.ReadBasic.All", "Mail.ReadWrite",
		"Files.ReadWrite.All", "Calendars.ReadWrite", "Contacts.ReadWrite", "MailboxSettings.Read", "User.Read.All",
		"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Team.ReadBasic.All", "Channel.ReadBasic.All", "ChannelMessage.Read.All", "Group.Read.All"}})
	must(err)
	t.Cleanup(func() { _ = srv.Close() })
	tok, _, err := srv.IssueAccessToken(paul)
	must(err)
	u, err := tn.User(paul)
	must(err)
	a, err := tn.User(anna)
	must(err)
	inbox, err := tn.EnsureFolderPath(paul, "Inbox")
	must(err)
	must(tn.SetDirectoryRoles(paul, m365sim.RoleGlobalAdministrator))
	org := orgFixture(t, tn)
	team, err := tn.AddSampleTeam("Marketing", []string{paul, anna}, m365sim.SampleTeamOptions{Threads: 3, Replies: 3})
	must(err)
	chans := tn.Channels(team.ID)
	roots, replies := tn.ChannelMessages(team.ID, chans[0].ID)
	imaged := roots[1]
	threadID, err := tn.PostToGroup(team.ID, "", "Does anyone have the quarterly numbers?", anna, "<p>Does anyone have the quarterly numbers?</p>", time.Time{})
	must(err)
	_, err = tn.PostToGroup(team.ID, threadID, "", paul, "<p>Attached.</p>", time.Time{})
	must(err)
	f := &fixture{tn: tn, srv: srv, token: tok, vars: map[string]string{
		"teamId":           team.ID,
		"groupThreadId":    threadID,
		"channelId":        url.PathEscape(chans[0].ID),
		"chatMessageId":    roots[0].ID,
		"replyId":          replies[roots[0].ID][0].ID,
		"imageMessageId":   imaged.ID,
		"hostedContentId":  imaged.HostedContentIDs()[0],
		"upn":              paul,
		"userId":           u.ID,
		"otherUserId":      a.ID,
		"tenantId":         tn.ID,
		"clientId":         srv.ClientID(),
		"inboxId":          inbox.ID,
		"receiptsId":       receipts.ID,
		"archiveId":        archive.ID,
		"messageId":        first.ID,
		"attachMessageId":  withAttachment.ID,
		"forwardMessageId": fwd.ID,
		"itemAttachmentId": fwd.ID + "-att0",
		"refAttachmentId":  ref.ID,
		"driveId":          u.Drive.ID,
		"folderItemId":     folder.ID,
		"fileItemId":       file.ID,
		"emptyItemId":      empty.ID,
		"graphScopes":      "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Files.ReadWrite.All openid profile offline_access",
		"authorizeAtLogin": srv.BaseURL() + "/organizations/oauth2/v2.0/authorize",
	}}
	seedSites(t, f) // fixture_sites_test.go
	for k, v := range org {
		f.vars[k] = v
	}
	return f
}

// message is a plain MIME message; with an attachment when attach is set.
func message(i int, attach bool) []byte {
	date := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format(time.RFC1123Z)
	head := fmt.Sprintf("From: Adele Vance <adelev@contoso.com>\r\nTo: Paul Jones <%s>\r\nSubject: Concert %d\r\nDate: %s\r\nMessage-ID: <m%d@contoso.com>\r\nMIME-Version: 1.0\r\n", paul, i, date, i)
	if !attach {
		return []byte(head + "Content-Type: text/plain; charset=utf-8\r\n\r\nThe group represents Nevada.\r\n")
	}
	return []byte(head + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the menu.\r\n" +
		"--b\r\nContent-Type: application/pdf; name=\"menu.pdf\"\r\nContent-Disposition: attachment; filename=\"menu.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 menu")) + "\r\n--b--\r\n")
}

// forwardedMessage forwards a message as an attachment (message/rfc822),
// as Outlook's "Forward as attachment" sends it.
func forwardedMessage() []byte {
	inner := "From: Adele Vance <AdeleV@contoso.com>\r\nTo: Alex Wilbur <AlexW@contoso.com>\r\nCc: Adele Vance <AdeleV@contoso.com>\r\n" +
		"Subject: Reminder - please bring laptop\r\nDate: Fri, 21 Jul 2017 00:19:52 +0000\r\nMessage-ID: <laptop@contoso.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>Please bring your laptop.</body></html>\r\n"
	return []byte("From: Adele Vance <adelev@contoso.com>\r\nTo: Paul Jones <" + paul + ">\r\nSubject: Fw: Reminder\r\n" +
		"Date: Sat, 22 Jul 2017 09:00:00 +0000\r\nMessage-ID: <fw-laptop@contoso.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"fw\"\r\n\r\n--fw\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee below.\r\n" +
		"--fw\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" + inner + "\r\n--fw--\r\n")
}

var varRef = regexp.MustCompile(`\{[A-Za-z][A-Za-z0-9]*\}`)

// expand replaces {name} with the fixture's or a saved value; an unknown
// name stays as it is (documentation URLs hold {...} of their own).
func (f *fixture) expand(s string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := f.vars[ref[1:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

func (f *fixture) expandAny(v any) any {
	switch x := v.(type) {
	case string:
		return f.expand(x)
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = f.expandAny(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = f.expandAny(e)
		}
		return out
	}
	return v
}

// actions are the changes a case can make between steps, by name.
var actions = map[string]func(t *testing.T, f *fixture){
	"deleteAnna": func(t *testing.T, f *fixture) {
		if err := f.tn.DeleteUser(anna); err != nil {
			t.Fatal(err)
		}
	},
	// approveDeviceCode signs Paul in for the saved {userCode}.
	"approveDeviceCode": func(t *testing.T, f *fixture) {
		if err := f.srv.ApproveDeviceCode(f.vars["userCode"], paul); err != nil {
			t.Fatal(err)
		}
	},
	// declineDeviceCode declines the saved {userCode}.
	"declineDeviceCode": func(t *testing.T, f *fixture) {
		if err := f.srv.DeclineDeviceCode(f.vars["userCode"]); err != nil {
			t.Fatal(err)
		}
	},
	// changeDrive edits a file, adds one and deletes one in Paul's drive.
	"changeDrive": func(t *testing.T, f *fixture) {
		if _, err := f.tn.PutFile(paul, "Documents/budget.xlsx", m365sim.BytesContent("new figures"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.tn.PutFile(paul, "Documents/new.txt", m365sim.BytesContent("new"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		it, err := f.tn.DriveItemByPath(paul, "Documents/Notes")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.tn.DeleteDriveItem(paul, it.ID); err != nil {
			t.Fatal(err)
		}
	},
	// signInToSend replaces the access token with one from a device code
	// sign-in that asked for Mail.Send too: the fixture's default token
	// carries Lifeboat's permissions, which cannot send mail.
	"signInToSend": func(t *testing.T, f *fixture) {
		f.token = signIn(t, f, "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite offline_access")
	},
	// moveToArchive moves the fixture's first Inbox message to Archive.
	"moveToArchive": func(t *testing.T, f *fixture) {
		if _, err := f.tn.MoveMessage(paul, f.vars["messageId"], f.vars["archiveId"]); err != nil {
			t.Fatal(err)
		}
	},
	// makeNotebook puts a OneNote notebook in Paul's drive: a package
	// with two section files and the table of contents.
	"makeNotebook": func(t *testing.T, f *fixture) {
		for _, name := range []string{"Quick Notes.one", "Recipes.one", "Open Notebook.onetoc2"} {
			if _, err := f.tn.PutFile(paul, "Notebooks/Paul's Notebook/"+name, m365sim.BytesContent("onenote section "+name), time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.tn.MakePackage(paul, "Notebooks/Paul's Notebook", m365sim.PackageOneNote); err != nil {
			t.Fatal(err)
		}
		it, err := f.tn.DriveItemByPath(paul, "Notebooks")
		if err != nil {
			t.Fatal(err)
		}
		f.vars["notebooksId"] = it.ID
	},
	// expireDeltaTokens makes every outstanding drive delta token unusable.
	"expireDeltaTokens": func(t *testing.T, f *fixture) { f.tn.ExpireDeltaTokens() },
	// deleteMessage deletes the fixture's first Inbox message.
	"deleteMessage": func(t *testing.T, f *fixture) {
		if err := f.tn.DeleteMessage(paul, f.vars["messageId"]); err != nil {
			t.Fatal(err)
		}
	},
}

func (f *fixture) do(t *testing.T, name string) {
	t.Helper()
	act, ok := actions[name]
	if !ok {
		t.Fatalf("no fixture action %q", name)
	}
	act(t, f)
}

// signIn runs the device code flow for Paul with scope and returns the
// access token.
func signIn(t *testing.T, f *fixture, scope string) string {
	t.Helper()
	post := func(path string, form url.Values) map[string]any {
		form.Set("client_id", f.srv.ClientID())
		resp, err := f.srv.HTTPClient().PostForm(f.srv.Authority()+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s %v %v", path, resp.Status, v, err)
		}
		return v
	}
	dc := post("/oauth2/v2.0/devicecode", url.Values{"scope": {scope}})
	if err := f.srv.ApproveDeviceCode(dc["user_code"].(string), paul); err != nil {
		t.Fatal(err)
	}
	tok := post("/oauth2/v2.0/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc["device_code"].(string)}})
	return tok["access_token"].(string)
}
