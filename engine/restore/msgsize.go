package restore

import (
	"errors"
	"fmt"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/health"
)

// mailSizeLimit is Microsoft 365's default message size limit, attachments
// included: 35 MB (learn.microsoft.com/graph/api/attachment-createuploadsession,
// the tip). Administrators may raise it to 150 MB, so a restore tries, and
// says plainly why when Outlook refuses.
const mailSizeLimit = 35 << 20

// TooLargeError is an email Outlook refused to take back because it is
// larger than the mailbox's message size limit.
type TooLargeError struct {
	Name string
	Size int64
	Err  error
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the email %q (about %s) is larger than this mailbox accepts for one email (Microsoft 365 allows 35 MB "+
		"unless an administrator raised the limit), so it was not put back. Restore it to a folder on this computer instead: "+
		"it is saved there whole, as an .eml file that Outlook opens", e.Name, health.Bytes(uint64(max(e.Size, 0)/4*3)))
}

func (e *TooLargeError) Unwrap() error { return e.Err }

// explainMailWrite turns Outlook's refusal of an email's size into a
// TooLargeError, and wraps other errors.
func explainMailWrite(s *Step, err error) error {
	var ge *graph.Error
	if errors.As(err, &ge) && ge.Code == "ErrorMessageSizeExceeded" {
		return &TooLargeError{Name: s.Item.Name, Size: s.Item.Size, Err: err}
	}
	return fmt.Errorf("restore: message %q: %w", s.Item.Name, err)
}

// sizeNotes warn, before a restore into a mailbox, about the emails that
// are likely past the default limit: their attachments, decoded (about ¾
// of the MIME), come to more than 35 MB.
func sizeNotes(steps []Step) []string {
	var out []string
	for _, s := range steps {
		if s.Item.Item.Kind != catalog.KindMail || s.Action == ActionSkip || s.Action == ActionDone {
			continue
		}
		if s.Item.Size/4*3 > mailSizeLimit {
			out = append(out, fmt.Sprintf("The email %q is about %s: more than the 35 MB Microsoft 365 accepts for one email unless "+
				"an administrator raised the limit. If Outlook refuses it, restore it to a folder on this computer instead.",
				s.Item.Name, health.Bytes(uint64(s.Item.Size/4*3))))
		}
	}
	return out
}
