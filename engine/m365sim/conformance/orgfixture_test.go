package conformance

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

var (
	certsOnce sync.Once
	certs     [2]simtest.Certificate
)

// orgFixture registers Lifeboat's app with a certificate and a service
// principal, and a second app without one, and returns the values the
// organization cases use: appObjectId, appId, appSpId, newAppId,
// graphSpId, mailReadWriteRoleId, newCertKey (a second certificate,
// base64 DER) and addKeyProof (signed by the registered certificate, as
// application-rollkey-prooftoken builds it).
func orgFixture(t *testing.T, tn *m365sim.Tenant) map[string]string {
	t.Helper()
	now := time.Now()
	// RSA keys take a while to make: every case shares the same two.
	certsOnce.Do(func() {
		certs[0] = simtest.NewCertificate(t, "CN=Lifeboat", now.Add(-time.Hour), now.Add(300*24*time.Hour))
		certs[1] = simtest.NewCertificate(t, "CN=Lifeboat next", now.Add(-time.Hour), now.Add(360*24*time.Hour))
	})
	cert, next := certs[0], certs[1]
	app, err := tn.RegisterApplication("Lifeboat backup", cert.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.GrantApplicationPermissions(app.AppID); err != nil {
		t.Fatal(err)
	}
	other, err := tn.RegisterApplication("My App")
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	x5t := sha1.Sum(cert.Cert.Raw)
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": b64(x5t[:])})
	body, _ := json.Marshal(map[string]any{"aud": "00000002-0000-0000-c000-000000000000", "iss": app.ID, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	signing := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, cert.Key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"appObjectId":         app.ID,
		"appId":               app.AppID,
		"appSpId":             tn.ServicePrincipalID(app.AppID),
		"newAppId":            other.AppID,
		"graphSpId":           tn.GraphServicePrincipalID(),
		"mailReadWriteRoleId": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
		"newCertKey":          base64.StdEncoding.EncodeToString(next.Cert.Raw),
		"addKeyProof":         signing + "." + b64(sig),
	}
}
