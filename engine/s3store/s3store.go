package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// Options configure a Store. Endpoint, Bucket and Credentials are required.
type Options struct {
	// Endpoint is the service's address: "s3.eu-central-1.wasabisys.com",
	// "https://nas.local:9000" or "http://127.0.0.1:7070". Without a
	// scheme, HTTPS is used.
	Endpoint string
	// Region; empty lets the client ask the service (or the provider
	// preset's default).
	Region string
	// Bucket holds the repository; Prefix is an optional folder in it
	// ("lifeboat/office"), so several repositories can share a bucket.
	Bucket, Prefix string
	Credentials    Credentials
	// Provider selects known quirks (see Providers); zero is "other".
	Provider ProviderID
	// Lock, when its Period is set, locks every object written (except
	// lock files) in COMPLIANCE mode until the server's now + Period +
	// Slack. The bucket must have Object Lock enabled.
	Lock store.LockPolicy
	// Transport carries the requests (tests: a recording proxy, a CA);
	// nil means a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// PartSize is the size of the parts of a multipart upload and the
	// largest object sent in one request. Zero means 32 MiB: a repository
	// pack (16 MiB by default) goes in one request.
	PartSize int64
	// MaxRetries is how often minio-go tries a request that failed in a
	// way worth retrying (network errors, 5xx, SlowDown), with exponential
	// backoff; zero means 10.
	MaxRetries int
	// Logger; nil discards.
	Logger *slog.Logger
}

// Credentials are an access key pair. Secret is never logged; keep it in
// the keychain (SaveCredentials, LoadCredentials).
type Credentials struct {
	AccessKeyID string `json:"accessKeyId"`
	Secret      string `json:"secretAccessKey"`
}

// String hides the secret, so a Credentials value cannot leak through a
// log line or an error message.
func (c Credentials) String() string { return "access key " + c.AccessKeyID }

// Store is a store.Store on an S3 bucket. It is safe for concurrent use.
type Store struct {
	c      *minio.Client
	core   *minio.Core
	bucket string
	prefix string
	opts   Options
	quirks quirks
	log    *slog.Logger
	clock  *serverClock
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.Versioned = (*Store)(nil)
	_ store.Locker    = (*Store)(nil)
)

const defaultPartSize = 32 << 20

// New connects to the bucket. It makes no request: use CheckBucket to see
// whether the bucket is there and set up right.
func New(o Options) (*Store, error) {
	if o.Bucket == "" || o.Endpoint == "" {
		return nil, errors.New("s3store: an endpoint and a bucket are required")
	}
	if o.Credentials.AccessKeyID == "" || o.Credentials.Secret == "" {
		return nil, errors.New("s3store: an access key and its secret are required")
	}
	host, secure, err := parseEndpoint(o.Endpoint)
	if err != nil {
		return nil, err
	}
	if o.PartSize <= 0 {
		o.PartSize = defaultPartSize
	}
	o.PartSize = max(o.PartSize, 5<<20) // S3's smallest part
	if o.MaxRetries <= 0 {
		o.MaxRetries = 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	q := providerQuirks(o.Provider)
	if o.Region == "" {
		o.Region = regionFromEndpoint(o.Provider, host)
	}
	if o.Region == "" {
		o.Region = q.region
	}
	rt := o.Transport
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	clock := &serverClock{}
	c, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(o.Credentials.AccessKeyID, o.Credentials.Secret, ""),
		Secure:       secure,
		Transport:    clock.wrap(rt),
		Region:       o.Region,
		BucketLookup: q.lookup,
		MaxRetries:   o.MaxRetries,
		// No trailing checksums: many S3-compatible services reject them.
		TrailingHeaders: false,
	})
	if err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	prefix := strings.Trim(o.Prefix, "/")
	if prefix != "" {
		if err := store.ValidateName(prefix); err != nil {
			return nil, fmt.Errorf("s3store: folder in the bucket: %w", err)
		}
		prefix += "/"
	}
	return &Store{c: c, core: &minio.Core{Client: c}, bucket: o.Bucket, prefix: prefix, opts: o, quirks: q,
		log: o.Logger, clock: clock}, nil
}

// parseEndpoint accepts "host[:port]" (HTTPS) or an http(s) URL without a
// path.
func parseEndpoint(ep string) (host string, secure bool, err error) {
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", false, fmt.Errorf("s3store: endpoint %q: %w", ep, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, fmt.Errorf("s3store: endpoint %q: scheme must be http or https", ep)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return "", false, fmt.Errorf("s3store: endpoint %q must be a host name with an optional port", ep)
	}
	return u.Host, u.Scheme == "https", nil
}

