package service

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/orgsetup"
	"github.com/lifeboat-backup/lifeboat/engine/people"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

const (
	infoUPN  = "info@contoso.test"
	roomUPN  = "boardroom@contoso.test"
	svcUPN   = "scanner@contoso.test"
	quoteSub = "Quote request from Fabrikam"
)

// companyTenant is the small tenant plus a shared mailbox on a disabled,
// unlicensed account (with mail in it), a room mailbox and an account with
// no mailbox and no OneDrive.
func companyTenant(t *testing.T) *m365sim.Tenant {
	t.Helper()
	tn := simtest.SmallTenant(t)
	add := func(upn, name string, st m365sim.UserState) {
		t.Helper()
		if _, err := tn.AddUser(upn, name); err != nil {
			t.Fatal(err)
		}
		if err := tn.SetUserState(upn, st); err != nil {
			t.Fatal(err)
		}
	}
	add(infoUPN, "Info", m365sim.UserState{Mailbox: m365sim.MailboxShared})
	add(roomUPN, "Board Room", m365sim.UserState{Mailbox: m365sim.MailboxRoom})
	add(svcUPN, "Scanner", m365sim.UserState{AccountEnabled: true, Mailbox: m365sim.MailboxNone})
	mime := "From: buyer@fabrikam.example\r\nTo: info@contoso.test\r\nSubject: " + quoteSub + "\r\nMessage-ID: <q1@fabrikam.example>\r\nDate: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\nPlease send a quote.\r\n"
	if _, err := tn.AddMessage(infoUPN, "inbox", []byte(mime), m365sim.MessageOptions{}); err != nil {
		t.Fatal(err)
	}
	return tn
}

