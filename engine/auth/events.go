package auth

import (
	"log/slog"
	"time"
)

// Event is one step of a device code sign-in: CodeIssued, Waiting, then
// one of SignedIn, Declined, Expired, Cancelled or Failed.
type Event interface{ event() }

// CodeIssued asks the person to open VerificationURL and enter UserCode
// before ExpiresOn. Message is Microsoft's own instruction (it contains the
// code). When logged through slog, the code and the message are left out.
type CodeIssued struct {
	UserCode        string
	VerificationURL string
	ExpiresOn       time.Time
	Message         string
}

// Waiting means Lifeboat is waiting for the person to finish on the page.
type Waiting struct{}

// SignedIn means the sign-in succeeded and was saved.
type SignedIn struct {
	Name          string
	UPN           string
	HomeAccountID string
}

// Declined means the person declined the sign-in on the page.
type Declined struct{}

// Expired means the code expired before it was used.
type Expired struct{}

// Cancelled means the sign-in was cancelled on this computer (Ctrl-C, a
// closed window).
type Cancelled struct{}

// Failed is any other failure: network, keychain, a refused client ID.
type Failed struct{ Err error }

func (CodeIssued) event() {}
func (Waiting) event()    {}
func (SignedIn) event()   {}
func (Declined) event()   {}
func (Expired) event()    {}
func (Cancelled) event()  {}
func (Failed) event()     {}

// LogValue leaves the user code and the message (which repeats it) out of logs.
func (e CodeIssued) LogValue() slog.Value {
	return slog.GroupValue(slog.String("verification_url", e.VerificationURL), slog.Time("expires_on", e.ExpiresOn))
}
