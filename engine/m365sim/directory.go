package m365sim

// The directory side of a user: whether the account can sign in, whether it
// holds a licence, what kind of mailbox it has and whether it has a OneDrive.
// Organization mode backs up everyone, so the simulated tenant holds people
// in every state a small business has: an ordinary licensed employee, a
// former employee whose mailbox became a shared mailbox (account disabled,
// licence removed), a room mailbox, an account with no mailbox at all.
//
// Sources:
//   - user resource (accountEnabled, assignedLicenses, mail; the default
//     property set of GET /users omits both, $select returns them):
//     https://learn.microsoft.com/graph/api/resources/user?view=graph-rest-1.0
//   - mailboxSettings.userPurpose (user, linked, shared, room, equipment,
//     others): https://learn.microsoft.com/graph/api/resources/mailboxsettings?view=graph-rest-1.0
//     and GET /users/{id}/mailboxSettings[/userPurpose]:
//     https://learn.microsoft.com/graph/api/user-get-mailboxsettings?view=graph-rest-1.0
//   - a user without an Exchange Online mailbox: 404 MailboxNotEnabledForRESTAPI,
//     "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
//     (https://learn.microsoft.com/exchange/troubleshoot/user-and-shared-mailboxes/rest-api-is-not-yet-supported-for-this-mailbox-error,
//     KB 4462988: "HTTP error: 404 Error code: MailboxNotEnabledForRESTAPI")
//   - a user without a OneDrive: drive-get says a missing OneDrive is
//     provisioned on demand only for a licensed user with delegated
//     authentication (https://learn.microsoft.com/graph/api/drive-get?view=graph-rest-1.0);
//     otherwise Graph answers 404 ResourceNotFound "User's mysite not found."
//   - an app-only token on /me: 400 BadRequest "/me request is only valid
//     with delegated authentication flow."

import (
	"fmt"
	"net/http"
	"strings"
)

// Mailbox kinds, as mailboxSettings.userPurpose names them.
const (
	MailboxUser      = "user"
	MailboxShared    = "shared"
	MailboxRoom      = "room"
	MailboxEquipment = "equipment"
	// MailboxNone is a user without an Exchange Online mailbox: every mail,
	// calendar and contacts endpoint answers MailboxNotEnabledForRESTAPI.
	MailboxNone = ""
)

// DefaultSkuID is the licence every simulated employee holds unless told
// otherwise: Microsoft 365 Business Standard (string ID
// O365_BUSINESS_PREMIUM), from Microsoft's "Product names and service plan
// identifiers for licensing" table
// (https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference).
const DefaultSkuID = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"

// UserState is the directory state of one user. AddUser makes an ordinary
// employee: enabled, licensed, a user mailbox and a OneDrive.
type UserState struct {
	AccountEnabled bool
	// Licensed means assignedLicenses holds DefaultSkuID; otherwise it is
	// empty.
	Licensed bool
	// Mailbox is mailboxSettings.userPurpose, or MailboxNone.
	Mailbox string
	// OneDrive says whether the user has a OneDrive (GET /users/{id}/drive).
	OneDrive bool
}

// directoryState is kept inverted so that the zero value is an ordinary
// employee, which is what AddUser creates.
type directoryState struct {
	disabled   bool
	unlicensed bool
	noMailbox  bool
	purpose    string // "" is MailboxUser
	noDrive    bool
}

func (d directoryState) export() UserState {
	st := UserState{AccountEnabled: !d.disabled, Licensed: !d.unlicensed, OneDrive: !d.noDrive, Mailbox: MailboxUser}
	if d.purpose != "" {
		st.Mailbox = d.purpose
	}
	if d.noMailbox {
		st.Mailbox = MailboxNone
	}
	return st
}

func importState(st UserState) (directoryState, error) {
	d := directoryState{disabled: !st.AccountEnabled, unlicensed: !st.Licensed, noDrive: !st.OneDrive}
	switch st.Mailbox {
	case MailboxNone:
		d.noMailbox = true
	case MailboxUser:
	case MailboxShared, MailboxRoom, MailboxEquipment, "linked", "others":
		d.purpose = st.Mailbox
	default:
		return d, fmt.Errorf("m365sim: unknown mailbox kind %q (user, shared, room, equipment, linked, others or none)", st.Mailbox)
	}
	return d, nil
}

// UserState returns the directory state of a user.
func (t *Tenant) UserState(user string) (UserState, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.userLocked(user)
	if err != nil {
		return UserState{}, err
	}
	return u.dir.export(), nil
}

// SetUserState changes a user's directory state: disable the account,
// remove the licence, convert the mailbox to a shared one, and so on. The
// mail and files stay; whether Graph serves them follows the state.
func (t *Tenant) SetUserState(user string, st UserState) error {
	d, err := importState(st)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	u.dir = d
	t.bump()
	return nil
}

