package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func TestThrottleStormWaitsPerMailbox(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{Faults: m365sim.FaultConfig{Storm: 1}})
	pacer := NewPacer(fastRetries)
	alice, _, events := newClient(t, srv, simtest.Alice, func(o *Options) { o.Pacer = pacer })
	bob, _, _ := newClient(t, srv, simtest.Bob, func(o *Options) { o.Pacer = pacer })
	aMsgs, _ := srv.Tenant().Messages(simtest.Alice, "")
	bMsgs, _ := srv.Tenant().Messages(simtest.Bob, "")

	events.notify = make(chan Event, 4)
	srv.FaultInjector().Force(m365sim.Fault429, 1) // a 429 and one more: 2 × Retry-After 1 s
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		fetchMIME(t, alice, srv, "me", aMsgs[0])
	}()
	select {
	case e := <-events.notify:
		if e.Kind != EventThrottled || e.Resource != "mailbox:"+simtest.Alice || e.Status != 429 || e.Wait != time.Second {
			t.Errorf("event %+v", e)
		}
		if s := e.String(); s != "Microsoft asked us to slow down, continuing in 1 s" {
			t.Errorf("event says %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no throttling event")
	}
	// Bob's mailbox is not held back by Alice's throttling.
	bStart := time.Now()
	fetchMIME(t, bob, srv, "me", bMsgs[0])
	if w := time.Since(bStart); w > 500*time.Millisecond {
		t.Errorf("Bob waited %v while Alice was throttled", w)
	}
	select {
	case <-done:
		t.Error("Alice's request finished before Retry-After")
	default:
	}
	<-done
	if el := time.Since(start); el < 1900*time.Millisecond {
		t.Errorf("Alice's request took %v; two Retry-After: 1 should take 2 s", el)
	}
	if n := srv.FaultInjector().Injected()[m365sim.Fault429]; n != 2 {
		t.Errorf("%d 429s injected, want 2", n)
	}
	if n := srv.Requests().Count("$value"); n != 4 { // Alice 3, Bob 1
		t.Errorf("%d $value requests, want 4", n)
	}
	throttled := 0
	for _, e := range events.list() {
		if e.Kind == EventThrottled {
			throttled++
		}
	}
	if throttled != 2 {
		t.Errorf("%d throttling events, want 2: %v", throttled, events.list())
	}
}

func TestTransientFaultsAreRetried(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, events := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	msgs, _ := srv.Tenant().Messages(simtest.Alice, "inbox")
	d, err := c.GetDrive(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	items, _ := collectDrive(t, c, d.ID, "")
	photo, _ := itemByName(items, "Ünïcödé – café.jpg")
	var photoBytes []byte
	all, _ := srv.Tenant().DriveItems(simtest.Alice)
	for _, it := range all {
		if it.ID == photo.ID {
			photoBytes, _ = io.ReadAll(it.Content.Open())
		}
	}
	ops := map[string]func() (resumes int, err error){
		"mime": func() (int, error) {
			rc, _, err := c.OpenMIME(ctx, "me", msgs[3].ID)
			if err != nil {
				return 0, err
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err == nil && !bytes.Equal(b, msgs[3].MIME) {
				err = errors.New("MIME differs")
			}
			return rc.(*Stream).Resumes(), err
		},
		"download": func() (int, error) {
			rc, err := c.OpenDownload(ctx, photo.DownloadURL, 0)
			if err != nil {
				return 0, err
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err == nil && !bytes.Equal(b, photoBytes) {
				err = fmt.Errorf("download differs (%d bytes, want %d)", len(b), len(photoBytes))
			}
			return rc.(*Stream).Resumes(), err
		},
		"delta": func() (int, error) {
			_, err := c.MessageDelta(ctx, "me", "inbox", "", func([]MessageMeta) error { return nil })
			return 0, err
		},
	}
	for _, tc := range []struct {
		kind m365sim.FaultKind
		op   string
	}{
		{m365sim.Fault503, "mime"}, {m365sim.Fault503, "delta"},
		{m365sim.Fault504, "mime"}, {m365sim.Fault504, "download"}, {m365sim.Fault504, "delta"},
		{m365sim.FaultReset, "mime"}, {m365sim.FaultReset, "download"}, {m365sim.FaultReset, "delta"},
		{m365sim.FaultTruncate, "mime"}, {m365sim.FaultTruncate, "download"},
	} {
		t.Run(tc.kind.String()+"/"+tc.op, func(t *testing.T) {
			before := srv.FaultInjector().Injected()[tc.kind]
			srv.FaultInjector().Force(tc.kind, 1)
			resumes, err := ops[tc.op]()
			if err != nil {
				t.Fatal(err)
			}
			if n := srv.FaultInjector().Injected()[tc.kind] - before; n != 1 {
				t.Errorf("%d faults injected, want 1", n)
			}
			if tc.kind == m365sim.FaultTruncate && resumes != 1 {
				t.Errorf("stream resumed %d times, want 1", resumes)
			}
		})
	}
	if len(events.list()) == 0 {
		t.Error("no retry events")
	}
}

func TestRetriesAreBounded(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{Faults: m365sim.FaultConfig{Rate: map[m365sim.FaultKind]float64{m365sim.Fault504: 1}}})
	cfg := fastRetries
	cfg.MaxAttempts = 3
	c, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) { o.PacerConfig = cfg })
	_, err := c.ListMailFolders(ctxT(t), "me")
	var ge *Error
	if !errors.Is(err, ErrTransient) || !errors.As(err, &ge) || ge.Attempts != 3 || ge.Status != 504 {
		t.Fatalf("err = %v, want ErrTransient after 3 attempts", err)
	}
	if n := srv.Requests().Total(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestGoneContentIsNotFoundWithoutRetry(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	msgs, _ := srv.Tenant().Messages(simtest.Alice, "inbox")
	d, _ := c.GetDrive(ctx, "me")
	items, _ := collectDrive(t, c, d.ID, "")
	file, _ := itemByName(items, "budget.xlsx")
	srv.Requests().Reset()

	srv.FaultInjector().Force(m365sim.FaultGone, 1)
	_, _, err := c.OpenMIME(ctx, "me", msgs[0].ID)
	var ge *Error
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ge) || ge.Attempts != 1 || ge.Status != 404 {
		t.Errorf("MIME of a message deleted in flight: err = %v", err)
	}
	srv.FaultInjector().Force(m365sim.FaultGone, 1)
	_, err = c.OpenDownload(ctx, file.DownloadURL, 0)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("download of a file deleted in flight: err = %v", err)
	}
	if n := srv.Requests().Total(); n != 2 {
		t.Errorf("%d requests, want 2 (no retries): %v", n, srv.Requests().Summary())
	}
	if _, err := srv.Tenant().Message(simtest.Alice, msgs[0].ID); err == nil {
		t.Error("the simulator did not delete the message")
	}
}

