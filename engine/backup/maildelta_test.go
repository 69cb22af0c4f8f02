package backup

import (
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// When Outlook evicts the mail delta tokens (m365sim.ExpireMailDelta, both
// documented answers), the next run lists the folders again: it downloads
// only what is new, records the deletions made meanwhile, and keeps one
// copy of every message.
func TestMailResyncAfterEvictedDeltaTokens(t *testing.T) {
	for _, how := range []m365sim.MailDeltaExpiry{m365sim.ExpiryGone, m365sim.ExpiryBadRequest} {
		t.Run(map[m365sim.MailDeltaExpiry]string{m365sim.ExpiryGone: "410", m365sim.ExpiryBadRequest: "400"}[how], func(t *testing.T) {
			e := newEnv(t, nil, simtest.Alice)
			first := e.mustRun(func(o *Options) { o.Only = ScopeMail })
			total := e.contents(first, KindMail)

			gone, _ := e.tn.FindMessages(simtest.Alice, "Invoice 0005")
			if err := e.tn.DeleteMessage(simtest.Alice, gone[0].ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.tn.AddMessage(simtest.Alice, "inbox", simtest.MIMEMessage(77), m365sim.MessageOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := e.tn.ExpireMailDelta(simtest.Alice, "", how); err != nil {
				t.Fatal(err)
			}
			e.srv.Requests().Reset()
			res := e.mustRun(func(o *Options) { o.Only = ScopeMail })
			if res.Status != catalog.RunCompleted {
				t.Fatalf("status %s, warnings %v, skipped %v", res.Status, res.Warnings, res.Skipped)
			}
			refused := 0
			for _, r := range e.srv.Requests().Entries() {
				if strings.Contains(r.Path, "delta") && (r.Status == 410 || r.Status == 400) {
					refused++
				}
			}
			if refused < 2 { // the folder list and at least one folder
				t.Errorf("%d delta requests were refused: the run never met the evicted tokens", refused)
			}
			if n := e.srv.Requests().Count("$value"); n != 1 || res.Downloads != 1 {
				t.Errorf("the resync downloaded %d messages (%d), want only the new one:\n%s", n, res.Downloads, strings.Join(e.srv.Requests().Summary(), "\n"))
			}
			if res.Counts.ItemsDeleted != 1 || res.Counts.ItemsNew != 1 {
				t.Errorf("counts %+v, want one deleted and one new", res.Counts)
			}
			e.checkMail(res) // every message once, byte for byte
			if got, want := countMessages(e.contents(res, KindMail)), countMessages(total); got != want {
				t.Errorf("%d messages after the resync, %d before (one deleted, one added)", got, want)
			}
			del, err := e.c.RecentlyDeleted(t.Context(), e.acct.HomeID, 10)
			if err != nil || len(del) != 1 || !strings.Contains(del[0].Name, "Invoice 0005") {
				t.Fatalf("recently deleted: %v %+v", err, del)
			}
			// The links stored by the resync work: a run without changes
			// downloads nothing and changes nothing.
			res = e.mustRun(func(o *Options) { o.Only = ScopeMail })
			if res.Downloads != 0 || res.Counts.ItemsNew+res.Counts.ItemsDeleted+res.Counts.ItemsChanged != 0 {
				t.Errorf("after the resync: %d downloads, counts %+v", res.Downloads, res.Counts)
			}
		})
	}
}

func countMessages(c *Contents) int {
	n := 0
	for _, f := range c.Folders {
		n += len(f.Messages)
	}
	return n
}