// Bucket returns the bucket name; Prefix the folder in it ("" or "x/").
func (s *Store) Bucket() string { return s.bucket }

// LockPolicy implements store.Locker.
func (s *Store) LockPolicy() store.LockPolicy { return s.opts.Lock }

// Client returns the minio-go client, for tests and setup tools that
// need a request this package does not offer.
func (s *Store) Client() *minio.Client { return s.c }

func (s *Store) key(name string) string { return s.prefix + name }

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := store.ValidateName(name); err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: put %s: %w", name, err)
	}
	opts := minio.PutObjectOptions{
		PartSize:    uint64(s.opts.PartSize),
		ContentType: "application/octet-stream",
		// AWS refuses uploads with Object Lock parameters without
		// Content-MD5 (or a checksum header, which many S3-compatible
		// services do not accept): https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/s3/aws.sdk.kotlin.services.s3.model/-put-object-request/content-md5.html
		// and kopia#711. It is also an end-to-end integrity check.
		SendContentMd5: true,
		NumThreads:     2,
	}
	if s.opts.Lock.Period > 0 && !store.Unlocked(name) {
		now, err := s.Now(ctx)
		if err != nil {
			return fmt.Errorf("store: put %s: reading the server's clock: %w", name, err)
		}
		opts.Mode = minio.Compliance
		// Whole seconds, rounded up: the header has second precision.
		opts.RetainUntilDate = s.opts.Lock.Until(now).Add(time.Second).Truncate(time.Second).UTC()
	}
	body, size, err := s.prepareBody(ctx, r, size)
	if err != nil {
		return fmt.Errorf("store: put %s: %w", name, err)
	}
	if _, err := s.c.PutObject(ctx, s.bucket, s.key(name), body, size, opts); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("store: put %s: %w", name, cerr)
		}
		return fmt.Errorf("store: put %s: %w", name, s.mapErr(err))
	}
	return nil
}

// prepareBody makes the reader minio-go gets: for a known size, one that
// fails (so nothing is stored) when r holds more or fewer bytes; for an
// unknown size, up to one part is read ahead so that a small object goes
// in a single request with its MD5, and a larger one is sent in parts of
// bounded size.
func (s *Store) prepareBody(ctx context.Context, r io.Reader, size int64) (io.Reader, int64, error) {
	if size < 0 {
		head, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, s.opts.PartSize+1))
		if err != nil {
			return nil, 0, err
		}
		if int64(len(head)) <= s.opts.PartSize {
			return bytes.NewReader(head), int64(len(head)), nil
		}
		return io.MultiReader(bytes.NewReader(head), ctxReader{ctx, r}), -1, nil
	}
	if size == 0 {
		// minio-go does not read the body of an empty object: check here
		// that the reader really is empty.
		var one [1]byte
		if n, err := io.ReadFull(ctxReader{ctx, r}, one[:]); n > 0 {
			return nil, 0, errors.New("read more bytes than the 0 expected")
		} else if err != nil && err != io.EOF {
			return nil, 0, err
		}
		return bytes.NewReader(nil), 0, nil
	}
	if br, ok := r.(*bytes.Reader); ok && int64(br.Len()) == size {
		// Seekable: minio-go hashes it and sends it without a copy, and
		// can re-send it when a request is retried.
		return br, size, nil
	}
	return &exactReader{ctx: ctx, r: r, left: size}, size, nil
}

// exactReader yields exactly left bytes of r and fails if r has more or
// fewer, before the last byte is handed on, so the request is cut off
// and the server stores nothing.
type exactReader struct {
	ctx  context.Context
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if err := e.ctx.Err(); err != nil {
		return 0, err
	}
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left == 0 {
		var one [1]byte
		if m, _ := io.ReadFull(e.r, one[:]); m > 0 {
			return 0, errors.New("the data is longer than its announced size")
		}
		return n, io.EOF
	}
	if err == io.EOF {
		return 0, fmt.Errorf("the data is %d bytes shorter than its announced size: %w", e.left, io.ErrUnexpectedEOF)
	}
	return n, err
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	return s.get(ctx, name, "", offset, length)
}

