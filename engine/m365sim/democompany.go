package m365sim

// The demo bakery as a whole company, for organization mode: everyone on
// the staff, the shop's shared info@ mailbox (a shared mailbox on a
// disabled, unlicensed account, as Microsoft sets them up), the tasting
// room's room mailbox, and a baker who left last year and whose mailbox
// was converted to a shared one (disabled, unlicensed, OneDrive kept).
// The mailbox kinds follow directory.go and lifecycle.go.

import (
	"fmt"
	"mime"
	"strings"
	"time"
)

// Demo company accounts beyond the staff (DemoOptions.Company).
const (
	DemoInfoMailbox     = "info@" + DemoDomain
	DemoRoomMailbox     = "tasting.room@" + DemoDomain
	DemoFormerEmployee  = "tom.reed@" + DemoDomain
	demoFormerLeftDays  = 150 // Tom left this many days before the reference time
	demoInfoEnquiryFrac = 4   // info@ gets MessagesPerUser / 4 enquiries
)

var demoEnquiries = []string{
	"Birthday cake for Saturday",
	"Catering for 40 people",
	"Do you have gluten-free bread?",
	"Wedding cake tasting",
	"Opening hours over the holidays",
	"Order for the office party",
	"Allergen information",
	"Croissants for a breakfast meeting",
}

var demoTomSubjects = []string{
	"Rota for next week",
	"Sourdough starter feeding",
	"Early shift swap",
	"Oven 2 temperature",
	"Rye recipe notes",
	"Flour delivery is late",
}

// addDemoCompany adds the company accounts to a generated demo tenant.
func addDemoCompany(t *Tenant, seed int64, o DemoOptions) error {
	ref := DemoReferenceTime(seed)
	r := newDemoRand(demoKey(uint64(seed), 0xc0a7))
	staff := demoPeople[:o.Users]

	// info@: customer enquiries, answered by the shop.
	if _, err := t.AddUser(DemoInfoMailbox, DemoTenantName+" Info"); err != nil {
		return err
	}
	if err := t.SetUserState(DemoInfoMailbox, UserState{Mailbox: MailboxShared}); err != nil {
		return err
	}
	if _, err := t.EnsureFolderPath(DemoInfoMailbox, "Inbox/Orders"); err != nil {
		return err
	}
	n := max(1, o.MessagesPerUser/demoInfoEnquiryFrac)
	for i := range n {
		c := demoCustomers[r.intn(len(demoCustomers))]
		when := ref.Add(-time.Duration(r.int64n(int64(2 * 365 * 24 * time.Hour))))
		subj := demoEnquiries[r.intn(len(demoEnquiries))]
		folder := "inbox"
		if i%3 == 0 {
			folder = "Inbox/Orders"
		}
		mimeBytes := demoPlainMail(fmt.Sprintf("%s <%s@%s>", c.name, c.local, c.domain), DemoTenantName+" Info <"+DemoInfoMailbox+">",
			subj, when, fmt.Sprintf("info%d.%d", seed, i), fmt.Sprintf("Hello,\r\n\r\n%s: could you let me know?\r\n\r\n%s\r\n", subj, c.name))
		f, err := t.EnsureFolderPath(DemoInfoMailbox, folder)
		if err != nil {
			return err
		}
		if _, err := t.AddMessage(DemoInfoMailbox, f.ID, mimeBytes, MessageOptions{IsRead: r.intn(4) != 0}); err != nil {
			return fmt.Errorf("m365sim: demo enquiry %d: %w", i, err)
		}
	}

	// The tasting room: a room mailbox, nothing in it but its calendar.
	if _, err := t.AddUser(DemoRoomMailbox, "Tasting Room"); err != nil {
		return err
	}
	if err := t.SetUserState(DemoRoomMailbox, UserState{Mailbox: MailboxRoom}); err != nil {
		return err
	}

	// Tom, who left: mail and files up to the day he left.
	tom, err := t.AddUser(DemoFormerEmployee, "Tom Reed")
	if err != nil {
		return err
	}
	t.mu.Lock()
	tom.JobTitle = "Baker"
	t.mu.Unlock()
	left := ref.Add(-demoFormerLeftDays * 24 * time.Hour)
	for i := range max(1, o.MessagesPerUser/demoInfoEnquiryFrac) {
		from := staff[r.intn(len(staff))]
		when := left.Add(-time.Duration(r.int64n(int64(365 * 24 * time.Hour))))
		subj := demoTomSubjects[r.intn(len(demoTomSubjects))]
		mimeBytes := demoPlainMail(fmt.Sprintf("%s <%s@%s>", from.name, from.local, DemoDomain), "Tom Reed <"+DemoFormerEmployee+">",
			subj, when, fmt.Sprintf("tom%d.%d", seed, i), fmt.Sprintf("Hi Tom,\r\n\r\n%s.\r\n\r\n%s\r\n", subj, from.name))
		if _, err := t.AddMessage(DemoFormerEmployee, "inbox", mimeBytes, MessageOptions{IsRead: true}); err != nil {
			return fmt.Errorf("m365sim: demo mail of %s: %w", DemoFormerEmployee, err)
		}
	}
	for _, f := range []struct{ path, body string }{
		{"Documents/Recipes/Sourdough.txt", "Levain: 100 g starter, 100 g flour, 100 g water. Rest 4 h.\n"},
		{"Documents/Recipes/Rye.txt", "Rye 1150, 70% hydration, bake 50 min at 230 °C.\n"},
		{"Documents/Rota 2025.csv", "week,early,late\n1,Tom,Jonas\n2,Jonas,Tom\n"},
	} {
		mod := left.Add(-30 * 24 * time.Hour)
		if dir := f.path[:strings.LastIndex(f.path, "/")]; dir != "" {
			// Folders dated like the files, so the same seed gives the same tenant.
			if err := t.ensureDriveFolder(DemoFormerEmployee, dir, mod); err != nil {
				return err
			}
		}
		if _, err := t.PutFile(DemoFormerEmployee, f.path, BytesContent(f.body), mod); err != nil {
			return err
		}
	}
	// Converted to a shared mailbox when he left, as Microsoft advises:
	// disabled and unlicensed, OneDrive kept.
	return t.ConvertToShared(DemoFormerEmployee)
}

func demoPlainMail(from, to, subject string, date time.Time, id, body string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s",
		mime.QEncoding.Encode("utf-8", from), to, mime.QEncoding.Encode("utf-8", subject), date.Format(time.RFC1123Z), id, DemoDomain, body)
	return []byte(b.String())
}
