package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The restore wizard's words: dates, sizes, folders and the dry-run
// sentences, in the owner's language.

func rwItoa(n int) string { return strconv.Itoa(n) }

func rwPick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func rwCountNoun(n int, k ItemKind) string {
	switch k {
	case ItemEmail:
		return rwItoa(n) + rwPick(n, " email", " emails")
	case ItemFile:
		return rwItoa(n) + rwPick(n, " file", " files")
	case ItemEvent:
		return rwItoa(n) + rwPick(n, " calendar event", " calendar events")
	case ItemContact:
		return rwItoa(n) + rwPick(n, " contact", " contacts")
	}
	return rwItoa(n) + rwPick(n, " item", " items")
}

func rwOrNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(no subject)"
	}
	return s
}

// rwShortDate is a date for a list rwColumn: "Today 14:03", "Yesterday 09:12",
// "24 Nov 14:03" this year, "24 Nov 2025" before.
func rwShortDate(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return "Today " + t.Format("15:04")
	case rwSameDay(t, now.AddDate(0, 0, -1)):
		return "Yesterday " + t.Format("15:04")
	case y1 == y2:
		return t.Format("2 Jan 15:04")
	}
	return t.Format("2 Jan 2006")
}

// rwInSentence lowercases a leading "Today"/"Yesterday" of a short date
// used inside a sentence.
func rwInSentence(s string) string {
	for _, w := range []string{"Today", "Yesterday"} {
		if strings.HasPrefix(s, w) {
			return strings.ToLower(w) + s[len(w):]
		}
	}
	return s
}

// rwSizeShort is a size for a list column: never wider than "999 KB"
// (anything under a kilobyte shows as 1 KB, as Explorer and Finder do).
func rwSizeShort(n int64) string {
	if n >= 0 && n < 1000 {
		if n == 0 {
			return "0 KB"
		}
		return "1 KB"
	}
	return rwSize(n)
}

// rwLongDate is a date in a sentence: "Tuesday 24 November 2026 at 14:03",
// or "today at 14:03".
func rwLongDate(t, now time.Time) string {
	if t.IsZero() {
		return "an unknown date"
	}
	t = t.In(now.Location())
	switch {
	case rwSameDay(t, now):
		return "today at " + t.Format("15:04")
	case rwSameDay(t, now.AddDate(0, 0, -1)):
		return "yesterday at " + t.Format("15:04")
	}
	return t.Format("Monday 2 January 2006 at 15:04")
}

