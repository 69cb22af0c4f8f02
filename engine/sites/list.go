package sites

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// Library is one document library of a site.
type Library struct {
	DriveID string `json:"driveId"`
	Name    string `json:"name"`
	WebURL  string `json:"webUrl,omitempty"`
}

// Site is one SharePoint site.
type Site struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	WebURL      string    `json:"webUrl"`
	FirstSeen   time.Time `json:"firstSeen"`
	// Excluded: the owner chose not to back it up (its copies stay).
	Excluded bool `json:"excluded,omitempty"`
	// Gone is when Microsoft stopped listing the site.
	Gone time.Time `json:"gone,omitzero"`
	// Libraries as last listed, and when; a known site's libraries are
	// listed again once LibrariesChecked is older than RecheckLibraries.
	Libraries        []Library `json:"libraries,omitempty"`
	LibrariesChecked time.Time `json:"librariesChecked,omitzero"`
}

// Name is how the owner knows the site.
func (s Site) Name() string {
	if s.DisplayName != "" {
		return s.DisplayName
	}
	return s.WebURL
}

// RecheckLibraries is how often a known site's list of libraries is read
// again: a new site is found at the next run, a new library of a known
// site within a day, so a backup with no change costs about one request
// per library.
const RecheckLibraries = 24 * time.Hour

// List is every site Lifeboat knows, by site ID.
type List struct {
	Sites map[string]*Site `json:"sites"`
}

// Observed is a site as Microsoft lists it now.
type Observed struct {
	ID, DisplayName, WebURL string
}

// Update records what Microsoft lists now: new sites are added (IDs
// returned in added), sites no longer listed marked gone.
func (l *List) Update(now time.Time, seen []Observed) (added, gone []string) {
	if l.Sites == nil {
		l.Sites = map[string]*Site{}
	}
	listed := map[string]bool{}
	for _, o := range seen {
		listed[o.ID] = true
		s := l.Sites[o.ID]
		if s == nil {
			s = &Site{ID: o.ID, FirstSeen: now}
			l.Sites[o.ID] = s
			added = append(added, o.ID)
		}
		s.DisplayName, s.WebURL, s.Gone = o.DisplayName, o.WebURL, time.Time{}
	}
	for id, s := range l.Sites {
		if !listed[id] && s.Gone.IsZero() {
			s.Gone = now
			gone = append(gone, id)
		}
	}
	sort.Strings(added)
	sort.Strings(gone)
	return added, gone
}

// Sorted is the sites by name.
func (l *List) Sorted() []Site {
	out := make([]Site, 0, len(l.Sites))
	for _, s := range l.Sites {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name()), strings.ToLower(out[j].Name())
		if a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Find finds a site by ID, name or address (case-insensitive).
func (l *List) Find(key string) (*Site, bool) {
	if s, ok := l.Sites[key]; ok {
		return s, true
	}
	k := strings.TrimRight(key, "/")
	for _, s := range l.Sites {
		if strings.EqualFold(s.DisplayName, k) || strings.EqualFold(strings.TrimRight(s.WebURL, "/"), k) {
			return s, true
		}
	}
	return nil, false
}

// Load reads a list file; a missing file is an empty list.
func Load(path string) (List, error) {
	l := List{Sites: map[string]*Site{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("read the list of sites: %w", err)
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("read the list of sites (%s): %w", path, err)
	}
	if l.Sites == nil {
		l.Sites = map[string]*Site{}
	}
	return l, nil
}

// Save writes the list atomically.
func Save(path string, l List) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	if err := secret.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("save the list of sites: %w", err)
	}
	return nil
}
