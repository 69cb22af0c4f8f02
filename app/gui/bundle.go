package gui

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/ui"
)

// logFileName is the app's log in the log folder.
const logFileName = "lifeboat.log"

// maxLogInBundle is how much of the end of each log a support bundle
// carries: enough for the last days, small enough to e-mail.
const maxLogInBundle = 2 << 20

// maxLogSize is when the app's log is started afresh (the old one is kept
// as lifeboat.log.1).
const maxLogSize = 8 << 20

// secretPatterns find what must never leave the computer, should a log
// ever hold it despite engine/auth and engine/repo keeping secrets out:
// JSON web tokens (access and ID tokens), bearer headers, token fields,
// and recovery keys (groups of five Crockford base32 characters).
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`),
	regexp.MustCompile(`(?i)bearer\s+[A-Za-z0-9._~+/=-]+`),
	regexp.MustCompile(`(?i)((?:access|refresh|id)_?token|client_secret|device_code|password|recovery_?key)("?\s*[:=]\s*"?)[^\s",}&]+`),
	regexp.MustCompile(`(?i)\b[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){3,}\b`),
}

// redactSecrets replaces anything that looks like a secret.
func redactSecrets(s string) string {
	for i, re := range secretPatterns {
		if i == 2 {
			s = re.ReplaceAllString(s, "${1}${2}[removed]")
			continue
		}
		s = re.ReplaceAllString(s, "[removed]")
	}
	return s
}

// diagnostics is ui.Diagnostics: the log folder and support bundles.
type diagnostics struct{ e *Env }

func (d diagnostics) LogFolder() string { return d.e.LogDir }

// WriteSupportBundle writes a zip with what support needs: the version and
// system, the settings, the backup history and the end of the logs. It
// never reads the sign-in cache, the keychain or the backup's keys, and
// everything it writes passes through redactSecrets.
func (d diagnostics) WriteSupportBundle(ctx context.Context, w io.Writer) error {
	z := zip.NewWriter(w)
	add := func(name, text string) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
		if err != nil {
			return fmt.Errorf("support bundle: %w", err)
		}
		_, err = io.WriteString(f, redactSecrets(text))
		return err
	}
	about := fmt.Sprintf("Lifeboat %s\n%s/%s, %s\nBundle made %s\n", d.e.Version, runtime.GOOS, runtime.GOARCH, runtime.Version(),
		time.Now().Format(time.RFC3339))
	if err := add("about.txt", about); err != nil {
		return err
	}

	st, err := d.e.svc.Settings()
	if err != nil {
		if err := add("settings-error.txt", err.Error()); err != nil {
			return err
		}
	} else {
		b, _ := json.MarshalIndent(st, "", "  ")
		if err := add("settings.json", string(b)); err != nil {
			return err
		}
	}

	var hist strings.Builder
	runs, err := history(d).Runs(ctx, 100)
	if err != nil {
		fmt.Fprintf(&hist, "The history could not be read: %v\n", err)
	}
	if len(runs) == 0 && err == nil {
		hist.WriteString("No backups yet.\n")
	}
	for _, r := range runs {
		hist.WriteString(ui.RunDetails(r))
		hist.WriteString("\n")
	}
	if err := add("history.txt", hist.String()); err != nil {
		return err
	}

	logs, _ := filepath.Glob(filepath.Join(d.e.LogDir, "*.log*"))
	sort.Strings(logs)
	for _, path := range logs {
		text, err := tailFile(path, maxLogInBundle)
		if err != nil {
			text = "cannot read: " + err.Error()
		}
		if err := add("logs/"+filepath.Base(path), text); err != nil {
			return err
		}
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("support bundle: %w", err)
	}
	return nil
}

// tailFile reads at most the last n bytes of path.
func tailFile(path string, n int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", filepath.Base(path))
	}
	if fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, io.SeekStart); err != nil {
			return "", err
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, n))
	return string(b), err
}

// openLogFile opens the app's log for appending, starting afresh when it
// has grown past maxLogSize.
func openLogFile(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("log folder: %w", err)
	}
	path := filepath.Join(dir, logFileName)
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}
