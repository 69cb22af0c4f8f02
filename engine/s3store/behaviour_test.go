package s3store_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/s3store"
	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/storetest"
)

// TestHeadersOnTheWire checks what versitygw does not: every upload of a
// locked object carries a correct Content-MD5, COMPLIANCE mode and a
// retain-until date of the server's now + period + slack; lock files carry
// no lock; and no request ever asks to shorten a lock, since versitygw
// would allow it.
func TestHeadersOnTheWire(t *testing.T) {
	srv := s3test.Start(t)
	px := s3test.NewProxy(t, srv)
	bucket := srv.Bucket(t, true)
	policy := store.LockPolicy{Period: 48 * time.Hour, Slack: 24 * time.Hour}
	st := srv.Store(t, bucket, func(o *s3store.Options) { o.Endpoint = px.Endpoint; o.Lock = policy; o.PartSize = 5 << 20 })
	ctx := context.Background()
	small, big := storetest.Data(1, 1000), storetest.Data(2, 12<<20+3)
	start := time.Now()
	storetest.MustPut(t, st, "data/aa/small", small)
	// Not a *bytes.Reader: the multipart path, each part with its MD5.
	if err := st.Put(ctx, "data/bb/big", strings.NewReader(string(big)), int64(len(big))); err != nil {
		t.Fatal(err)
	}
	storetest.MustPut(t, st, "locks/0001", []byte("lock"))
	end := time.Now()
	if !bytes.Equal(storetest.MustGet(t, st, "data/bb/big"), big) {
		t.Fatal("multipart object reads back different")
	}

	puts := 0
	for _, r := range px.Requests() {
		if !r.IsObjectPut() {
			continue
		}
		puts++
		if r.Header.Get("Content-Md5") == "" {
			t.Errorf("%s %s sent without Content-MD5", r.Method, r.Path)
		}
		if r.Query.Get("partNumber") != "" {
			continue // parts inherit the lock of CreateMultipartUpload
		}
		mode, until := r.Header.Get("X-Amz-Object-Lock-Mode"), r.Header.Get("X-Amz-Object-Lock-Retain-Until-Date")
		if strings.HasSuffix(r.Path, "/locks/0001") {
			if mode != "" || until != "" {
				t.Errorf("lock file sent with a lock: %q %q", mode, until)
			}
			continue
		}
		if mode != "COMPLIANCE" {
			t.Errorf("%s sent with lock mode %q, want COMPLIANCE", r.Path, mode)
		}
		u, err := time.Parse(time.RFC3339, until)
		if err != nil {
			t.Errorf("%s: retain-until %q: %v", r.Path, until, err)
			continue
		}
		lo, hi := start.Add(policy.Period+policy.Slack-2*time.Second), end.Add(policy.Period+policy.Slack+3*time.Second)
		if u.Before(lo) || u.After(hi) {
			t.Errorf("%s locked until %v, want between %v and %v", r.Path, u, lo, hi)
		}
	}
	if puts < 4 {
		t.Fatalf("saw %d object uploads, want the small one, at least 2 parts and the lock file", puts)
	}
	// The small object's MD5 is the real one.
	for _, r := range px.Requests() {
		if r.IsObjectPut() && strings.HasSuffix(r.Path, "/data/aa/small") {
			sum := md5.Sum(small)
			if got := r.Header.Get("Content-Md5"); got != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Errorf("Content-MD5 %q is not the object's", got)
			}
		}
	}

	// Extensions only ever move a lock later.
	var vs []store.Version
	if err := st.ListVersions(ctx, "data/aa/small", func(v store.Version) error { vs = append(vs, v); return nil }); err != nil || len(vs) != 1 {
		t.Fatalf("versions %+v, %v", vs, err)
	}
	px.Reset()
	if err := st.ExtendRetention(ctx, "data/aa/small", vs[0].VersionID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	later := vs[0].RetainUntil.Add(24 * time.Hour)
	if err := st.ExtendRetention(ctx, "data/aa/small", vs[0].VersionID, later); err != nil {
		t.Fatal(err)
	}
	retentionPuts := 0
	for _, r := range px.Requests() {
		if !r.IsRetentionPut() {
			continue
		}
		retentionPuts++
		if !bytes.Contains(r.Body, []byte("COMPLIANCE")) || !bytes.Contains(r.Body, []byte(later.UTC().Format("2006-01-02T15:04:05"))) {
			t.Errorf("retention request body %q, want COMPLIANCE until %v", r.Body, later)
		}
		if r.Header.Get("Content-Md5") == "" {
			t.Error("PutObjectRetention sent without Content-MD5")
		}
	}
	if retentionPuts != 1 {
		t.Fatalf("%d retention requests; want exactly 1 (the earlier date must not be sent)", retentionPuts)
	}
}

