package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/lifeboat-backup/lifeboat/engine/s3store"
)

// Version is the versitygw release the tests run.
const Version = "v1.8.0"

const module = "github.com/versity/versitygw/cmd/versitygw"

// CacheDir is where the versitygw binary is kept: $LIFEBOAT_TEST_CACHE,
// else the user cache folder's lifeboat-test.
func CacheDir() (string, error) {
	if d := os.Getenv("LIFEBOAT_TEST_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "lifeboat-test"), nil
}

// BinaryPath is where Build puts versitygw.
func BinaryPath() (string, error) {
	d, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "versitygw-"+Version, "versitygw"), nil
}

// Build installs versitygw into the cache folder unless it is there, with
// `go install` from the Go module proxy. Concurrent test processes wait
// for one another through a lock folder.
func Build(ctx context.Context) (string, error) {
	bin, err := BinaryPath()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	lock := dir + ".lock"
	for {
		err := os.Mkdir(lock, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
		if fi, serr := os.Stat(lock); serr == nil && time.Since(fi.ModTime()) > 30*time.Minute {
			os.Remove(lock) // left by a build that was killed
			continue
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(2 * time.Second):
		}
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	defer os.Remove(lock)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		goBin = filepath.Join(root, "bin", "go")
	}
	cmd := exec.CommandContext(ctx, goBin, "install", module+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	cmd.Dir = os.TempDir() // outside any module
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building versitygw %s: %w\n%s", Version, err, out)
	}
	return bin, nil
}

// Server is a running versitygw.
type Server struct {
	// Endpoint is "http://127.0.0.1:PORT".
	Endpoint string
	// Access and Secret are the root user's keys.
	Access, Secret string
	Root           string
	admin          *minio.Client
}

// Start builds (if needed) and starts versitygw for the test, and stops it
// when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin, err := Build(ctx)
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	root := t.TempDir()
	for _, d := range []string{"data", "versions", "meta"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{Access: "root" + randHex(4), Secret: randHex(16), Root: root}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--port", addr, "--access", s.Access, "--secret", s.Secret, "--quiet",
			"posix", "--versioning-dir", filepath.Join(root, "versions"),
			filepath.Join(root, "data"))
		logf, err := os.Create(filepath.Join(root, "versitygw.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatalf("s3test: starting versitygw: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait(); logf.Close() }()
		s.Endpoint = "http://" + addr
		if lastErr = waitReady(s.Endpoint, exited); lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			s.admin = s.client(t, nil)
			return s
		}
		_ = cmd.Process.Kill()
	}
	log, _ := os.ReadFile(filepath.Join(root, "versitygw.log"))
	t.Fatalf("s3test: versitygw did not start: %v\n%s", lastErr, log)
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(endpoint string, exited <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited: %v", err)
		default:
		}
		resp, err := http.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("no answer within 30 s")
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) client(t testing.TB, rt http.RoundTripper) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(s.Access, s.Secret, ""), Secure: false, Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath, Transport: rt,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Admin is a client with the root keys, for setting buckets up.
func (s *Server) Admin() *minio.Client { return s.admin }

// Bucket creates a new bucket; with lock, Object Lock (and so versioning)
// is enabled on it, as the setup instructions tell the owner to do.
func (s *Server) Bucket(t testing.TB, lock bool) string {
	t.Helper()
	name := "lb-" + randHex(6)
	ctx := context.Background()
	if err := s.admin.MakeBucket(ctx, name, minio.MakeBucketOptions{ObjectLocking: lock}); err != nil {
		t.Fatalf("s3test: creating bucket: %v", err)
	}
	if lock {
		if err := s.admin.EnableVersioning(ctx, name); err != nil {
			t.Fatalf("s3test: enabling versioning: %v", err)
		}
	}
	return name
}

// Options returns s3store options for a bucket of this server, with the
// root keys.
func (s *Server) Options(bucket string) s3store.Options {
	return s3store.Options{Endpoint: s.Endpoint, Bucket: bucket, Region: "us-east-1", Provider: s3store.VersityGW,
		Credentials: s3store.Credentials{AccessKeyID: s.Access, Secret: s.Secret}, MaxRetries: 3}
}

// Store opens an s3store.Store on bucket with o's changes applied.
func (s *Server) Store(t testing.TB, bucket string, mod func(*s3store.Options)) *s3store.Store {
	t.Helper()
	o := s.Options(bucket)
	if mod != nil {
		mod(&o)
	}
	st, err := s3store.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
