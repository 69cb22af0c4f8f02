package m365sim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Permissions: a token is good for the permissions it was granted and no
// more. Each Graph API page lists, under "Permissions", the delegated
// permissions and the application permissions that allow it (least
// privileged first); routePermissions is that table for what the simulator
// serves:
//   - user: get (/me, /users/{id}): User.Read and above; list users: User.ReadBasic.All and above;
//   - mailFolder/message list, get and delta: Mail.ReadBasic, Mail.Read, Mail.ReadWrite
//     (message $value and attachments need Mail.Read: ReadBasic has no body);
//   - message/mailFolder create, update, delete, attachments: Mail.ReadWrite;
//   - user: sendMail: Mail.Send;
//   - drive and driveItem reads: Files.Read(.All), Files.ReadWrite(.All), Sites.Read(Write).All;
//   - driveItem writes (upload, create folder, update, upload session):
//     Files.ReadWrite(.All), Sites.ReadWrite.All.
// A request without the permission is refused 403 as each service words it:
// Outlook ErrorAccessDenied, OneDrive accessDenied, the directory
// Authorization_RequestDenied.
//
// Delegated tokens carry scopes (Session.Scopes). Application tokens carry
// roles; grantedPermissions is the one place that says which a session
// holds, so organization mode plugs its roles in there.

// permRule is who may make a request: a delegated scope or an application
// role from these lists.
type permRule struct {
	delegated   []string
	application []string
	service     string // "mail", "drive", "directory": how a refusal is worded
}

var (
	userReadRule = permRule{service: "directory",
		delegated:   []string{"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"},
		application: []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}}
	usersListRule = permRule{service: "directory",
		delegated:   []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"},
		application: []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}}
	mailListRule = permRule{service: "mail",
		delegated:   []string{"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"},
		application: []string{"Mail.ReadBasic.All", "Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"}}
	mailContentRule = permRule{service: "mail",
		delegated:   []string{"Mail.Read", "Mail.ReadWrite"},
		application: []string{"Mail.Read", "Mail.ReadWrite"}}
	mailWriteRule = permRule{service: "mail", delegated: []string{"Mail.ReadWrite"}, application: []string{"Mail.ReadWrite"}}
	mailSendRule  = permRule{service: "mail", delegated: []string{"Mail.Send"}, application: []string{"Mail.Send"}}
	driveReadRule = permRule{service: "drive",
		delegated:   []string{"Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"},
		application: []string{"Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"}}
	// mailboxSettings: user-get-mailboxsettings lists MailboxSettings.Read
	// and MailboxSettings.ReadWrite for both kinds.
	mailboxSettingsRule = permRule{service: "mail",
		delegated:   []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"},
		application: []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}}
	driveWriteRule = permRule{service: "drive",
		delegated:   []string{"Files.ReadWrite", "Files.ReadWrite.All", "Sites.ReadWrite.All"},
		application: []string{"Files.ReadWrite.All", "Sites.ReadWrite.All"}}
)

// routePermissions is the rule for a Graph request (path below /v1.0); ok
// is false for paths that no rule covers (the handlers answer them).
func routePermissions(method, path string) (permRule, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	read := method == http.MethodGet || method == http.MethodHead
	var rest []string
	switch {
	case parts[0] == "me":
		rest = parts[1:]
	case parts[0] == "users" && len(parts) == 1:
		return usersListRule, true
	case parts[0] == "users":
		rest = parts[2:]
	case parts[0] == "sites":
		return siteRoutePermissions(parts), true // siteshttp.go
	case parts[0] == "groups":
		return groupsPermissions(parts), true
	case parts[0] == "teams":
		return teamsPermissions(parts), true
	case parts[0] == "drives":
		if read {
			return driveReadRule, true
		}
		return driveWriteRule, true
	default:
		return permRule{}, false
	}
	if len(rest) == 0 {
		return userReadRule, true
	}
	last := rest[len(rest)-1]
	switch rest[0] {
	case "mailFolders", "messages":
		switch {
		case !read:
			return mailWriteRule, true
		case last == "$value" || slices.Contains(rest, "attachments"):
			return mailContentRule, true
		}
		return mailListRule, true
	case "sendMail":
		return mailSendRule, true
	case "mailboxSettings":
		return mailboxSettingsRule, true
	case "memberOf":
		return userReadRule, true
	case "drive", "drives":
		if read {
			return driveReadRule, true
		}
		return driveWriteRule, true
	}
	return permRule{}, false
}

// grantedPermissions is what a session may do: its delegated scopes, or,
// for an application token, its roles (app = true).
func grantedPermissions(sess *Session) (perms []string, app bool) {
	if sess.App {
		return sess.Roles, true
	}
	return sess.Scopes, false
}

// holds says whether the session holds one of the permissions.
func holds(sess *Session, names ...string) bool {
	if sess == nil {
		return false
	}
	have, _ := grantedPermissions(sess)
	return slices.ContainsFunc(have, func(p string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, p) })
	})
}

// authorize answers 403 and returns false when the session lacks every
// permission that allows the request.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, sess *Session) bool {
	rule, ok := routePermissions(r.Method, strings.TrimPrefix(r.URL.Path, "/v1.0"))
	if !ok {
		return true
	}
	have, app := grantedPermissions(sess)
	need := rule.delegated
	if app {
		need = rule.application
	}
	for _, p := range have {
		if slices.ContainsFunc(need, func(n string) bool { return strings.EqualFold(n, p) }) {
			return true
		}
	}
	switch rule.service {
	case "drive":
		writeDriveError(w, http.StatusForbidden, "accessDenied", "Access denied. You do not have permission to perform this action or access this resource.")
	case "teams":
		writeGraphError(w, http.StatusForbidden, "Forbidden", "Missing role permissions on the request.")
	case "directory":
		writeGraphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	default:
		writeGraphError(w, http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
	}
	return false
}

// IssueAccessTokenWithScopes is IssueAccessToken for a token that carries
// only the given delegated permissions (canonical names, e.g. "User.Read"),
// as when a person consented to fewer than the application asks for.
func (s *Server) IssueAccessTokenWithScopes(upn string, scopes ...string) (string, time.Time, error) {
	tok, exp, err := s.IssueAccessToken(upn)
	if err != nil {
		return "", time.Time{}, err
	}
	id := s.idp
	id.mu.Lock()
	if at, ok := id.access[digest(tok)]; ok {
		at.scopes = append([]string(nil), scopes...)
	}
	id.mu.Unlock()
	return tok, exp, nil
}
