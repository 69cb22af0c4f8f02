package m365sim

import (
	"net/http"
	"slices"
	"strings"
)

// sendMailRoutes serves user: sendMail (POST /me/sendMail and
// /users/{id}/sendMail): the JSON body {"message": message,
// "saveToSentItems": bool (default true)} is answered 202 Accepted with no
// body. It needs the delegated Mail.Send permission, which Mail.ReadWrite
// does not include. Recipients in the tenant receive the message in their
// Inbox; other addresses are accepted and go nowhere.
func (s *Server) sendMailRoutes(mux *http.ServeMux) {
	s.userRoute(mux, "POST", "/sendMail", true, s.handleSendMail)
}

func (s *Server) handleSendMail(w http.ResponseWriter, r *http.Request, u *User) {
	if !holds(sessionFrom(r.Context()), "Mail.Send") {
		writeGraphError(w, http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
		return
	}
	var in struct {
		Message         *messageInput `json:"message"`
		SaveToSentItems odataBool     `json:"saveToSentItems"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Message == nil {
		writeGraphError(w, http.StatusBadRequest, "ErrorInvalidRequest", "The message parameter is missing.")
		return
	}
	if err := s.tenant.sendMail(u, in.Message, !in.SaveToSentItems.Set || in.SaveToSentItems.Value); err != nil {
		writeBadRequest(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// sendMail delivers a composed message: to each recipient in the tenant
// (without the Bcc header) and, when asked, to the sender's Sent Items.
func (t *Tenant) sendMail(u *User, in *messageInput, saveToSent bool) error {
	now := t.now().UTC()
	c, st, err := parseMessageInput(in, now)
	if err != nil {
		return err
	}
	if len(c.To)+len(c.Cc)+len(c.Bcc) == 0 {
		return invalid("ErrorInvalidRecipients", "At least one recipient is not valid., A message can't be sent because it contains no recipients.")
	}
	// Sent with delegated permissions, the message is from the signed-in user.
	c.From = &Recipient{Name: u.DisplayName, Address: u.UPN}
	c.Sender = nil
	if c.InternetMessageID == "" {
		c.InternetMessageID = "<" + strings.ToUpper(strings.ReplaceAll(newGUID(), "-", "")) + "@" + t.Domain + ">"
	}
	withBcc := composeMIME(c, st.attachments)
	delivered := *c
	delivered.Bcc = nil
	mime := composeMIME(&delivered, st.attachments)
	seen := map[string]bool{}
	for _, rcpt := range slices.Concat(c.To, c.Cc, c.Bcc) {
		addr := strings.ToLower(rcpt.Address)
		if seen[addr] {
			continue
		}
		seen[addr] = true
		if _, err := t.User(addr); err != nil {
			continue // outside the tenant: accepted, not simulated further
		}
		if _, err := t.AddMessage(addr, "inbox", mime, MessageOptions{}); err != nil {
			return err
		}
	}
	if saveToSent {
		if _, err := t.AddMessage(u.UPN, "sentitems", withBcc, MessageOptions{IsRead: true}); err != nil {
			return err
		}
	}
	return nil
}