func (s *Store) get(ctx context.Context, name, versionID string, offset, length int64) (io.ReadCloser, error) {
	if err := store.ValidateName(name); err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: get %s: %w", name, err)
	}
	if offset < 0 {
		return nil, fmt.Errorf("store: get %s: %w: offset %d", name, store.ErrInvalidRange, offset)
	}
	// The size first: S3 answers a range past the end with an error that
	// differs between services, and an empty range cannot be asked for.
	info, err := s.stat(ctx, name, versionID)
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", name, err)
	}
	if offset > info.Size {
		return nil, fmt.Errorf("store: get %s: %w: offset %d, object size %d", name, store.ErrInvalidRange, offset, info.Size)
	}
	n := info.Size - offset
	if length >= 0 && length < n {
		n = length
	}
	if n == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	opts := minio.GetObjectOptions{VersionID: info.VersionID}
	if err := opts.SetRange(offset, offset+n-1); err != nil {
		return nil, fmt.Errorf("store: get %s: %w", name, err)
	}
	body, _, _, err := s.core.GetObject(ctx, s.bucket, s.key(name), opts)
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", name, s.mapErr(err))
	}
	// Bounded by what was asked for, whatever the server sends.
	return &limitedBody{Reader: io.LimitReader(body, n), c: body, want: n}, nil
}

// limitedBody reports a body that ends early, which io.LimitReader alone
// would pass off as a short object.
type limitedBody struct {
	io.Reader
	c    io.Closer
	want int64
	got  int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	b.got += int64(n)
	if err == io.EOF && b.got < b.want {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }

type objInfo struct {
	Size      int64
	ModTime   time.Time
	VersionID string
}

func (s *Store) stat(ctx context.Context, name, versionID string) (objInfo, error) {
	oi, err := s.c.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{VersionID: versionID})
	if err != nil {
		return objInfo{}, s.mapErr(err)
	}
	if oi.IsDeleteMarker {
		return objInfo{}, store.ErrNotFound
	}
	if oi.Size < 0 {
		return objInfo{}, fmt.Errorf("server reports a size of %d", oi.Size)
	}
	return objInfo{Size: oi.Size, ModTime: oi.LastModified, VersionID: oi.VersionID}, nil
}

// Stat implements store.Store.
func (s *Store) Stat(ctx context.Context, name string) (store.Info, error) {
	if err := store.ValidateName(name); err != nil {
		return store.Info{}, fmt.Errorf("store: stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return store.Info{}, fmt.Errorf("store: stat %s: %w", name, err)
	}
	oi, err := s.stat(ctx, name, "")
	if err != nil {
		return store.Info{}, fmt.Errorf("store: stat %s: %w", name, err)
	}
	return store.Info{Name: name, Size: oi.Size, ModTime: oi.ModTime}, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	if err := store.ValidatePrefix(prefix); err != nil {
		return fmt.Errorf("store: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: list %q: %w", prefix, err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine when fn fails
	for oi := range s.c.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(prefix), Recursive: true}) {
		if oi.Err != nil {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("store: list %q: %w", prefix, err)
			}
			return fmt.Errorf("store: list %q: %w", prefix, s.mapErr(oi.Err))
		}
		name, ok := s.name(oi.Key)
		if !ok {
			continue
		}
		if err := fn(store.Info{Name: name, Size: oi.Size, ModTime: oi.LastModified}); err != nil {
			return fmt.Errorf("store: list %q: %w", prefix, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: list %q: %w", prefix, err)
	}
	return nil
}

// name turns a key from the server into an object name, skipping keys
// outside the prefix and names no Lifeboat store could have written.
func (s *Store) name(key string) (string, bool) {
	name, ok := strings.CutPrefix(key, s.prefix)
	if !ok || store.ValidateName(name) != nil {
		return "", false
	}
	return name, true
}

// Delete implements store.Store. On a versioned bucket it hides the name
// behind a delete marker; the versions under it stay until their lock
// lapses and DeleteVersion removes them.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := store.ValidateName(name); err != nil {
		return fmt.Errorf("store: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: delete %s: %w", name, err)
	}
	// S3 answers a delete of a missing key with success; the Store
	// contract wants ErrNotFound.
	if _, err := s.stat(ctx, name, ""); err != nil {
		return fmt.Errorf("store: delete %s: %w", name, err)
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(name), minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("store: delete %s: %w", name, s.mapErr(err))
	}
	return nil
}

// mapErr turns S3 error codes into store's sentinels, keeping the
// original error in the chain.
func (s *Store) mapErr(err error) error {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey", "NoSuchVersion", "NotFound":
		return fmt.Errorf("%w (%v)", store.ErrNotFound, err)
	case "NoSuchBucket":
		return fmt.Errorf("the bucket %q does not exist: %w", s.bucket, err)
	case "AccessDenied":
		if strings.Contains(strings.ToLower(resp.Message), "lock") || strings.Contains(strings.ToLower(resp.Message), "retention") {
			return fmt.Errorf("%w (%v)", store.ErrRetained, err)
		}
	case "InvalidRange":
		return fmt.Errorf("%w (%v)", store.ErrInvalidRange, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w (%v)", store.ErrNotFound, err)
	}
	return err
}
