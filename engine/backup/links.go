package backup

import (
	"context"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/graph"
)

// Link is a link to a file attached to a message (Outlook's "Share link",
// Graph's referenceAttachment). The message's MIME does not carry it, and
// Graph v1.0 names it without giving the address (graph.LinkAttachment),
// so a backup keeps what there is: its name and type. Restores say that
// such a link could not be put back.
type Link struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType,omitempty"`
}

// maxLinks bounds what one message's list may add to a snapshot page.
const maxLinks = 100

// links lists a downloaded message's links to files: only a message with
// attachments can have one, and asking costs a request per such message.
func (mr *mailRun) links(ctx context.Context, m graph.MessageMeta) ([]Link, error) {
	if !m.HasAttachments {
		return nil, nil
	}
	las, err := mr.ru.g.LinkAttachments(ctx, mr.ru.o.User, m.ID)
	if err != nil {
		return nil, err
	}
	var out []Link
	for _, la := range las {
		if len(out) == maxLinks {
			break
		}
		out = append(out, Link{Name: oneLine(la.Name), ContentType: oneLine(la.ContentType)})
	}
	return out, nil
}

// keptLinks are the links of a message whose MIME is reused: those this
// folder's previous snapshot recorded for it, else (a message known only
// from elsewhere, or a snapshot from before links were kept) asked again.
func (mr *mailRun) keptLinks(ctx context.Context, f *mailFolder, m graph.MessageMeta) (links []Link, listed bool, err error) {
	if old, ok := f.msgs[m.ID]; ok && (!m.HasAttachments || old.LinksListed) {
		return old.Links, old.LinksListed, nil
	}
	links, err = mr.links(ctx, m)
	if err != nil && !fatal(ctx, err) {
		mr.ru.log.Warn("could not list a message's links to files; asked again next time", "message", m.ID, "err", err)
		return nil, false, nil
	}
	return links, err == nil && m.HasAttachments, err
}

func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 400 {
		s = string(r[:400])
	}
	return s
}
