package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// DefaultGraphURL is Microsoft Graph v1.0 in the global cloud.
const DefaultGraphURL = "https://graph.microsoft.com/v1.0"

// Defaults of Options.
const (
	DefaultRequestTimeout  = 2 * time.Minute
	DefaultStallTimeout    = 2 * time.Minute
	DefaultMessagePageSize = 250 // a page of messages is parsed whole into SDK models
	DefaultDrivePageSize   = 500
)

// TokenProvider gives access tokens for Graph. It is the method of kiota's
// authentication.AccessTokenProvider, so engine/auth's *TokenSource is one
// (give it the Graph host of the profile); TokenFunc adapts a function.
// The URL is the request's; additional may carry "claims" (a claims
// challenge from a 401).
type TokenProvider interface {
	GetAuthorizationToken(ctx context.Context, u *url.URL, additional map[string]any) (string, error)
}

// TokenInvalidator is optionally implemented by a TokenProvider that caches
// tokens. When Graph refuses a token (401), the request is retried once
// with a new token; before that, InvalidateToken is called with the refused
// one so the provider does not hand it out again. Without it (or a claims
// challenge in the 401) the retry gets whatever the provider gives.
type TokenInvalidator interface {
	InvalidateToken(token string)
}

// TokenFunc is a TokenProvider from a function, e.g. for tests.
type TokenFunc func(ctx context.Context) (string, error)

// GetAuthorizationToken implements TokenProvider.
func (f TokenFunc) GetAuthorizationToken(ctx context.Context, _ *url.URL, _ map[string]any) (string, error) {
	return f(ctx)
}

// Options configures a Client. Auth is required; other zero fields take
// defaults.
type Options struct {
	// GraphURL is the Graph base URL, default DefaultGraphURL.
	GraphURL string
	// HTTPClient's Transport carries every request (its Timeout and
	// redirect policy are not used). It should trust the profile's CA.
	// Default http.DefaultTransport.
	HTTPClient *http.Client
	// Auth supplies access tokens, sent only to URLs below GraphURL.
	Auth TokenProvider
	// Account names the signed-in user, so that /me requests share the
	// mailbox budget of that user in a shared Pacer. Optional.
	Account string
	// Tenant names the tenant's OneDrive resource-unit budget in a shared
	// Pacer. Default "tenant".
	Tenant string
	// Logger receives debug lines (URLs without query strings, never
	// tokens). Default discards.
	Logger *slog.Logger
	// Pacer paces requests; share one between Clients of one tenant.
	// Default NewPacer(PacerConfig).
	Pacer *Pacer
	// PacerConfig configures the default Pacer when Pacer is nil.
	PacerConfig PacerConfig
	// OnEvent, when set, receives throttling and retry events. It is called
	// from the goroutine that made the request (so possibly from several at
	// once) and must not block long.
	OnEvent func(Event)
	// RequestTimeout bounds each attempt of a metadata request (not waits
	// for the pacer, not streams). Default 2 min.
	RequestTimeout time.Duration
	// StallTimeout aborts (and resumes) a stream that delivers no byte for
	// this long. Default 2 min; negative disables.
	StallTimeout time.Duration
	// MessagePageSize and DrivePageSize are the odata.maxpagesize asked of
	// delta queries. Defaults 250 and 500.
	MessagePageSize int
	DrivePageSize   int
}

// Client talks to Microsoft Graph for one account. It is safe for
// concurrent use.
//
// Methods take a user as "me" (the signed-in user), a UPN or an object ID.
// The pacer keys a mailbox by that spelling, so use one spelling per
// mailbox (and set Options.Account when using "me") for its requests to
// share one budget.
type Client struct {
	opts      Options
	base      *url.URL
	transport http.RoundTripper
	pacer     *Pacer
	log       *slog.Logger
	sdk       *msgraphsdk.GraphServiceClient
}

// meToken is msgraph-sdk-go's placeholder user ID for /me: its URL replace
// handler turns /users/me-token-to-replace into /me.
const meToken = "me-token-to-replace"

