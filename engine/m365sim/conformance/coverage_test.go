package conformance

import (
	"flag"
	"regexp"
	"slices"
	"sync"
	"testing"
)

// endpoints are the endpoints the simulator serves, each as a pattern over
// the request log's routes (IDs there read {id}; /me and /users/{id} are
// the same endpoint). Every one must be exercised by some case: a new
// route in the simulator gets a line here and a documented example under
// testdata/.
var endpoints = []struct{ name, route string }{
	{"OpenID configuration", `^GET /[^/]+/v2\.0/\.well-known/openid-configuration$`},
	{"instance discovery", `^GET /common/discovery/instance$`},
	{"device authorization", `^POST /[^/]+/oauth2/v2\.0/devicecode$`},
	{"token", `^POST /[^/]+/oauth2/v2\.0/token$`},
	{"UserInfo", `^(GET|POST) /oidc/userinfo$`},
	{"get user", `^GET /v1\.0/(me|users/\{id\})$`},
	{"list users", `^GET /v1\.0/users$`},
	{"list mail folders", `^GET /v1\.0/(me|users/\{id\})/mailFolders$`},
	{"mail folder delta", `^GET /v1\.0/(me|users/\{id\})/mailFolders/delta(\(\))?$`},
	{"get mail folder", `^GET /v1\.0/(me|users/\{id\})/mailFolders/\{id\}$`},
	{"list child folders", `^GET /v1\.0/(me|users/\{id\})/mailFolders/\{id\}/childFolders$`},
	{"list messages in a folder", `^GET /v1\.0/(me|users/\{id\})/mailFolders/\{id\}/messages$`},
	{"message delta", `^GET /v1\.0/(me|users/\{id\})/mailFolders/\{id\}/messages/delta(\(\))?$`},
	{"get message", `^GET /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}$`},
	{"get MIME", `^GET /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}/\$value$`},
	{"list messages", `^GET /v1\.0/(me|users/\{id\})/messages$`},
	{"create mail folder", `^POST /v1\.0/(me|users/\{id\})/mailFolders$`},
	{"create message", `^POST /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages$`},
	{"update message", `^PATCH /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}$`},
	{"delete message", `^DELETE /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}$`},
	{"list attachments", `^GET /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}/attachments$`},
	{"get attachment", `^GET /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}/attachments/\{id\}$`},
	{"get attachment value", `^GET /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}/attachments/\{id\}/\$value$`},
	{"add attachment", `^POST /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}/attachments$`},
	{"attachment upload session", `^POST /v1\.0/(me|users/\{id\})(/mailFolders/\{id\})?/messages/\{id\}/attachments/createUploadSession$`},
	{"send mail", `^POST /v1\.0/(me|users/\{id\})/sendMail$`},
	{"get drive", `^GET /v1\.0/((me|users/\{id\})/drive|drives/\{id\})$`},
	{"list drives", `^GET /v1\.0/(me|users/\{id\})/drives$`},
	{"get drive item", `^GET /v1\.0/((me|users/\{id\})/drive|drives/\{id\})/(root|items/\{id\})(:[^:]*)?$`},
	{"list children", `^GET /v1\.0/((me|users/\{id\})/drive|drives/\{id\})/(root|items/\{id\})(:.*:)?/children$`},
	{"download", `^GET /v1\.0/((me|users/\{id\})/drive|drives/\{id\})/(root|items/\{id\})(:.*:)?/content$`},
	{"drive delta", `^GET /v1\.0/((me|users/\{id\})/drive|drives/\{id\})/root/delta`},
	{"upload content", `^PUT /v1\.0/((me|users/\{id\})/drive|drives/\{id\})/(root|items/\{id\})(:.*:)?/content$`},
	{"create folder", `^POST /v1\.0/((me|users/\{id\})/drive|drives/\{id\})/(root|items/\{id\})(:.*:)?/children$`},
	{"update drive item", `^PATCH /v1\.0/((me|users/\{id\})/drive|drives/\{id\})/(root|items/\{id\})(:.*:)?$`},
	{"drive upload session", `^POST /v1\.0/((me|users/\{id\})/drive|drives/\{id\})/(root|items/\{id\})(:.*:)?/createUploadSession$`},
	{"get all sites", `^GET /v1\.0/sites/getAllSites(\(\))?$`},
	{"search for sites", `^GET /v1\.0/sites$`},
	{"get site", `^GET /v1\.0/sites/\{id\}$`},
	{"list a site's drives", `^GET /v1\.0/sites/\{id\}/drives$`},
	{"get a site's drive", `^GET /v1\.0/sites/\{id\}/drive$`},
	{"get mailbox settings", `^GET /v1\.0/(me|users/\{id\})/mailboxSettings(/userPurpose)?$`},
	{"list memberOf", `^GET /v1\.0/(me|users/\{id\})/memberOf$`},
	{"create application", `^POST /v1\.0/applications$`},
	{"get application", `^GET /v1\.0/(applications/\{id\}|applications\(appId='[^']*'\))$`},
	{"delete application", `^DELETE /v1\.0/applications/\{id\}$`},
	{"application addKey", `^POST /v1\.0/applications/\{id\}/addKey$`},
	{"create service principal", `^POST /v1\.0/servicePrincipals$`},
	{"get service principal", `^GET /v1\.0/(servicePrincipals/\{id\}|servicePrincipals\(appId='[^']*'\))$`},
	{"grant app role", `^POST /v1\.0/servicePrincipals/\{id\}/appRoleAssignedTo$`},
	{"list app role grants", `^GET /v1\.0/servicePrincipals/\{id\}/appRoleAssignedTo$`},
	{"list deleted users", `^GET /v1\.0/directory/deletedItems/microsoft\.graph\.user$`},
	{"list teams", `^GET /v1\.0/teams$`},
	{"list channels", `^GET /v1\.0/teams/\{id\}/channels$`},
	{"list channel messages", `^GET /v1\.0/teams/\{id\}/channels/\{id\}/messages$`},
	{"channel messages delta", `^GET /v1\.0/teams/\{id\}/channels/\{id\}/messages/delta$`},
	{"get channel message", `^GET /v1\.0/teams/\{id\}/channels/\{id\}/messages/\{id\}$`},
	{"list replies", `^GET /v1\.0/teams/\{id\}/channels/\{id\}/messages/\{id\}/replies$`},
	{"hosted content bytes", `^GET /v1\.0/teams/\{id\}/channels/\{id\}/messages/\{id\}(/replies/\{id\})?/hostedContents/\{id\}/\$value$`},
	{"list groups", `^GET /v1\.0/groups$`},
	{"list group conversations", `^GET /v1\.0/groups/\{id\}/conversations$`},
	{"list group threads", `^GET /v1\.0/groups/\{id\}/threads$`},
	{"list thread posts", `^GET /v1\.0/groups/\{id\}/threads/\{id\}/posts$`},
	{"pre-authenticated download URL", `^GET /_download/\{id\}$`},
	{"upload URL: bytes", `^PUT /_upload/\{id\}$`},
	{"upload URL: status", `^GET /_upload/\{id\}$`},
	{"upload URL: cancel", `^DELETE /_upload/\{id\}$`},
}

// routesHit collects the routes every case's simulator answered.
type routesHit struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (h *routesHit) add(routes []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range routes {
		h.seen[r] = true
	}
}

// checkCoverage fails for each endpoint no case exercised. It runs only
// when every case ran (no -run filter).
func checkCoverage(t *testing.T, h *routesHit) {
	t.Helper()
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return
	}
	var seen []string
	for r := range h.seen {
		seen = append(seen, r)
	}
	slices.Sort(seen)
	for _, e := range endpoints {
		re := regexp.MustCompile(e.route)
		if !slices.ContainsFunc(seen, re.MatchString) {
			t.Errorf("no case exercises %s (%s)", e.name, e.route)
		}
	}
	if t.Failed() {
		t.Logf("routes the cases exercised:\n%q", seen)
	}
}
