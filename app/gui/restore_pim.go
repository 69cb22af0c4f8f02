package gui

import (
	"context"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// meetingNote is what the review step says of a meeting, in the owner's
// words.
const meetingNote = "it was a meeting, so it comes back as an appointment in the calendar with the people who were invited listed in its description; nobody gets an invitation"

// pimPreview puts an event's or a contact's preview in the wizard's type.
func pimPreview(pv service.Preview, out *ui.ItemPreview) {
	if e := pv.Event; e != nil {
		ep := &ui.EventPreview{Start: e.Start, End: e.End, AllDay: e.AllDay, TimeZone: e.TimeZone, Location: e.Location, Organizer: e.Organizer,
			Attendees: e.Attendees, Repeats: e.Repeats, Changed: e.Changed, Cancelled: e.Cancelled, Body: e.Body}
		for _, a := range e.Attachments {
			ep.Attachments = append(ep.Attachments, ui.PreviewAttachment{Name: a.Name, Size: a.Size})
		}
		out.Event = ep
	}
	if c := pv.Contact; c != nil {
		out.Contact = &ui.ContactPreview{Company: c.Company, JobTitle: c.JobTitle, Emails: c.Emails, Phones: c.Phones, Address: c.Address,
			Photo: c.Photo, Notes: c.Notes}
	}
}

// pimWhere names where an event or a contact goes, as the owner knows it.
func pimWhere(st restore.Step) string {
	folder := strings.Trim(st.Folder, "/")
	if st.Item.Item.Kind == catalog.KindEvent {
		if folder == "" {
			folder = "Calendar"
		}
		return "the calendar “" + folder + "”"
	}
	if folder == "" || folder == "Contacts" {
		return "Contacts"
	}
	return "the contact folder “" + strings.TrimPrefix(folder, "Contacts/") + "”"
}

// pimWebURL is where the owner sees restored events or contacts on the
// web; "" when the restore held neither.
func pimWebURL(a catalog.Account, req ui.RestoreRequest) string {
	var events, contacts bool
	for _, it := range req.Items {
		events, contacts = events || it.Kind == ui.ItemEvent, contacts || it.Kind == ui.ItemContact
	}
	for _, f := range req.Folders {
		events, contacts = events || f.Kind == ui.ItemEvent, contacts || f.Kind == ui.ItemContact
	}
	base := "https://outlook.office.com/"
	if a.Kind == catalog.AccountPersonal {
		base = "https://outlook.live.com/"
	}
	switch {
	case events:
		return base + "calendar/"
	case contacts:
		return base + "people/"
	}
	return ""
}

// holdings is what the dashboard says the backup holds; nil when it is
// not known (no backup yet, the catalog unreadable).
func holdings(ctx context.Context, svc *service.Service) *ui.Holdings {
	n, err := svc.Holdings(ctx)
	if err != nil || n == nil {
		return nil
	}
	return &ui.Holdings{Emails: n[catalog.KindMail], Files: n[catalog.KindFile], Events: n[catalog.KindEvent], Contacts: n[catalog.KindContact]}
}
