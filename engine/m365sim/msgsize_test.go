package m365sim

import (
	"errors"
	"testing"
)

// TestMessageSizeLimit: attachments may take a message up to 35 MB and no
// further (attachment-createuploadsession.md: "By default, this message
// size limit is 35 MB"); an administrator's higher limit lets more in.
func TestMessageSizeLimit(t *testing.T) {
	tn := NewTenant("Contoso", "contoso.test", nil)
	u, err := tn.AddUser("paul@contoso.test", "Paul")
	if err != nil {
		t.Fatal(err)
	}
	m := &Message{ID: "m1", composed: &composedMessage{Subject: "big", Body: "hello"}}
	tn.mu.Lock()
	u.messages[m.ID] = m
	tn.mu.Unlock()
	twenty := Attachment{Name: "a.bin", Content: make([]byte, 20<<20)}
	if _, err := tn.addAttachment(u, m.ID, twenty); err != nil {
		t.Fatalf("a 20 MB attachment: %v", err)
	}
	_, err = tn.addAttachment(u, m.ID, twenty)
	var br *badRequest
	if !errors.As(err, &br) || br.code != "ErrorMessageSizeExceeded" || br.msg != "The message exceeds the maximum supported size." {
		t.Fatalf("a second 20 MB attachment: %v", err)
	}
	tn.SetMessageSizeLimit(150 << 20)
	if _, err := tn.addAttachment(u, m.ID, twenty); err != nil {
		t.Fatalf("with the limit raised: %v", err)
	}
}
