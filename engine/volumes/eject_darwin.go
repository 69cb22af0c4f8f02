package volumes

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// eject asks diskutil to eject the volume holding folder: it unmounts
// every volume of the disk and ejects it, like the Finder's eject button.
func eject(ctx context.Context, folder string, _ EjectOptions) error {
	abs, err := filepath.Abs(folder)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(abs, "/Volumes/") {
		return fmt.Errorf("%w: %s is not on an external drive", ErrEjectUnsupported, folder)
	}
	parts := strings.SplitN(strings.TrimPrefix(abs, "/Volumes/"), "/", 2)
	out, err := exec.CommandContext(ctx, "diskutil", "eject", "/Volumes/"+parts[0]).CombinedOutput()
	if err != nil {
		return fmt.Errorf("volumes: the drive could not be ejected (a program may still be using it): %s: %w", strings.TrimSpace(string(out)), err)
	}
	return nil
}
