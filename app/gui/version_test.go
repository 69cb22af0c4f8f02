package gui

import "testing"

func TestParseBuild(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"1", 1},
		{"42", 42},
		{"-3", 0},
		{"7a", 0},
		{"99999999999999999999999", 0},
	} {
		if got := parseBuild(c.in); got != c.want {
			t.Errorf("parseBuild(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// The metadata the About screen reads is the stamped version, under the
// app ID that keys preferences.
func TestAppMetadata(t *testing.T) {
	const version, build = "1.2.3", "7"
	m := Metadata(version, build)
	if m.ID != AppID || m.Name != "Lifeboat" || m.Version != version {
		t.Fatalf("metadata = %+v, want ID %q, Name Lifeboat, Version %q", m, AppID, version)
	}
	if m.Icon == nil || len(m.Icon.Content()) == 0 {
		t.Fatal("metadata has no icon")
	}
	if m.Build != 7 || !m.Release {
		t.Fatalf("metadata build %d release %v for stamp %q", m.Build, m.Release, build)
	}
}

// An unstamped build is not a release.
func TestAppMetadataUnstamped(t *testing.T) {
	if m := Metadata("0.1.0-dev", ""); m.Build != 0 || m.Release {
		t.Fatalf("unstamped metadata: %+v", m)
	}
}
