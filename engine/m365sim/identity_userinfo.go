package m365sim

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// handleUserInfo is the OpenID Connect UserInfo endpoint the OpenID
// configuration names: GET or POST graph.microsoft.com/oidc/userinfo with
// the access token, answering the claims userinfo.md lists (sub, name,
// family_name, given_name, picture, email), sub being the same pairwise
// subject as the ID token's. The simulator does not track which OpenID
// scopes a token carries, so it answers every claim.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeGraphError(w, http.StatusMethodNotAllowed, "BadRequest", "The request method is not supported for this resource.")
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", error="invalid_token"`)
		writeGraphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return
	}
	sess, err := s.idp.authenticate(tok)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", error="invalid_token"`)
		writeGraphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", err.Error())
		return
	}
	u := sess.User
	sum := sha256.Sum256([]byte(sess.ClientID + "|" + u.ID))
	writeIdentityJSON(w, http.StatusOK, map[string]any{
		"sub":         base64.RawURLEncoding.EncodeToString(sum[:]),
		"name":        u.DisplayName,
		"family_name": u.Surname,
		"given_name":  u.GivenName,
		"picture":     s.GraphURL() + "/me/photo/$value",
		"email":       u.UPN,
	})
}