func TestAuthErrors(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	if _, err := c.GetUser(ctx, "me"); err != nil {
		t.Fatal(err)
	}
	srv.ExpireAccessTokens(simtest.Alice)
	srv.Requests().Reset()
	_, err := c.ListMailFolders(ctx, "me")
	var ge *Error
	if !errors.Is(err, ErrAuth) || !errors.As(err, &ge) || ge.Status != 401 || ge.Code != "InvalidAuthenticationToken" {
		t.Errorf("expired token: err = %v, want ErrAuth 401", err)
	}
	if n := srv.Requests().Total(); n != 2 {
		t.Errorf("%d requests, want 2 (one retry with a fresh token)", n)
	}

	// A provider that can drop a refused token recovers with one retry.
	inv := &invalidatingToken{cachedToken: cachedToken{srv: srv, upn: simtest.Alice}}
	c3, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) { o.Auth = inv })
	if _, err := c3.GetUser(ctx, "me"); err != nil {
		t.Fatal(err)
	}
	srv.ExpireAccessTokens(simtest.Alice)
	srv.Requests().Reset()
	if _, err := c3.GetUser(ctx, "me"); err != nil {
		t.Errorf("with InvalidateToken: %v", err)
	}
	if n, m := srv.Requests().Total(), inv.invalidated; n != 2 || m != 1 {
		t.Errorf("%d requests, %d invalidations; want 2 and 1", n, m)
	}

	// The token provider's own error (sign in again) comes through.
	signIn := &auth.SignInRequiredError{Account: simtest.Alice, Reason: "your password was changed"}
	c2, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) {
		o.Auth = TokenFunc(func(context.Context) (string, error) { return "", signIn })
	})
	_, err = c2.ListMailFolders(ctx, "me")
	if !errors.Is(err, ErrAuth) || !errors.Is(err, auth.ErrSignInRequired) {
		t.Errorf("token provider error: err = %v, want ErrAuth and auth.ErrSignInRequired", err)
	}
	_, _, err = c2.OpenMIME(ctx, "me", "x")
	if !errors.Is(err, ErrAuth) || !errors.Is(err, auth.ErrSignInRequired) {
		t.Errorf("token provider error on content: err = %v", err)
	}
	if strings.Contains(fmt.Sprint(err), "tempauth") {
		t.Error("error mentions a credential")
	}
}

func TestExpiredDownloadURL(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	d, _ := c.GetDrive(ctx, "me")
	items, _ := collectDrive(t, c, d.ID, "")
	file, _ := itemByName(items, "todo.txt")
	forged := strings.Replace(file.DownloadURL, "tempauth=", "tempauth=x", 1)
	_, err := c.OpenDownload(ctx, forged, 0)
	if !errors.Is(err, ErrExpiredURL) {
		t.Errorf("err = %v, want ErrExpiredURL", err)
	}
	if strings.Contains(err.Error(), "tempauth") {
		t.Errorf("error %q shows the download URL's credential", err)
	}
}

// invalidatingToken is a cachedToken that forgets a token Graph refused.
type invalidatingToken struct {
	cachedToken
	invalidated int
}

func (p *invalidatingToken) GetAuthorizationToken(ctx context.Context, _ *url.URL, _ map[string]any) (string, error) {
	return p.token(ctx)
}

func (p *invalidatingToken) InvalidateToken(tok string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tok == p.tok {
		p.tok = ""
		p.invalidated++
	}
}
