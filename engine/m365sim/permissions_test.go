package m365sim_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// A token is good for the permissions it carries: the "Permissions"
// section of each Graph API page (user: get, user: list, message: delta,
// message: get, mailFolder: list, user: post messages, driveItem: delta,
// driveItem: get content, driveItem: put content) names the delegated
// permissions that allow it; others get 403 as each service words it.
func TestTokensAreGoodForTheirScopesOnly(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	drive, _ := srv.Tenant().User(simtest.Alice)
	type req struct {
		method, path string
		body         string
	}
	var (
		me        = req{"GET", "/me", ""}
		users     = req{"GET", "/users", ""}
		folders   = req{"GET", "/me/mailFolders", ""}
		delta     = req{"GET", "/me/mailFolders/inbox/messages/delta", ""}
		mime      = req{"GET", "/me/messages/x/$value", ""}
		newFolder = req{"POST", "/me/mailFolders", `{"displayName":"New"}`}
		send      = req{"POST", "/me/sendMail", `{}`}
		root      = req{"GET", "/me/drive/root", ""}
		ddelta    = req{"GET", "/drives/" + drive.Drive.ID + "/root/delta", ""}
		upload    = req{"PUT", "/me/drive/root:/new.txt:/content", "x"}
	)
	cases := []struct {
		scopes  []string
		allowed []req
		refused map[req]string
	}{
		{[]string{"User.Read"}, []req{me}, map[req]string{users: "Authorization_RequestDenied", folders: "ErrorAccessDenied", delta: "ErrorAccessDenied",
			mime: "ErrorAccessDenied", newFolder: "ErrorAccessDenied", send: "ErrorAccessDenied", root: "accessDenied", ddelta: "accessDenied", upload: "accessDenied"}},
		{[]string{"User.Read", "Mail.ReadBasic"}, []req{folders, delta}, map[req]string{mime: "ErrorAccessDenied", newFolder: "ErrorAccessDenied"}},
		{[]string{"Mail.Read", "Files.Read"}, []req{folders, delta, root, ddelta}, map[req]string{me: "Authorization_RequestDenied", newFolder: "ErrorAccessDenied", upload: "accessDenied"}},
		{[]string{"User.Read", "Mail.ReadWrite", "Files.ReadWrite.All"}, []req{me, folders, delta, newFolder, root, ddelta, upload}, map[req]string{users: "Authorization_RequestDenied", send: "ErrorAccessDenied"}},
		{[]string{"User.ReadBasic.All"}, []req{me, users}, nil},
	}
	for _, tc := range cases {
		tok, _, err := srv.IssueAccessTokenWithScopes(simtest.Alice, tc.scopes...)
		if err != nil {
			t.Fatal(err)
		}
		do := func(q req) driveResp {
			hr, err := http.NewRequest(q.method, srv.GraphURL()+q.path, strings.NewReader(q.body))
			if err != nil {
				t.Fatal(err)
			}
			hr.Header.Set("Authorization", "Bearer "+tok)
			if q.body != "" && q.method == "POST" {
				hr.Header.Set("Content-Type", "application/json")
			}
			resp, err := srv.HTTPClient().Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			return driveResp{status: resp.StatusCode, header: resp.Header, body: b.Bytes()}
		}
		for _, q := range tc.allowed {
			if r := do(q); r.status == http.StatusForbidden || r.status == http.StatusUnauthorized {
				t.Errorf("%v: %s %s refused: %d %s", tc.scopes, q.method, q.path, r.status, r.body)
			}
		}
		for q, code := range tc.refused {
			if r := do(q); r.status != http.StatusForbidden || r.errorCode(t) != code {
				t.Errorf("%v: %s %s = %d %s, want 403 %s", tc.scopes, q.method, q.path, r.status, r.body, code)
			}
		}
	}
}
