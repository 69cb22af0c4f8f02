package orgsetup

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// newSDK is msgraph-sdk-go over tokens from p, on graphURL, through hc's
// transport (which trusts a simulated tenant's certificate).
func newSDK(p authentication.AccessTokenProvider, graphURL string, hc *http.Client) (*msgraphsdk.GraphServiceClient, error) {
	opts := msgraphsdk.GetDefaultClientOptions()
	parent := http.DefaultTransport
	if hc != nil && hc.Transport != nil {
		parent = hc.Transport
	}
	client := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		authentication.NewBaseBearerTokenAuthenticationProvider(p), nil, nil, client)
	if err != nil {
		return nil, fmt.Errorf("orgsetup: request adapter: %w", err)
	}
	adapter.SetBaseUrl(strings.TrimRight(graphURL, "/"))
	return msgraphsdk.NewGraphServiceClient(adapter), nil
}

// apiError is Graph's answer to a failed request.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Details are the codes of error.details, where Graph puts the
	// specific reason (e.g. NoBackingApplicationObject under
	// Request_BadRequest).
	Details []string
}

// graphError finds Graph's error in err; ok is false for other errors
// (network, cancellation).
func graphError(err error) (apiError, bool) {
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		return apiError{}, false
	}
	ae := apiError{Status: oe.ResponseStatusCode}
	if main := oe.GetErrorEscaped(); main != nil {
		if c := main.GetCode(); c != nil {
			ae.Code = *c
		}
		if m := main.GetMessage(); m != nil {
			ae.Message = *m
		}
		for _, d := range main.GetDetails() {
			if c := d.GetCode(); c != nil {
				ae.Details = append(ae.Details, *c)
			}
		}
	}
	return ae, true
}

func isStatus(err error, status int) bool {
	ae, ok := graphError(err)
	return ok && ae.Status == status
}

// isReplicationLag is an error the directory gives while it has not caught
// up with an object just made: NoBackingApplicationObject when the service
// principal's application is not replicated yet, Request_ResourceNotFound or
// a 404 for an object made a moment ago, and a 400 naming an unknown
// principal on an app role assignment.
func isReplicationLag(err error) bool {
	ae, ok := graphError(err)
	if !ok {
		return false
	}
	switch {
	case strings.EqualFold(ae.Code, "NoBackingApplicationObject"),
		slices.ContainsFunc(ae.Details, func(c string) bool { return strings.EqualFold(c, "NoBackingApplicationObject") }),
		strings.Contains(ae.Message, "NoBackingApplicationObject"),
		ae.Status == http.StatusNotFound,
		strings.EqualFold(ae.Code, "Request_ResourceNotFound"):
		return true
	}
	return false
}

// isDenied is the directory refusing the signed-in person the operation.
func isDenied(err error) bool {
	ae, ok := graphError(err)
	return ok && (ae.Status == http.StatusForbidden || strings.EqualFold(ae.Code, "Authorization_RequestDenied"))
}

func describe(err error) string {
	if ae, ok := graphError(err); ok {
		return fmt.Sprintf("%d %s: %s", ae.Status, ae.Code, ae.Message)
	}
	return err.Error()
}

// notAdminError is ErrNotAdministrator, its message alone (one plain
// sentence), with Graph's refusal underneath for errors.As and logs.
type notAdminError struct{ cause error }

func (e *notAdminError) Error() string   { return ErrNotAdministrator.Error() }
func (e *notAdminError) Unwrap() []error { return []error{ErrNotAdministrator, e.cause} }

func notAdmin(cause error) error { return &notAdminError{cause: cause} }

// sentence is an error constant whose message is a sentence for the owner
// (it may start with a name).
type sentence string

func (s sentence) Error() string { return string(s) }
