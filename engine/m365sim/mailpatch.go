package m365sim

import (
	"fmt"
	"strings"
)

// editDraft applies the parts of an Update message request that only a
// draft takes — subject and body, "Updatable only if isDraft = true"
// (message-update.md) — to a draft created through Graph, whose MIME the
// simulator composed and can compose again. On a sent or received message
// they are ignored, as before; a draft imported as MIME keeps its bytes.
func (t *Tenant) editDraft(u *User, id string, in *messageInput) error {
	if in.Subject == nil && in.Body == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := u.messages[id]
	if !ok {
		return fmt.Errorf("%w: message %s", ErrNoItem, id)
	}
	if !m.IsDraft || m.composed == nil {
		return nil
	}
	c := *m.composed
	if in.Subject != nil {
		c.Subject = oneLine(*in.Subject)
	}
	if in.Body != nil {
		switch strings.ToLower(in.Body.ContentType) {
		case "html":
			c.BodyHTML = true
		case "text":
			c.BodyHTML = false
		case "":
		default:
			return invalid("ErrorInvalidRequest", "Invalid body contentType %q.", truncateMsg(in.Body.ContentType))
		}
		c.Body = strings.ToValidUTF8(in.Body.Content, "\uFFFD")
	}
	old := m.composed
	m.composed = &c
	if err := m.recompose(); err != nil {
		m.composed = old
		return err
	}
	m.Modified = t.now().UTC()
	m.touch(t.bump())
	return nil
}

// validInference checks an inferenceClassification: focused or other.
func validInference(s string) (string, error) {
	switch strings.ToLower(s) {
	case "focused":
		return "focused", nil
	case "other":
		return "other", nil
	}
	return "", invalid("ErrorInvalidRequest", "Invalid inferenceClassification %q.", truncateMsg(s))
}

// inferenceOf is a message's inferenceClassification, focused unless a
// client moved it to Other.
func inferenceOf(m *Message) string {
	if m.Inference == "" {
		return "focused"
	}
	return m.Inference
}
