//go:build !linux && !darwin && !windows

package volumes

import (
	"context"
	"errors"
)

func defaultMediaRoots() []string { return nil }

func list(Options) ([]Volume, error) {
	return nil, errors.New("listing drives is not supported on this operating system")
}

func space(string) (uint64, uint64, error) {
	return 0, 0, errors.New("measuring free space is not supported on this operating system")
}

func eject(context.Context, string, EjectOptions) error { return ErrEjectUnsupported }
