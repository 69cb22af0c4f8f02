package m365sim

// POST /applications/{id}/addKey: an application rolls its own certificate
// by proving it holds the private key of a still valid one.
//
// Source: https://learn.microsoft.com/graph/api/application-addkey?view=graph-rest-1.0
// ("a proof of possession of an existing key is verified"; the proof is a
// JWT signed with one of the application's existing valid certificates,
// aud 00000002-0000-0000-c000-000000000000, iss the application's object
// id, nbf, exp at most nbf + 10 minutes; "An application does not need any
// specific permission to roll its own keys"; applications without a valid
// certificate cannot use it; 200 with the new keyCredential) and
// https://learn.microsoft.com/graph/application-rollkey-prooftoken. Graph
// answers a request without a proof 403 Authorization_RequestDenied and a
// proof it cannot validate 401 Authentication_MissingOrMalformed ("Access
// Token missing or malformed."), as reported in
// microsoftgraph/msgraph-sdk-powershell#779 and
// microsoftgraph/microsoft-graph-docs-contrib#1076.

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// proofAudience is the audience addKey's proof must name (Azure AD Graph's
// application ID, as the page says).
const proofAudience = "00000002-0000-0000-c000-000000000000"

func (s *Server) handleAddKey(w http.ResponseWriter, r *http.Request) {
	oid := r.PathValue("oid")
	sess := sessionFrom(r.Context())
	o := &s.tenant.org
	o.mu.Lock()
	a := o.appByIDLocked(oid)
	var keys []KeyCredential
	var appID string
	if a != nil {
		keys, appID = append([]KeyCredential(nil), a.KeyCredentials...), a.AppID
	}
	o.mu.Unlock()
	self := sess != nil && sess.App && a != nil && strings.EqualFold(sess.ClientID, appID)
	if !self {
		if _, ok := s.allowed(w, r, appWriteDelegated, appWriteApp, func(u *User) bool {
			return a != nil && (a.OwnerID == u.ID || s.tenant.mayManageApps(u))
		}); !ok {
			return
		}
	}
	if a == nil {
		writeResourceNotFound(w, oid)
		return
	}
	var in struct {
		KeyCredential      *keyCredentialInput `json:"keyCredential"`
		PasswordCredential json.RawMessage     `json:"passwordCredential"`
		Proof              string              `json:"proof"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Proof == "" {
		writeInsufficientPrivileges(w)
		return
	}
	if !checkProof(in.Proof, oid, keys, time.Now()) {
		writeGraphError(w, http.StatusUnauthorized, "Authentication_MissingOrMalformed", "Access Token missing or malformed.")
		return
	}
	if in.KeyCredential == nil {
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "Property 'keyCredential' is required.")
		return
	}
	k, msg := keyCredentialFrom(*in.KeyCredential)
	if msg != "" {
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", msg)
		return
	}
	o.mu.Lock()
	if a = o.appByIDLocked(oid); a != nil {
		a.KeyCredentials = append(a.KeyCredentials, k)
	}
	o.mu.Unlock()
	if a == nil {
		writeResourceNotFound(w, oid)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":      s.GraphURL() + "/$metadata#microsoft.graph.keyCredential",
		"customKeyIdentifier": base64.StdEncoding.EncodeToString(thumbprintSHA1(k.Cert)),
		"displayName":         k.DisplayName,
		"endDateTime":         k.End.UTC().Format(time.RFC3339),
		"key":                 nil,
		"keyId":               k.KeyID,
		"startDateTime":       k.Start.UTC().Format(time.RFC3339),
		"type":                k.Type,
		"usage":               k.Usage,
	})
}

// checkProof validates addKey's proof of possession against the keys
// valid now.
func checkProof(proof, appObjectID string, keys []KeyCredential, now time.Time) bool {
	var claims struct {
		Aud any         `json:"aud"`
		Iss string      `json:"iss"`
		Nbf json.Number `json:"nbf"`
		Exp json.Number `json:"exp"`
	}
	jws, ok := parseSignedJWT(proof, &claims)
	if !ok {
		return false
	}
	kid := jws.header("kid")
	t1, _ := decodeB64(jws.header("x5t"))
	t256, _ := decodeB64(jws.header("x5t#S256"))
	var key *KeyCredential
	for i := range keys {
		k := &keys[i]
		if now.Before(k.Start) || !now.Before(k.End) {
			continue // only a still valid certificate may sign the proof
		}
		s1, s256 := thumbprintSHA1(k.Cert), thumbprintSHA256(k.Cert)
		if len(t1) > 0 && string(t1) == string(s1) || len(t256) > 0 && string(t256) == string(s256) ||
			kid != "" && strings.EqualFold(kid, hex.EncodeToString(s1)) {
			key = k
			break
		}
	}
	if key == nil {
		return false
	}
	pub, ok := key.Cert.PublicKey.(*rsa.PublicKey)
	if !ok || jws.verify(pub) != nil {
		return false
	}
	audOK := false
	switch v := claims.Aud.(type) {
	case string:
		audOK = v == proofAudience
	case []any:
		for _, x := range v {
			audOK = audOK || x == proofAudience
		}
	}
	nbf, errN := claims.Nbf.Int64()
	exp, errE := claims.Exp.Int64()
	if !audOK || !strings.EqualFold(claims.Iss, appObjectID) || errN != nil || errE != nil {
		return false
	}
	nbfT, expT := time.Unix(nbf, 0), time.Unix(exp, 0)
	if expT.Sub(nbfT) > 10*time.Minute || now.Add(assertionSkew).Before(nbfT) || now.After(expT.Add(assertionSkew)) {
		return false
	}
	return true
}

// Application returns a copy of an app registration by object ID or appId.
func (t *Tenant) Application(idOrAppID string) (*Application, error) {
	o := &t.org
	o.mu.Lock()
	defer o.mu.Unlock()
	a := o.appByIDLocked(idOrAppID)
	if a == nil {
		a = o.appByAppIDLocked(idOrAppID)
	}
	if a == nil {
		return nil, ErrNoApplication
	}
	return copyApp(a), nil
}
