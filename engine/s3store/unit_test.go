package s3store

import (
	"testing"
	"time"
)

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in     string
		host   string
		secure bool
		bad    bool
	}{
		{"s3.eu-central-1.wasabisys.com", "s3.eu-central-1.wasabisys.com", true, false},
		{"https://nas.local:9000", "nas.local:9000", true, false},
		{"http://127.0.0.1:7070/", "127.0.0.1:7070", false, false},
		{"ftp://x", "", false, true},
		{"https://host/path", "", false, true},
		{"https://user:pw@host", "", false, true},
	} {
		h, s, err := parseEndpoint(tc.in)
		if (err != nil) != tc.bad || h != tc.host || s != tc.secure {
			t.Errorf("parseEndpoint(%q) = %q, %v, %v", tc.in, h, s, err)
		}
	}
}

func TestRegionFromEndpoint(t *testing.T) {
	for _, tc := range []struct {
		p          ProviderID
		host, want string
	}{
		{Backblaze, "s3.us-west-004.backblazeb2.com", "us-west-004"},
		{Wasabi, "s3.eu-central-2.wasabisys.com:443", "eu-central-2"},
		{SynologyC2, "eu-002.s3.synologyc2.net", "eu-002"},
		{Other, "s3.us-west-004.backblazeb2.com", ""},
	} {
		if got := regionFromEndpoint(tc.p, tc.host); got != tc.want {
			t.Errorf("regionFromEndpoint(%s, %s) = %q, want %q", tc.p, tc.host, got, tc.want)
		}
	}
}

func TestULIDTime(t *testing.T) {
	// 01ARZ3NDEKTSV4RRFFQ69G5FAV is the ULID spec's example: 1469922850259 ms.
	got, ok := ulidTime("01ARZ3NDEKTSV4RRFFQ69G5FAV")
	if !ok || !got.Equal(time.UnixMilli(1469922850259)) {
		t.Fatalf("ulidTime = %v, %v", got, ok)
	}
	for _, bad := range []string{"", "null", "01ARZ3NDEKTSV4RRFFQ69G5FA", "01ARZ3NDEUTSV4RRFFQ69G5FAV", "ZZZZZZZZZZTSV4RRFFQ69G5FAV"} {
		if _, ok := ulidTime(bad); ok {
			t.Errorf("ulidTime(%q) accepted", bad)
		}
	}
}