// New returns a Client.
func New(opts Options) (*Client, error) {
	if opts.Auth == nil {
		return nil, errors.New("graph: no token provider")
	}
	if opts.GraphURL == "" {
		opts.GraphURL = DefaultGraphURL
	}
	opts.GraphURL = strings.TrimRight(opts.GraphURL, "/")
	base, err := url.Parse(opts.GraphURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("graph: Graph URL %q is not an absolute URL", opts.GraphURL)
	}
	if base.Scheme != "https" {
		return nil, fmt.Errorf("graph: Graph URL %q is not https", opts.GraphURL)
	}
	if opts.Tenant == "" {
		opts.Tenant = "tenant"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = DefaultStallTimeout
	} else if opts.StallTimeout < 0 {
		opts.StallTimeout = 0
	}
	if opts.MessagePageSize <= 0 {
		opts.MessagePageSize = DefaultMessagePageSize
	}
	if opts.DrivePageSize <= 0 {
		opts.DrivePageSize = DefaultDrivePageSize
	}
	c := &Client{opts: opts, base: base, log: opts.Logger, pacer: opts.Pacer}
	if c.pacer == nil {
		c.pacer = NewPacer(opts.PacerConfig)
	}
	c.transport = http.DefaultTransport
	if opts.HTTPClient != nil && opts.HTTPClient.Transport != nil {
		c.transport = opts.HTTPClient.Transport
	}

	// msgraph-sdk-go's middleware without its retry handler (the pacer
	// retries) and without the 100 s client timeout (attempts get
	// RequestTimeout in send). Authentication happens in send too, so the
	// adapter's provider is anonymous.
	gopts := msgraphsdk.GetDefaultClientOptions()
	middleware := []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&gopts),
		khttp.NewUrlReplaceHandler(true, map[string]string{"/users/" + meToken: "/me"}),
		khttp.NewRedirectHandler(),
		khttp.NewCompressionHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
	}
	hc := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(roundTripper{c}, middleware...),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // the redirect handler follows them
		},
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		&authentication.AnonymousAuthenticationProvider{}, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("graph: request adapter: %w", err)
	}
	adapter.SetBaseUrl(opts.GraphURL)
	c.sdk = newSDKClient(adapter)
	return c, nil
}

// sdkSetUp guards msgraph-sdk-go's process-wide set-up.
var sdkSetUp sync.Once

// newSDKClient makes the SDK's client on adapter. NewGraphServiceClient
// registers kiota's default serializers and writes kiota's package-level
// backing-store factory every time it is called, while other clients'
// responses read that factory as they are parsed: a company backup's
// people in parallel raced there (found by -race). So the SDK's
// constructor runs once per process; later clients get the same set-up
// for their own adapter without touching the globals.
func newSDKClient(adapter *msgraphsdk.GraphRequestAdapter) *msgraphsdk.GraphServiceClient {
	var first *msgraphsdk.GraphServiceClient
	sdkSetUp.Do(func() { first = msgraphsdk.NewGraphServiceClient(adapter) })
	if first != nil {
		return first
	}
	adapter.EnableBackingStore(nil) // nil: this adapter only, no global write
	return &msgraphsdk.GraphServiceClient{GraphBaseServiceClient: msgraphsdk.GraphBaseServiceClient{
		BaseRequestBuilder: *abs.NewBaseRequestBuilder(adapter, "{+baseurl}", map[string]string{"baseurl": adapter.GetBaseUrl()}),
	}}
}

// Pacer returns the client's pacer.
func (c *Client) Pacer() *Pacer { return c.pacer }

// userID is the SDK path parameter for a user: "me" (or "") means the
// signed-in user.
func userID(user string) string {
	if user == "" || strings.EqualFold(user, "me") {
		return meToken
	}
	return user
}

func (c *Client) user(user string) *users.UserItemRequestBuilder {
	return c.sdk.Users().ByUserId(userID(user))
}

// userPath is the URL path of a user below GraphURL.
func userPath(user string) string {
	if user == "" || strings.EqualFold(user, "me") {
		return "/me"
	}
	return "/users/" + url.PathEscape(user)
}

// User is a Graph user, as far as backups need it.
type User struct {
	ID                string
	UserPrincipalName string
	DisplayName       string
	Mail              string
}

// GetUser returns a user ("me" for the signed-in one).
func (c *Client) GetUser(ctx context.Context, user string) (User, error) {
	u, err := c.user(user).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "userPrincipalName", "displayName", "mail"}},
	})
	if err != nil {
		return User{}, withOp("get user", err)
	}
	if u == nil {
		return User{}, &Error{Op: "get user", Kind: ErrTransient, Err: errors.New("empty response")}
	}
	return User{ID: str(u.GetId()), UserPrincipalName: str(u.GetUserPrincipalName()), DisplayName: str(u.GetDisplayName()), Mail: str(u.GetMail())}, nil
}

// preferPageSize is the Prefer header asking for pages of n items.
func preferPageSize(n int) *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", fmt.Sprintf("odata.maxpagesize=%d", n))
	return h
}
