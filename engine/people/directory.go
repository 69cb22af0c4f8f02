package people

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// Purpose is what a mailbox is for, as mailboxSettings.userPurpose says
// (user, linked, shared, room, equipment, others), or NoMailbox.
// https://learn.microsoft.com/graph/api/resources/mailboxsettings
type Purpose string

// Purposes.
const (
	PurposeUser      Purpose = "user"
	PurposeShared    Purpose = "shared"
	PurposeRoom      Purpose = "room"
	PurposeEquipment Purpose = "equipment"
	NoMailbox        Purpose = "none"
)

// User is a person (or shared mailbox, room…) in the directory.
type User struct {
	ID, UPN, DisplayName, Mail string
	Enabled                    bool
	Licensed                   bool
	// Deleted is when the user was deleted (only for deleted users).
	Deleted time.Time
}

// Directory reads the company's directory with an app-only token.
type Directory struct {
	sdk  *msgraphsdk.GraphServiceClient
	base string
}

// NewDirectory reads Graph at graphURL with tokens from p, through hc's
// transport.
func NewDirectory(p authentication.AccessTokenProvider, graphURL string, hc *http.Client) (*Directory, error) {
	opts := msgraphsdk.GetDefaultClientOptions()
	parent := http.DefaultTransport
	if hc != nil && hc.Transport != nil {
		parent = hc.Transport
	}
	client := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(parent, msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...)}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		authentication.NewBaseBearerTokenAuthenticationProvider(p), nil, nil, client)
	if err != nil {
		return nil, fmt.Errorf("people: request adapter: %w", err)
	}
	adapter.SetBaseUrl(strings.TrimRight(graphURL, "/"))
	return &Directory{sdk: msgraphsdk.NewGraphServiceClient(adapter), base: strings.TrimRight(graphURL, "/")}, nil
}

var userFields = []string{"id", "displayName", "userPrincipalName", "mail", "accountEnabled", "assignedLicenses"}

func userOf(u models.Userable) User {
	out := User{ID: deref(u.GetId()), UPN: deref(u.GetUserPrincipalName()), DisplayName: deref(u.GetDisplayName()), Mail: deref(u.GetMail())}
	if e := u.GetAccountEnabled(); e != nil {
		out.Enabled = *e
	}
	out.Licensed = len(u.GetAssignedLicenses()) > 0
	if d := u.GetDeletedDateTime(); d != nil {
		out.Deleted = *d
	}
	return out
}

// Users lists everyone, following every page, with no filter: disabled and
// unlicensed accounts included.
// https://learn.microsoft.com/graph/api/user-list
func (d *Directory) Users(ctx context.Context) ([]User, error) {
	top := int32(999)
	page, err := d.sdk.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: userFields, Top: &top}})
	var out []User
	for pages := 0; ; pages++ {
		if err != nil {
			return nil, fmt.Errorf("list the people in your company: %w", err)
		}
		for _, u := range page.GetValue() {
			out = append(out, userOf(u))
		}
		next := page.GetOdataNextLink()
		if next == nil || *next == "" {
			return out, nil
		}
		if pages > 100000 {
			return nil, errors.New("list the people in your company: the list does not end")
		}
		page, err = d.sdk.Users().WithUrl(*next).Get(ctx, nil)
	}
}

// Deleted lists the deleted users Microsoft still keeps (30 days).
// https://learn.microsoft.com/graph/api/directory-deleteditems-list
func (d *Directory) Deleted(ctx context.Context) ([]User, error) {
	// The documented spelling of the cast segment, microsoft.graph.user
	// (the SDK's builder writes the short alias graph.user).
	sel := strings.Join(append([]string{"deletedDateTime"}, userFields...), ",")
	first := d.base + "/directory/deletedItems/microsoft.graph.user?%24select=" + sel
	page, err := d.sdk.Directory().DeletedItems().GraphUser().WithUrl(first).Get(ctx, nil)
	var out []User
	for pages := 0; ; pages++ {
		if err != nil {
			return nil, fmt.Errorf("list the people deleted from your company: %w", err)
		}
		for _, u := range page.GetValue() {
			out = append(out, userOf(u))
		}
		next := page.GetOdataNextLink()
		if next == nil || *next == "" || pages > 100000 {
			return out, nil
		}
		page, err = d.sdk.Directory().DeletedItems().GraphUser().WithUrl(*next).Get(ctx, nil)
	}
}

// Purpose reads the user's mailboxSettings.userPurpose; a user without a
// mailbox (MailboxNotEnabledForRESTAPI, or 404) is NoMailbox, not an error.
// https://learn.microsoft.com/graph/api/user-get-mailboxsettings
func (d *Directory) Purpose(ctx context.Context, id string) (Purpose, error) {
	ms, err := d.sdk.Users().ByUserId(id).MailboxSettings().Get(ctx, &users.ItemMailboxSettingsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMailboxSettingsRequestBuilderGetQueryParameters{Select: []string{"userPurpose"}}})
	if err != nil {
		if noData(err) {
			return NoMailbox, nil
		}
		return "", fmt.Errorf("read the kind of mailbox: %w", err)
	}
	if p := ms.GetUserPurpose(); p != nil {
		return Purpose(p.String()), nil
	}
	return PurposeUser, nil
}

// Drive returns the user's OneDrive ID, "" when the user has none
// (no licence, never provisioned: 404).
// https://learn.microsoft.com/graph/api/drive-get
func (d *Directory) Drive(ctx context.Context, id string) (string, error) {
	dr, err := d.sdk.Users().ByUserId(id).Drive().Get(ctx, nil)
	if err != nil {
		if noData(err) {
			return "", nil
		}
		return "", fmt.Errorf("look for the OneDrive: %w", err)
	}
	return deref(dr.GetId()), nil
}

// noData is Graph saying there is no mailbox or no drive to read.
func noData(err error) bool {
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		return false
	}
	code := ""
	if m := oe.GetErrorEscaped(); m != nil && m.GetCode() != nil {
		code = *m.GetCode()
	}
	switch {
	case strings.EqualFold(code, "MailboxNotEnabledForRESTAPI"), strings.EqualFold(code, "ResourceNotFound"),
		strings.EqualFold(code, "itemNotFound"), strings.EqualFold(code, "MailboxNotFound"):
		return true
	case oe.ResponseStatusCode == http.StatusNotFound:
		return true
	}
	return false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