// TestServerClock: lock dates follow the server's clock, even when this
// computer's is three hours behind it.
func TestServerClock(t *testing.T) {
	srv := s3test.Start(t)
	px := s3test.NewProxy(t, srv)
	px.ShiftDate(3 * time.Hour)
	policy := store.LockPolicy{Period: time.Hour}
	st := srv.Store(t, srv.Bucket(t, true), func(o *s3store.Options) { o.Endpoint = px.Endpoint; o.Lock = policy })
	before := time.Now()
	storetest.MustPut(t, st, "config", []byte("x"))
	off, ok := st.ClockOffset()
	if !ok || off < 3*time.Hour-5*time.Second || off > 3*time.Hour+5*time.Second {
		t.Fatalf("clock offset %v (%v), want about 3h", off, ok)
	}
	for _, r := range px.Requests() {
		if r.IsObjectPut() {
			u, _ := time.Parse(time.RFC3339, r.Header.Get("X-Amz-Object-Lock-Retain-Until-Date"))
			want := before.Add(3*time.Hour + policy.Period)
			if u.Before(want.Add(-3*time.Second)) || u.After(want.Add(10*time.Second)) {
				t.Fatalf("locked until %v, want about %v (server time + 1h)", u, want)
			}
			return
		}
	}
	t.Fatal("no upload seen")
}

// TestRetries: answers of 503 SlowDown are retried with backoff and the
// upload completes.
func TestRetries(t *testing.T) {
	srv := s3test.Start(t)
	px := s3test.NewProxy(t, srv)
	st := srv.Store(t, srv.Bucket(t, false), func(o *s3store.Options) { o.Endpoint = px.Endpoint })
	px.FailNext(2, http.StatusServiceUnavailable, func(r *http.Request) bool { return r.Method == http.MethodPut })
	data := storetest.Data(5, 100_000)
	storetest.MustPut(t, st, "data/cc/retried", data)
	if !bytes.Equal(storetest.MustGet(t, st, "data/cc/retried"), data) {
		t.Fatal("retried upload reads back different")
	}
	failed := 0
	for _, r := range px.Requests() {
		if r.Status == http.StatusServiceUnavailable {
			failed++
		}
	}
	if failed != 2 {
		t.Fatalf("%d requests were answered 503, want 2", failed)
	}
}

// TestCheckBucket: a bucket without versioning and Object Lock is refused;
// one with them passes, with warnings for what the (root) keys may do.
func TestCheckBucket(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	plain, err := srv.Store(t, srv.Bucket(t, false), nil).CheckBucket(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if plain.OK() || plain.Versioning || plain.ObjectLock || len(plain.Problems) != 2 {
		t.Fatalf("plain bucket: %+v, want two problems (versioning, Object Lock)", plain)
	}
	locked, err := srv.Store(t, srv.Bucket(t, true), nil).CheckBucket(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if !locked.OK() || !locked.Versioning || !locked.ObjectLock {
		t.Fatalf("locked bucket: %+v", locked)
	}
	want := []string{"permanently delete old versions", "bypass governance", "Object Lock settings", "versioning"}
	for _, w := range want {
		found := false
		for _, got := range locked.Warnings {
			found = found || strings.Contains(got, w)
		}
		if !found {
			t.Errorf("no warning about %q for the root keys: %q", w, locked.Warnings)
		}
	}
	missing, err := srv.Store(t, "no-such-bucket", nil).CheckBucket(ctx, true)
	if err != nil || missing.OK() {
		t.Fatalf("missing bucket: %+v, %v", missing, err)
	}
}

// TestCredentialsInKeychain keeps the key pair in the real keychain and
// never in the value's string form.
func TestCredentialsInKeychain(t *testing.T) {
	if _, err := (secret.OS{}).Get("lifeboat-s3-probe", "none"); errors.Is(err, secret.ErrUnavailable) {
		t.Fatalf("no keychain: run under installer/test-session.sh: %v", err)
	}
	k := secret.OS{}
	acct := s3store.KeychainAccount("https://s3.example.test", "bucket", "AKIATEST"+time.Now().Format("150405.000"))
	c := s3store.Credentials{AccessKeyID: "AKIATEST", Secret: "very-secret-value"}
	if err := s3store.SaveCredentials(k, acct, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s3store.DeleteCredentials(k, acct) })
	got, err := s3store.LoadCredentials(k, acct)
	if err != nil || got != c {
		t.Fatalf("LoadCredentials = %+v, %v", got, err)
	}
	if s := c.String(); strings.Contains(s, c.Secret) {
		t.Fatalf("String() shows the secret: %q", s)
	}
	if err := s3store.DeleteCredentials(k, acct); err != nil {
		t.Fatal(err)
	}
	if _, err := s3store.LoadCredentials(k, acct); !errors.Is(err, secret.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
