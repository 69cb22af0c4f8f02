package store

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

func TestValidateName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"config", true},
		{"data/3f/3fa9c0ffee", true},
		{"snapshots/2024-05-01T10-00-00Z", true},
		{".hidden", true},
		{"a/..b", true},
		{"tmp-not-temp", true},
		{"x.tmp-", true},
		{"com", true},
		{"com10", true},
		{"console", true},
		{"", false},
		{"/abs", false},
		{"a/", false},
		{"a//b", false},
		{"..", false},
		{"a/../b", false},
		{"a/./b", false},
		{`a\b`, false},
		{"C:/x", false},
		{"a:b", false},
		{"a\x00b", false},
		{"a\x7fb", false},
		{".tmp-x", false},
		{"a/.tmp-", false},
		{"x.", false},
		{"x ", false},
		{"AUX", false},
		{"Lpt9.log", false},
		{"con .txt", false},
		{"a<b", false},
		{"\xc3", false},
	}
	for _, tc := range cases {
		err := ValidateName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, does not wrap ErrInvalidName", tc.name, err)
		}
	}
}

func TestIsDiskFull(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{fmt.Errorf("copy: %w", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), true},
		{&fs.PathError{Op: "write", Path: "x", Err: syscall.EIO}, false},
		{errors.New("other"), false},
	}
	for _, tc := range cases {
		if got := isDiskFull(tc.err); got != tc.want {
			t.Errorf("isDiskFull(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
