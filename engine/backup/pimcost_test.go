package backup

import (
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// The no-change cost on the demo company's people (two calendars and two
// contact folders each, a weekly series with exceptions, photos): about
// one request per calendar and per contact folder, from the request log.
func TestDemoCalendarContactsNoChangeCost(t *testing.T) {
	tn, err := m365sim.GenerateDemo(1, m365sim.DemoOptions{Scale: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range tn.Users() {
		e := newEnv(t, tn, u.UPN)
		first := e.mustRun(func(o *Options) { o.Only = ScopeCalendar })
		e.mustRun(func(o *Options) { o.Only = ScopeContacts })
		cals, _ := tn.Calendars(u.UPN)
		folders, _ := tn.ContactFolders(u.UPN)
		e.srv.Requests().Reset()
		e.mustRun(func(o *Options) { o.Only = ScopeCalendar })
		e.mustRun(func(o *Options) { o.Only = ScopeContacts })
		total := e.srv.Requests().Total()
		t.Logf("%s: %d events backed up; no change: %d requests for %d calendars and %d contact folders\n%s",
			u.UPN, first.Counts.ItemsNew, total, len(cals), len(folders), strings.Join(e.srv.Requests().Summary(), "\n"))
		if want := len(cals) + len(folders) + 2; total > want || first.Counts.ItemsNew == 0 {
			t.Errorf("%s: a no-change run made %d requests, want at most %d", u.UPN, total, want)
		}
	}
}
