package report

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
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// When says which runs send a report.
type When string

// The choices.
const (
	Off      When = ""
	Failures When = "failures" // only runs that failed or skipped items
	Always   When = "always"
)

// ParseWhen reads --email-report.
func ParseWhen(s string) (When, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off", "never":
		return Off, nil
	case "failures", "failure", "on-failure":
		return Failures, nil
	case "always":
		return Always, nil
	}
	return Off, fmt.Errorf("%q: choose off, failures or always", s)
}

// Account is one account's part of a run.
type Account struct {
	UPN                            string
	New, Changed, Deleted, Skipped int64
	Failed                         bool
	Error                          string // why it failed, for a person
	SkippedItems                   []string
}

// Run is what a report describes.
type Run struct {
	Computer    string
	Destination string
	Started     time.Time
	Ended       time.Time
	Accounts    []Account
	// Problem is a failure before any account ran (drive missing,
	// sign-in needed).
	Problem string
}

// Failed reports whether the run needs the owner's attention.
func (r Run) Failed() bool {
	if r.Problem != "" {
		return true
	}
	for _, a := range r.Accounts {
		if a.Failed || a.Skipped > 0 {
			return true
		}
	}
	return false
}

// Due reports whether w sends a report for r.
func (w When) Due(r Run) bool {
	return w == Always || (w == Failures && r.Failed())
}

// maxListed bounds the skipped items listed per account.
const maxListed = 20

// Compose returns the subject and plain-text body.
func Compose(r Run) (subject, body string) {
	when := r.Started.Format("Mon 2 January 15:04")
	switch {
	case r.Problem != "":
		subject = "Lifeboat: the backup of " + when + " did not run"
	case r.Failed():
		subject = "Lifeboat: the backup of " + when + " needs your attention"
	default:
		subject = "Lifeboat: the backup of " + when + " went well"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Backup on %s to %s, %s – %s.\n\n", oneLine(r.Computer), oneLine(r.Destination), when, r.Ended.Format("15:04"))
	if r.Problem != "" {
		fmt.Fprintf(&b, "%s\n\n", oneLine(r.Problem))
	}
	for _, a := range r.Accounts {
		if a.Failed {
			fmt.Fprintf(&b, "%s: the backup stopped: %s\n", oneLine(a.UPN), oneLine(a.Error))
			continue
		}
		fmt.Fprintf(&b, "%s: %d new, %d changed, %d deleted", oneLine(a.UPN), a.New, a.Changed, a.Deleted)
		if a.Skipped > 0 {
			fmt.Fprintf(&b, ", %d skipped (tried again next time)", a.Skipped)
		}
		b.WriteString("\n")
		for i, it := range a.SkippedItems {
			if i == maxListed {
				fmt.Fprintf(&b, "  and %d more\n", len(a.SkippedItems)-maxListed)
				break
			}
			fmt.Fprintf(&b, "  skipped: %s\n", oneLine(it))
		}
	}
	b.WriteString("\nThis report was sent by Lifeboat from your own account to itself. Turn it off with\n`lifeboat schedule set --email-report off` or in Lifeboat's settings.\n")
	return subject, b.String()
}

// oneLine keeps outside text (subjects, file names, errors) from adding
// lines or control characters to the report.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 300 {
		s = string(r[:299]) + "…"
	}
	return s
}

// Options say how to reach Graph.
type Options struct {
	GraphURL   string
	HTTPClient *http.Client
	// Auth gives access tokens carrying Mail.Send (auth.TokenSource is one).
	Auth authentication.AccessTokenProvider
}

// Send mails subject and body from the signed-in account to to.
func Send(ctx context.Context, o Options, to, subject, body string) error {
	if o.Auth == nil || o.GraphURL == "" || to == "" {
		return errors.New("report: Graph URL, sign-in and recipient are required")
	}
	transport := http.DefaultTransport
	if o.HTTPClient != nil && o.HTTPClient.Transport != nil {
		transport = o.HTTPClient.Transport
	}
	gopts := msgraphsdk.GetDefaultClientOptions()
	hc := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(transport, msgraphcore.GetDefaultMiddlewaresWithOptions(&gopts)...),
		Timeout: time.Minute}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		authentication.NewBaseBearerTokenAuthenticationProvider(o.Auth), nil, nil, hc)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	adapter.SetBaseUrl(o.GraphURL)
	client := msgraphsdk.NewGraphServiceClient(adapter)

	msg := models.NewMessage()
	msg.SetSubject(&subject)
	b := models.NewItemBody()
	ct := models.TEXT_BODYTYPE
	b.SetContentType(&ct)
	b.SetContent(&body)
	msg.SetBody(b)
	addr := models.NewEmailAddress()
	addr.SetAddress(&to)
	rcpt := models.NewRecipient()
	rcpt.SetEmailAddress(addr)
	msg.SetToRecipients([]models.Recipientable{rcpt})
	req := users.NewItemSendMailPostRequestBody()
	req.SetMessage(msg)
	save := false // a report in Sent Items is clutter; the Inbox copy is the record
	req.SetSaveToSentItems(&save)
	if err := client.Me().SendMail().Post(ctx, req, nil); err != nil {
		return fmt.Errorf("sending the backup report: %w", err)
	}
	return nil
}