func rwSameDay(a, b time.Time) bool {
	y1, m1, d1 := a.Date()
	y2, m2, d2 := b.Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// rwSize is a size as a person reads it: "980 bytes", "24 KB", "1.2 MB".
func rwSize(n int64) string {
	switch {
	case n < 0:
		return ""
	case n < 1000:
		return rwItoa(int(n)) + rwPick(int(n), " byte", " bytes")
	case n < 1000*1000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	case n < 1000*1000*1000:
		return rwTrimZero(float64(n)/1e6) + " MB"
	}
	return rwTrimZero(float64(n)/1e9) + " GB"
}

func rwTrimZero(f float64) string {
	s := fmt.Sprintf("%.1f", math.Round(f*10)/10)
	return strings.TrimSuffix(s, ".0")
}

// rwFolderText names a folder: mail folders by their path, files' folders
// inside "OneDrive".
func rwFolderText(folder string, k ItemKind) string {
	folder = strings.Trim(folder, "/")
	if k == ItemFile {
		if folder == "" {
			return "OneDrive"
		}
		return "OneDrive/" + folder
	}
	if k == ItemEvent {
		if folder == "" {
			return "the calendar"
		}
		return "the calendar “" + folder + "”"
	}
	if k == ItemContact {
		// Contact folders are below the default one, "Contacts".
		if sub := strings.TrimPrefix(folder, "Contacts/"); sub != folder && sub != "" {
			return sub
		}
		if folder == "" {
			return "Contacts"
		}
		return folder
	}
	if folder == "" {
		return "the mailbox"
	}
	return folder
}

func rwFolderName(folder string) string {
	folder = strings.Trim(folder, "/")
	if i := strings.LastIndex(folder, "/"); i >= 0 {
		return folder[i+1:]
	}
	return folder
}

func rwBreadcrumb(folder string, k ItemKind) string {
	top := "All folders"
	if k == ItemFile {
		top = "OneDrive"
	}
	folder = strings.Trim(folder, "/")
	if folder == "" {
		return top
	}
	return top + " › " + strings.ReplaceAll(folder, "/", " › ")
}

func rwAccountLabel(a RestoreAccount) string {
	switch {
	case a.Name != "" && a.Email != "" && a.Name != a.Email:
		return a.Name + " (" + a.Email + ")"
	case a.Name != "":
		return a.Name
	}
	return a.Email
}

func rwPossessive(a RestoreAccount) string {
	n := a.Name
	if n == "" {
		n = a.Email
	}
	if n == "" {
		return ""
	}
	if strings.HasSuffix(n, "s") {
		return n + "'"
	}
	return n + "'s"
}

// rwWhoseThing is "Paul Baker's mailbox" or "Paul Baker's OneDrive".
func rwWhoseThing(a RestoreAccount, k ItemKind) string {
	thing := "mailbox"
	switch k {
	case ItemFile:
		thing = "OneDrive"
	case ItemEvent:
		thing = "calendars"
	case ItemContact:
		thing = "address book"
	}
	if p := rwPossessive(a); p != "" {
		return p + " " + thing
	}
	return "the " + thing
}

// rwWhoseSuffix is " in Paul Baker's mailbox", or "" for an unknown owner.
func rwWhoseSuffix(a RestoreAccount, k ItemKind) string {
	if rwPossessive(a) == "" {
		return ""
	}
	if k == ItemFile {
		return " (" + rwWhoseThing(a, k) + ")"
	}
	return " in " + rwWhoseThing(a, k)
}

// rwChosenText is the footer's "3 emails and 1 folder chosen".
func rwChosenText(chosen []RestoreItem) string {
	var mail, files, events, contacts, folders int
	for _, c := range chosen {
		switch {
		case c.IsFolder:
			folders++
		case c.Kind == ItemEmail:
			mail++
		case c.Kind == ItemEvent:
			events++
		case c.Kind == ItemContact:
			contacts++
		default:
			files++
		}
	}
	var parts []string
	if mail > 0 {
		parts = append(parts, rwCountNoun(mail, ItemEmail))
	}
	if events > 0 {
		parts = append(parts, rwCountNoun(events, ItemEvent))
	}
	if contacts > 0 {
		parts = append(parts, rwCountNoun(contacts, ItemContact))
	}
	if files > 0 {
		parts = append(parts, rwCountNoun(files, ItemFile))
	}
	if folders > 0 {
		parts = append(parts, rwItoa(folders)+rwPick(folders, " folder", " folders"))
	}
	return rwJoinAnd(parts) + " chosen"
}

func rwJoinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// rwExplain turns an error into what went wrong and what to do.
func rwExplain(err error) (what, todo string) {
	var p *RestoreProblem
	if errors.As(err, &p) {
		todo = p.Todo
		if todo == "" {
			todo = "Please try again."
		}
		return p.What, todo
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "This took too long.", "Check that your backup drive is connected and try again."
	}
	return "Something went wrong.", "Check that your backup drive is connected and that you are online, then try again."
}

// rwMaxPlanLines caps the review's list of individual items.
const rwMaxPlanLines = 50

// rwPlanSentences is the dry run in plain words: one summary sentence, then
// a line per destination folder and one per item that is in the way.
func rwPlanSentences(p RestorePlan, to RestoreTarget) (string, []string) {
	type group struct {
		kind  ItemKind
		where string
	}
	var order []group
	counts := map[group]int{}
	var conflicts []string
	var mail, files, events, contacts, skipped, done int
	var notes []string
	for _, s := range p.Steps {
		if s.Action == PlanSkip {
			skipped++
		} else if s.Action == PlanDone {
			done++
			continue
		} else if s.Kind == ItemEmail {
			mail++
		} else if s.Kind == ItemEvent {
			events++
		} else if s.Kind == ItemContact {
			contacts++
		} else {
			files++
		}
		if s.Note != "" && len(notes) < rwMaxPlanLines {
			notes = append(notes, "• "+rwOrNone(s.Name)+": "+s.Note)
		}
		if s.Action == PlanCreate {
			g := group{s.Kind, s.Where}
			if counts[g] == 0 {
				order = append(order, g)
			}
			counts[g]++
			continue
		}
		if s.Action != PlanDone {
			conflicts = append(conflicts, rwConflictSentence(s))
		}
	}
	var lines []string
	verb := "will be put back in"
	switch to {
	case ToNewFolder:
		verb = "will be put in"
	case ToComputer:
		verb = "will be saved in"
	}
	for _, g := range order {
		n := counts[g]
		lines = append(lines, "• "+rwCountNoun(n, g.kind)+" "+verb+" "+g.where)
	}
	if done > 0 {
		lines = append(lines, "• "+rwCountNoun(done, 0)+rwWasWere(done)+" already put back by the attempt that was stopped; Lifeboat will not do "+rwPick(done, "it", "them")+" again")
	}
	lines = append(lines, notes...)
	for i, c := range conflicts {
		if len(lines) >= rwMaxPlanLines {
			lines = append(lines, "…and "+rwItoa(len(conflicts)-i)+" more that are already there.")
			break
		}
		lines = append(lines, "• "+c)
	}

	var what []string
	if mail > 0 {
		what = append(what, rwCountNoun(mail, ItemEmail))
	}
	if files > 0 {
		what = append(what, rwCountNoun(files, ItemFile))
	}
	if events > 0 {
		what = append(what, rwCountNoun(events, ItemEvent))
	}
	if contacts > 0 {
		what = append(what, rwCountNoun(contacts, ItemContact))
	}
	var summary string
	switch {
	case len(p.Steps) == 0:
		summary = "There is nothing to restore in what you chose."
	case len(what) == 0 && done > 0:
		summary = "Everything you chose was already put back by the attempt that was stopped."
	case len(what) == 0:
		summary = "Nothing will be restored: everything you chose is already there and will be left as it is."
	default:
		summary = "Lifeboat will restore " + rwJoinAnd(what)
		if p.Bytes > 0 {
			summary += " (" + rwSize(p.Bytes) + ")"
		}
		summary += "."
		if skipped > 0 {
			summary += " " + rwCountNoun(skipped, 0) + rwPick(skipped, " is", " are") + " already there and will be left as " + rwPick(skipped, "it is.", "they are.")
		}
	}
	return summary, lines
}

func rwConflictSentence(s PlanStep) string {
	name := rwOrNone(s.Name)
	if s.Kind == ItemEmail {
		name = "“" + name + "”"
	}
	there := name + " exists in " + s.Where + "; Lifeboat will "
	switch s.Action {
	case PlanRename:
		if s.NewName != "" && s.NewName != s.Name {
			return there + "keep both and name the restored one " + s.NewName
		}
		return there + "keep both"
	case PlanOverwrite:
		return there + "replace it with the backed-up version"
	}
	return there + "leave it as it is and not restore this one"
}

// rwPlanWork is how many items a plan would restore.
func rwPlanWork(p RestorePlan) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action != PlanSkip && s.Action != PlanDone {
			n++
		}
	}
	return n
}

// rwPlanConflicts is how many items of a plan are in the way of something.
func rwPlanConflicts(p RestorePlan) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action != PlanCreate && s.Action != PlanDone {
			n++
		}
	}
	return n
}

// rwFileURL is a file:// address for a local folder.
func rwFileURL(dir string) string {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: C:/x becomes /C:/x
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

func rwWasWere(n int) string { return rwPick(n, " was", " were") }
