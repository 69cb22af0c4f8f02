package wintz

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the same zones on every OS
)

// IANA returns the IANA zone for a Windows zone name, or the name itself
// when it already is an IANA zone (Graph accepts both in dateTimeTimeZone).
// ok is false for a name that is neither.
func IANA(name string) (string, bool) {
	name = strings.TrimSpace(name)
	if iana, ok := windowsToIANA[name]; ok {
		return iana, true
	}
	for w, iana := range windowsToIANA {
		if strings.EqualFold(w, name) {
			return iana, true
		}
	}
	if name == "" {
		return "", false
	}
	if strings.Contains(name, "/") {
		if _, err := time.LoadLocation(name); err == nil {
			return name, true
		}
	}
	return "", false
}

// LoadLocation loads the zone a Windows (or IANA) zone name stands for.
func LoadLocation(name string) (*time.Location, error) {
	iana, ok := IANA(name)
	if !ok {
		return nil, fmt.Errorf("wintz: unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(iana)
	if err != nil {
		return nil, fmt.Errorf("wintz: time zone %q (%s): %w", name, iana, err)
	}
	return loc, nil
}

var reverse = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(windowsToIANA))
	keys := make([]string, 0, len(windowsToIANA))
	for w := range windowsToIANA {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	for _, w := range keys {
		if _, dup := m[windowsToIANA[w]]; !dup {
			m[windowsToIANA[w]] = w
		}
	}
	return m
})

// Windows returns the Windows zone name whose default zone is iana, or ""
// when CLDR maps none to it.
func Windows(iana string) string { return reverse()[iana] }

// Names returns every Windows zone name known, sorted.
func Names() []string {
	out := make([]string, 0, len(windowsToIANA))
	for w := range windowsToIANA {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}
