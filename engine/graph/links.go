package graph

import (
	"context"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// LinkAttachment is a link to a file attached to a message (Graph's
// referenceAttachment, Outlook's "Share link"). Graph v1.0 gives its name
// and type only, not the link itself (referenceattachment.md, v1.0), and
// the message's MIME does not carry it: a backup that keeps the MIME alone
// would not know it was there.
type LinkAttachment struct {
	Name        string
	ContentType string
	IsInline    bool
	Modified    time.Time
}

// LinkAttachments lists a message's reference attachments. It asks for the
// attachments' names and types only, so file attachments' bytes (already
// in the MIME) are not downloaded again.
func (c *Client) LinkAttachments(ctx context.Context, user, msgID string) ([]LinkAttachment, error) {
	resp, err := c.user(user).Messages().ByMessageId(msgID).Attachments().Get(ctx, &users.ItemMessagesItemAttachmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMessagesItemAttachmentsRequestBuilderGetQueryParameters{
			Select: []string{"id", "name", "contentType", "isInline", "lastModifiedDateTime"}},
	})
	if err != nil {
		return nil, withOp("list attachments", err)
	}
	var out []LinkAttachment
	if resp == nil {
		return nil, nil
	}
	for _, a := range resp.GetValue() {
		// By the concrete type: v1.0's ReferenceAttachmentable adds no
		// method to Attachmentable, so every attachment satisfies it.
		if _, ok := a.(*models.ReferenceAttachment); !ok {
			continue
		}
		la := LinkAttachment{Name: str(a.GetName()), ContentType: str(a.GetContentType()), IsInline: boolean(a.GetIsInline())}
		if t := a.GetLastModifiedDateTime(); t != nil {
			la.Modified = t.UTC()
		}
		out = append(out, la)
	}
	return out, nil
}
