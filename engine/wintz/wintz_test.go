package wintz

import (
	"testing"
	"time"
)

func TestEveryWindowsZoneLoads(t *testing.T) {
	for _, w := range Names() {
		if _, err := LoadLocation(w); err != nil {
			t.Errorf("%s: %v", w, err)
		}
	}
	if len(Names()) < 130 {
		t.Fatalf("only %d Windows zones", len(Names()))
	}
}

func TestKnownZones(t *testing.T) {
	cases := map[string]string{
		"Pacific Standard Time":   "America/Los_Angeles",
		"W. Europe Standard Time": "Europe/Berlin",
		"Tokyo Standard Time":     "Asia/Tokyo",
		"pacific standard time":   "America/Los_Angeles",
		"Europe/Amsterdam":        "Europe/Amsterdam",
		"UTC":                     "Etc/UTC",
	}
	for in, want := range cases {
		if got, ok := IANA(in); !ok || got != want {
			t.Errorf("IANA(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := IANA("Mars Standard Time"); ok {
		t.Error("an unknown zone was accepted")
	}
	if w := Windows("Europe/Berlin"); w != "W. Europe Standard Time" {
		t.Errorf("Windows(Europe/Berlin) = %q", w)
	}
	// The offsets are the zone's: Los Angeles is 8 hours behind UTC in January.
	loc, _ := LoadLocation("Pacific Standard Time")
	if _, off := time.Date(2026, 1, 15, 12, 0, 0, 0, loc).Zone(); off != -8*3600 {
		t.Errorf("offset %d", off)
	}
}