// directoryJSONLocked adds the directory properties to a user's JSON. They
// are not in the default property set, so only $select returns them
// (selectUser).
func (u *User) directoryJSONLocked() map[string]any {
	st := u.dir.export()
	lic := []map[string]any{}
	if st.Licensed {
		lic = append(lic, map[string]any{"disabledPlans": []string{}, "skuId": DefaultSkuID})
	}
	return map[string]any{
		"accountEnabled":   st.AccountEnabled,
		"assignedLicenses": lic,
		"userType":         "Member",
	}
}

// selectUser renders a user for $select: the default set without it, the
// named properties (directory ones included) with it.
func (t *Tenant) selectUser(u *User, sel string) map[string]any {
	v := userJSON(u)
	t.mu.RLock()
	if u.dir.noMailbox {
		v["mail"] = nil
	}
	extra := u.directoryJSONLocked()
	t.mu.RUnlock()
	if sel == "" {
		return v
	}
	for k, val := range extra {
		v[k] = val
	}
	return selectFields(v, sel)
}

// hasMailbox and hasDrive read the state under the lock.
func (t *Tenant) hasMailbox(u *User) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	// A user mailbox needs a licence; shared and resource mailboxes do not
	// (lifecycle.go).
	return !u.dir.noMailbox && (u.dir.purpose != "" || !u.dir.unlicensed)
}

func (t *Tenant) hasDrive(u *User) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return !u.dir.noDrive
}

// mailboxServices are the first path segments below a user that Exchange
// Online serves: they answer MailboxNotEnabledForRESTAPI for a user
// without a mailbox.
var mailboxServices = map[string]bool{
	"mailFolders": true, "messages": true, "sendMail": true, "mailboxSettings": true,
	"calendar": true, "calendars": true, "events": true, "calendarView": true, "calendarGroups": true,
	"contacts": true, "contactFolders": true,
}

// serviceAvailable answers for a user whose mailbox or OneDrive does not
// exist and returns false; rest is the path below /users/{id} or /me.
func (s *Server) serviceAvailable(w http.ResponseWriter, u *User, rest string) bool {
	seg, _, _ := strings.Cut(strings.Trim(rest, "/"), "/")
	switch {
	case mailboxServices[seg] && !s.tenant.hasMailbox(u):
		writeGraphError(w, http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
		return false
	case (seg == "drive" || seg == "drives") && !s.tenant.hasDrive(u):
		writeGraphError(w, http.StatusNotFound, "ResourceNotFound", "User's mysite not found.")
		return false
	}
	return true
}

// writeMeNotDelegated answers /me with an app-only token.
func writeMeNotDelegated(w http.ResponseWriter) {
	writeGraphError(w, http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
}

// ---- mailboxSettings ----

func (s *Server) mailboxSettingsRoutes(mux *http.ServeMux) {
	s.userRoute(mux, "GET", "/mailboxSettings", true, s.handleMailboxSettings)
	s.userRoute(mux, "GET", "/mailboxSettings/userPurpose", true, s.handleMailboxSettings)
}

// handleMailboxSettings serves the settings the simulator models; the
// others have the values a new Exchange Online mailbox gets. userPurpose
// is a string, as the resource's JSON representation and msgraph-sdk-go's
// enum say (an older example on the get page shows {"value": "user"}).
func (s *Server) handleMailboxSettings(w http.ResponseWriter, r *http.Request, u *User) {
	st, err := s.tenant.UserState(u.ID)
	if err != nil {
		writeTenantError(w, err)
		return
	}
	ctx := s.GraphURL() + "/$metadata#users('" + u.ID + "')/mailboxSettings"
	if strings.HasSuffix(r.URL.Path, "/userPurpose") {
		writeJSON(w, http.StatusOK, map[string]any{"@odata.context": ctx + "/userPurpose", "value": st.Mailbox})
		return
	}
	v := map[string]any{
		"@odata.context": ctx,
		"archiveFolder":  nil,
		"automaticRepliesSetting": map[string]any{
			"status": "disabled", "externalAudience": "all",
			"internalReplyMessage": "", "externalReplyMessage": "",
			"scheduledStartDateTime": map[string]any{"dateTime": "2026-01-01T00:00:00.0000000", "timeZone": "UTC"},
			"scheduledEndDateTime":   map[string]any{"dateTime": "2026-01-02T00:00:00.0000000", "timeZone": "UTC"},
		},
		"timeZone":   "UTC",
		"language":   map[string]any{"locale": "en-US", "displayName": "English (United States)"},
		"dateFormat": "M/d/yyyy",
		"timeFormat": "h:mm tt",
		"workingHours": map[string]any{
			"daysOfWeek": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
			"startTime":  "08:00:00.0000000", "endTime": "17:00:00.0000000",
			"timeZone": map[string]any{"name": "UTC"},
		},
		"userPurpose":                           st.Mailbox,
		"delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
	}
	sel := r.URL.Query().Get("$select")
	if sel != "" {
		v = selectFields(v, sel)
	}
	writeJSON(w, http.StatusOK, v)
}
