package m365sim

// Exchange Online's message size limit: "Exchange Online lets
// administrators customize the message size limit for Microsoft 365
// mailboxes, including any message attachments. By default, this message
// size limit is 35 MB" (attachment-createuploadsession.md, the tip). An
// attachment that would take a message past it fails with
// ErrorMessageSizeExceeded, "The message exceeds the maximum supported
// size." (microsoft-graph-docs issue 2561: the upload session is created,
// and the upload that completes the attachment fails). The status is not
// documented; the simulator answers 400.

// DefaultMessageSizeLimit is the default limit: 35 MB.
const DefaultMessageSizeLimit = 35 << 20

// SetMessageSizeLimit sets the mailboxes' message size limit, as an
// administrator may (up to 150 MB); 0 restores the default.
func (t *Tenant) SetMessageSizeLimit(n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.msgSizeLimit = n
}

// messageSizeLocked checks that adding a to m keeps it within the limit:
// the body and every attachment, decoded.
func (t *Tenant) messageSizeLocked(m *Message, a Attachment) error {
	limit := t.msgSizeLimit
	if limit <= 0 {
		limit = DefaultMessageSizeLimit
	}
	size := int64(len(a.Content))
	if m.composed != nil {
		size += int64(len(m.composed.Body))
	}
	for _, old := range m.Attachments {
		size += int64(len(old.Content))
	}
	if size > limit {
		return invalid("ErrorMessageSizeExceeded", "The message exceeds the maximum supported size.")
	}
	return nil
}