// registerByHand stands for the administrator's registration where the
// test is about what comes after it: the tenant's own control registers
// the app with Lifeboat's certificate and grants the permissions, and the
// credential is saved as setup saves it.
func registerByHand(t *testing.T, svc *Service, tn *m365sim.Tenant) auth.AppCredential {
	t.Helper()
	cert, err := auth.NewAppCertificate(orgsetup.DefaultDisplayName, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	app, err := tn.RegisterApplication(orgsetup.DefaultDisplayName, cert.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.GrantApplicationPermissions(app.AppID, orgsetup.Permissions()...); err != nil {
		t.Fatal(err)
	}
	st, err := svc.companyStore()
	if err != nil {
		t.Fatal(err)
	}
	cred := auth.AppCredential{TenantID: tn.ID, AppID: app.AppID, ObjectID: app.ID, Current: cert, Completed: time.Now()}
	if err := st.Save(cred); err != nil {
		t.Fatal(err)
	}
	return cred
}

// TestCompanyBackupCoversEveryoneAndRestoresOnePerson: with the company
// credential (real MSAL confidential client, certificate assertion), one
// backup covers every person with data — the shared mailbox on a disabled,
// unlicensed account and the room included, the account with no mailbox
// and no OneDrive counted as nothing to back up — and one person's email
// and file come back, to disk and to where they were.
func TestCompanyBackupCoversEveryoneAndRestoresOnePerson(t *testing.T) {
	tn := companyTenant(t)
	srv := simtest.Start(t, tn, m365sim.Options{})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t, func(o *Options) { o.Tenant = tenant })
	ctx := t.Context()
	if on, err := svc.CompanyMode(); err != nil || on {
		t.Fatalf("company mode before setup: %v %v", on, err)
	}
	registerByHand(t, svc, tn)
	if on, err := svc.CompanyMode(); err != nil || !on {
		t.Fatalf("company mode after setup: %v %v", on, err)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := svc.InitBackup(ctx, dir, true); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notes []string
	sum, err := svc.Backup(ctx, BackupRequest{Dir: dir, Events: BackupEvents{Note: func(s string) {
		mu.Lock()
		notes = append(notes, s)
		mu.Unlock()
	}}})
	if err != nil {
		t.Fatalf("company backup: %v (notes %q)", err, notes)
	}
	var backedUp []string
	for _, ar := range sum.Accounts {
		if ar.Err != nil {
			t.Errorf("%s: %v", ar.Account, ar.Err)
		}
		backedUp = append(backedUp, ar.Account)
	}
	slices.Sort(backedUp)
	want := []string{simtest.Alice, simtest.Bob, roomUPN, infoUPN}
	slices.Sort(want)
	if !slices.Equal(backedUp, want) {
		t.Fatalf("backed up %q, want %q", backedUp, want)
	}
	list, err := svc.People()
	if err != nil {
		t.Fatal(err)
	}
	byUPN := map[string]people.Person{}
	for _, p := range list {
		byUPN[p.UPN] = p
	}
	if p := byUPN[infoUPN]; p.Purpose != people.PurposeShared || p.Enabled || p.Licensed || p.Departed() {
		t.Errorf("info@: %+v", p)
	}
	if p := byUPN[svcUPN]; !p.Nothing() {
		t.Errorf("the account with no mailbox and no OneDrive: %+v", p)
	}

	b, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hits, err := b.Find(ctx, FindRequest{Text: "Fabrikam"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("find the shared mailbox's email: %d %v", len(hits), err)
	}

	// One person's email and file: Alice's.
	tn2 := srv.Tenant()
	msgs, _ := tn2.FindMessages(simtest.Alice, "Invoice 0005")
	budget, err := tn2.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("seed: %v %d", err, len(msgs))
	}
	var budgetBytes bytes.Buffer
	budgetBytes.ReadFrom(budget.Content.Open())
	if err := tn2.DeleteMessage(simtest.Alice, msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := tn2.DeleteDriveItem(simtest.Alice, budget.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatalf("second backup: %v", err)
	}
	b2, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	gone, err := b2.Find(ctx, FindRequest{DeletedOnly: true})
	if err != nil || len(gone) != 2 {
		t.Fatalf("deleted: %d %v", len(gone), err)
	}
	var sels []Selection
	for _, h := range gone {
		sels = append(sels, Selection{Version: h.Version.ID})
	}
	items, err := b2.Select(ctx, sels)
	if err != nil || len(items) != 2 {
		t.Fatalf("select: %d %v", len(items), err)
	}
	out := filepath.Join(t.TempDir(), "out")
	pl, err := b2.PlanRestore(ctx, RestoreRequest{Items: items, To: ToDir, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b2.RunRestore(ctx, pl, RestoreEvents{})
	pl.Close()
	if err != nil || res.Restored != 2 {
		t.Fatalf("restore to disk: %+v %v", res, err)
	}
	if got, err := os.ReadFile(filepath.Join(out, "OneDrive", "Documents", "budget.xlsx")); err != nil || !bytes.Equal(got, budgetBytes.Bytes()) {
		t.Errorf("budget.xlsx on disk: %v", err)
	}
	pl, err = b2.PlanRestore(ctx, RestoreRequest{Items: items, To: ToOriginal, Conflict: restore.ConflictRename})
	if err != nil {
		t.Fatal(err)
	}
	res, err = b2.RunRestore(ctx, pl, RestoreEvents{})
	pl.Close()
	if err != nil || res.Restored != 2 {
		t.Fatalf("restore to Alice's mailbox and OneDrive with the company credential: %+v %v", res, err)
	}
	if again, _ := tn2.FindMessages(simtest.Alice, "Invoice 0005"); len(again) != 1 {
		t.Errorf("the email is not back: %+v", again)
	}
	if _, err := tn2.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx"); err != nil {
		t.Errorf("budget.xlsx is not back: %v", err)
	}
}

// TestCompanyBackupExcludesAndIncludesNewPeople: an excluded person is not
// backed up; a new hire is, at the next run, with no action.
func TestCompanyBackupExcludesAndIncludesNewPeople(t *testing.T) {
	tn := companyTenant(t)
	srv, svc, dir := companyOffice(t, tn, nil)
	ctx := t.Context()
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetExcluded([]string{simtest.Bob}, true); err != nil {
		t.Fatal(err)
	}
	var in *InputError
	if _, err := svc.SetExcluded([]string{"nobody@contoso.test"}, true); !errors.As(err, &in) {
		t.Errorf("excluding someone unknown: %v", err)
	}
	if _, err := srv.Tenant().AddUser("newhire@contoso.test", "Nina New"); err != nil {
		t.Fatal(err)
	}
	var notes []string
	var mu sync.Mutex
	sum, err := svc.Backup(ctx, BackupRequest{Dir: dir, Events: BackupEvents{Note: func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ar := range sum.Accounts {
		got = append(got, ar.Account)
	}
	if slices.Contains(got, simtest.Bob) || !slices.Contains(got, "newhire@contoso.test") {
		t.Fatalf("second backup covered %q: want the new hire and not Bob", got)
	}
	if !slices.ContainsFunc(notes, func(s string) bool { return strings.Contains(s, "Nina New is new") }) {
		t.Errorf("no note about the new hire: %q", notes)
	}
}

// TestSetUpCompanyWithOneAdministratorSignIn: the owner, a Global
// Administrator, signs in once (the real MSAL device code flow); Lifeboat
// registers itself through a simulated replication delay, keeps no
// administrator sign-in, and the next backup covers everyone.
func TestSetUpCompanyWithOneAdministratorSignIn(t *testing.T) {
	tn := companyTenant(t)
	if err := tn.SetDirectoryRoles(simtest.Alice, m365sim.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, tn, m365sim.Options{AutoApprove: 10 * time.Millisecond, DirectoryReplicationDelay: time.Second})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t, func(o *Options) {
		o.Tenant = tenant
		o.CompanySetupWait = orgsetup.Wait{Timeout: 30 * time.Second, First: 50 * time.Millisecond, Max: 300 * time.Millisecond}
	})
	ctx := t.Context()
	codes := 0
	var progress []string
	var mu sync.Mutex
	setup, err := svc.SetUpCompany(ctx, func(e auth.Event) {
		if _, ok := e.(auth.CodeIssued); ok {
			codes++
		}
	}, func(s string) { mu.Lock(); progress = append(progress, s); mu.Unlock() })
	if err != nil {
		t.Fatalf("setup: %v (progress %q)", err, progress)
	}
	if codes != 1 || setup.Admin != simtest.Alice || !setup.Created || len(setup.Granted) != len(orgsetup.Permissions()) {
		t.Fatalf("setup: %+v, %d codes", setup, codes)
	}
	if on, err := svc.CompanyMode(); err != nil || !on {
		t.Fatalf("company mode: %v %v", on, err)
	}
	if _, err := os.Stat(filepath.Join(svc.ConfigDir(), companyAdminDir, auth.CacheFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the administrator's sign-in was kept: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := svc.InitBackup(ctx, dir, true); err != nil {
		t.Fatal(err)
	}
	sum, err := svc.Backup(ctx, BackupRequest{Dir: dir})
	if err != nil || len(sum.Accounts) != 4 {
		t.Fatalf("backup after setup: %d people, %v", len(sum.Accounts), err)
	}
	// Leaving organization mode with deletion removes the registration.
	if err := svc.LeaveCompany(ctx, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, a := range tn.Applications() {
		if slices.Contains(a.Tags, orgsetup.DefaultMarker) {
			t.Fatalf("the registration is still there: %+v", a)
		}
	}
	if on, _ := svc.CompanyMode(); on {
		t.Fatal("still in company mode")
	}
}

// TestSetUpCompanyAsAnOrdinaryUser: the plain sentence, nothing created.
func TestSetUpCompanyAsAnOrdinaryUser(t *testing.T) {
	tn := companyTenant(t)
	srv := simtest.Start(t, tn, m365sim.Options{AutoApprove: 10 * time.Millisecond, AutoApproveUser: simtest.Bob})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t, func(o *Options) { o.Tenant = tenant })
	_, err = svc.SetUpCompany(t.Context(), nil, nil)
	if !errors.Is(err, orgsetup.ErrNotAdministrator) || err.Error() != orgsetup.ErrNotAdministrator.Error() {
		t.Fatalf("got %v", err)
	}
	if apps := tn.Applications(); len(apps) != 0 {
		t.Fatalf("created in the tenant: %+v", apps)
	}
	if on, _ := svc.CompanyMode(); on {
		t.Fatal("company mode after a refused setup")
	}
	st, _ := svc.companyStore()
	if st.Exists() {
		t.Fatal("a credential was left on this computer")
	}
}

// TestCompanyBackupRenewsTheCertificateAndSaysWhenItExpired: 50 days
// before the certificate ends, a normal run rolls it through addKey; once
// a certificate has expired, the run stops with "sign in as administrator
// again" and nothing else.
func TestCompanyBackupRenewsTheCertificateAndSaysWhenItExpired(t *testing.T) {
	tn := companyTenant(t)
	srv := simtest.Start(t, tn, m365sim.Options{})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	offset := time.Duration(0)
	svc := testService(t, func(o *Options) {
		o.Tenant = tenant
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	})
	ctx := t.Context()
	cred := registerByHand(t, svc, tn)
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := svc.InitBackup(ctx, dir, true); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	offset = time.Until(cred.Current.ExpiresOn().Add(-50 * 24 * time.Hour))
	mu.Unlock()
	var notes []string
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir, Events: BackupEvents{Note: func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }}}); err != nil {
		t.Fatalf("backup with renewal due: %v", err)
	}
	if !slices.ContainsFunc(notes, func(s string) bool { return strings.Contains(s, "renewed its certificate") }) {
		t.Fatalf("no renewal: %q", notes)
	}
	st, _ := svc.companyStore()
	now, err := st.Load()
	if err != nil || now.Current.Cert.Equal(cred.Current.Cert) {
		t.Fatalf("the certificate was not replaced: %v", err)
	}
	for _, a := range tn.Applications() {
		if a.ID == cred.ObjectID && len(a.KeyCredentials) != 2 {
			t.Fatalf("keys on the app: %d", len(a.KeyCredentials))
		}
	}

	// Renewal failing 29 days before the end: the dashboard's warning.
	bad := now
	bad.ObjectID = "00000000-0000-0000-0000-000000000000" // addKey on an application that is not there
	if err := st.Save(bad); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	offset = time.Until(now.Current.ExpiresOn().Add(-29 * 24 * time.Hour))
	mu.Unlock()
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatalf("a failed renewal must not stop the backup: %v", err)
	}
	if err := svc.CompanyCredentialProblem(); !errors.Is(err, auth.ErrCertificateExpiring) || !strings.Contains(err.Error(), "in 29 days") {
		t.Fatalf("dashboard warning: %v", err)
	}
	if st, err := svc.Status(ctx); err != nil || !slices.ContainsFunc(st.Warnings, func(w string) bool { return strings.Contains(w, "in 29 days") }) {
		t.Fatalf("the dashboard's warnings: %q %v", st.Warnings, err)
	}

	// The new certificate expired too: plain words, no backup.
	mu.Lock()
	offset = time.Until(now.Current.ExpiresOn().Add(time.Hour))
	mu.Unlock()
	_, err = svc.Backup(ctx, BackupRequest{Dir: dir})
	if !errors.Is(err, auth.ErrAdminSignInRequired) || !strings.Contains(err.Error(), "sign in as administrator again") {
		t.Fatalf("expired certificate: %v", err)
	}
}

// TestCompanyModeLeavesNoSecretReadable: after an administrator's setup and
// a company backup with debug logging, neither the log nor any file in the
// config folder holds the private key (in DER, PEM or base64) or a token.
func TestCompanyModeLeavesNoSecretReadable(t *testing.T) {
	tn := companyTenant(t)
	if err := tn.SetDirectoryRoles(simtest.Alice, m365sim.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, tn, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	var logBuf syncBuffer
	svc := testService(t, func(o *Options) {
		o.Tenant = tenant
		o.Logger = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.CompanySetupWait = orgsetup.Wait{First: 20 * time.Millisecond}
	})
	ctx := t.Context()
	if _, err := svc.SetUpCompany(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := svc.InitBackup(ctx, dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	st, _ := svc.companyStore()
	cred, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(cred.Current.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	key := cred.Current.PrivateKey().(*rsa.PrivateKey)
	needles := [][]byte{der[40:72], []byte(base64.StdEncoding.EncodeToString(der)[60:100]), key.D.Bytes()[:24], key.Primes[1].Bytes()[:24], []byte("PRIVATE KEY")}
	jwt := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`)
	scan := func(where string, b []byte) {
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s holds the private key", where)
			}
		}
		if jwt.Match(b) {
			t.Errorf("%s holds a token", where)
		}
	}
	scan("the log", logBuf.Bytes())
	if !bytes.Contains(logBuf.Bytes(), []byte("company token")) {
		t.Error("the debug log does not mention company tokens at all: the scan proves nothing")
	}
	err = filepath.Walk(svc.ConfigDir(), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		scan(p, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// companyOffice starts the simulator on tn, registers Lifeboat's app by
// hand and makes a new backup folder: where most company tests begin.
// adjust, when set, changes the service's options after the tenant is set.
func companyOffice(t *testing.T, tn *m365sim.Tenant, adjust func(*Options)) (*m365sim.Server, *Service, string) {
	t.Helper()
	srv := simtest.Start(t, tn, m365sim.Options{})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t, func(o *Options) {
		o.Tenant = tenant
		if adjust != nil {
			adjust(o)
		}
	})
	registerByHand(t, svc, tn)
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := svc.InitBackup(t.Context(), dir, true); err != nil {
		t.Fatal(err)
	}
	return srv, svc, dir
}
