package m365sim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
)

// signedJWT is a compact JWS as a client sends it (a client assertion, an
// addKey proof): its header, signature and the bytes the signature covers.
type signedJWT struct {
	hdr    map[string]any
	sig    []byte
	signed string
}

// parseSignedJWT splits and decodes tok, its claims into claims; false
// when it is not a well-formed JWS.
func parseSignedJWT(tok string, claims any) (signedJWT, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return signedJWT{}, false
	}
	var j signedJWT
	hb, e1 := decodeB64(parts[0])
	cb, e2 := decodeB64(parts[1])
	sig, e3 := decodeB64(parts[2])
	if e1 != nil || e2 != nil || e3 != nil || json.Unmarshal(hb, &j.hdr) != nil || json.Unmarshal(cb, claims) != nil {
		return signedJWT{}, false
	}
	j.sig, j.signed = sig, parts[0]+"."+parts[1]
	return j, true
}

// header is a string header field ("" when absent).
func (j signedJWT) header(name string) string {
	s, _ := j.hdr[name].(string)
	return s
}

// verify checks the signature with pub for the header's alg: RS256 or
// PS256, the two Microsoft's identity platform takes from clients.
func (j signedJWT) verify(pub *rsa.PublicKey) error {
	sum := sha256.Sum256([]byte(j.signed))
	switch j.header("alg") {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], j.sig)
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, sum[:], j.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	}
	return errors.New("unsupported signing algorithm")
}
