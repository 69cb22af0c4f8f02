package gui

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
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// tourS3 is a versitygw the tour starts on loopback (the tour runs outside
// a test, so s3test.Start, which needs one, is not used), with a bucket
// made as the setup instructions say: Object Lock on.
type tourS3 struct {
	endpoint, access, secret, bucket string
	cmd                              *exec.Cmd
}

func startTourS3(ctx context.Context, tmp string) (*tourS3, error) {
	bin, err := s3test.Build(ctx)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(tmp, "s3")
	for _, d := range []string{"data", "versions"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	s := &tourS3{endpoint: "http://" + addr, access: "tour" + hex.EncodeToString(b[:4]), secret: hex.EncodeToString(b), bucket: "office-backup"}
	s.cmd = exec.Command(bin, "--port", addr, "--access", s.access, "--secret", s.secret, "--quiet",
		"posix", "--versioning-dir", filepath.Join(root, "versions"), filepath.Join(root, "data"))
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.endpoint + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("tour: versitygw did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s.access, s.secret, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err == nil {
		err = c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{ObjectLocking: true})
	}
	if err == nil {
		err = c.EnableVersioning(ctx, s.bucket)
	}
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("tour: the bucket: %w", err)
	}
	return s, nil
}

func (s *tourS3) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// offsite sets up the off-site copy in Settings (the screen filled in,
// then after its check), backs up from the dashboard and shows both
// copies.
func (t *tour) offsite() error {
	gw, err := startTourS3(t.ctx, t.s.Demo.tmp)
	if err != nil {
		return err
	}
	t.stops = append(t.stops, gw.stop)
	set := t.s.Shell.Settings
	v := set.Offsite
	if v == nil {
		return errors.New("tour: Settings has no off-site copy page")
	}
	t.do(func() {
		for _, it := range set.Sections.Items {
			if it.Text == "Off-site copy" {
				set.Sections.Select(it)
			}
		}
		v.Provider.SetSelected("Other S3-compatible service")
		v.Endpoint.SetText(gw.endpoint)
		v.Region.SetText("us-east-1")
		v.Bucket.SetText(gw.bucket)
		v.AccessKey.SetText(gw.access)
		v.Secret.SetText(gw.secret)
	})
	if err := t.shotWhen(t.s.Window, "settings-offsite", "nobody can delete"); err != nil {
		return err
	}
	t.tap(v.Save)
	if err := t.waitAndShot(t.s.Window, "settings-offsite-checked", func() bool { return strings.Contains(v.Result.Text, "All set") }); err != nil {
		return err
	}
	t.do(func() { t.s.Shell.Tabs.SelectIndex(0) })
	t.do(t.s.Shell.BackUpNow)
	if err := t.until("the backup to start", func() bool { return t.s.Shell.Progress.Running() }); err != nil {
		return err
	}
	db := t.s.Shell.Dashboard
	if err := t.until("the backup and copy to finish", func() bool { return !t.s.Shell.Progress.Running() }); err != nil {
		return err
	}
	t.do(db.Refresh)
	return t.waitAndShot(t.s.Window, "dashboard-both-copies", func() bool {
		return strings.Contains(db.Details.Text, "· Off site: today at") && db.Verdict() == ui.VerdictSafe
	})
}

// alarm throws the first person's mail into Deleted Items, backs up and
// shows the dashboard's alarm.
func (t *tour) alarm() error {
	tn := t.s.Demo.Server.Tenant()
	if _, err := tn.AttackTrashMail(tn.Users()[0].UPN); err != nil {
		return fmt.Errorf("tour: %w", err)
	}
	t.do(func() { t.s.Shell.Tabs.SelectIndex(0) })
	t.do(t.s.Shell.BackUpNow)
	if err := t.until("the backup to start", func() bool { return t.s.Shell.Progress.Running() }); err != nil {
		return err
	}
	db := t.s.Shell.Dashboard
	return t.waitAndShot(t.s.Window, "dashboard-alarm", func() bool {
		return !t.s.Shell.Progress.Running() && db.Alerts.Content().Visible()
	})
}
