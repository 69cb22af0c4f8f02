package simtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// Certificate is a self-signed RSA certificate and its key, as an app
// registration's credential.
type Certificate struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// NewCertificate makes a self-signed 2048-bit RSA certificate valid from
// notBefore to notAfter (MSAL Go's certificate credential takes RSA keys
// only).
func NewCertificate(t testing.TB, subject string, notBefore, notAfter time.Time) Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: subject},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return Certificate{Cert: cert, Key: key}
}

// ConfidentialClient returns the real MSAL confidential client for appID
// with the certificate credential, wired to srv's tenant-specific
// authority and CA.
func ConfidentialClient(t testing.TB, srv *m365sim.Server, appID string, c Certificate, opts ...confidential.Option) confidential.Client {
	t.Helper()
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{c.Cert}, c.Key)
	if err != nil {
		t.Fatalf("msal certificate credential: %v", err)
	}
	all := append([]confidential.Option{
		confidential.WithInstanceDiscovery(false),
		confidential.WithHTTPClient(srv.HTTPClient()),
	}, opts...)
	client, err := confidential.New(srv.TenantAuthority(), appID, cred, all...)
	if err != nil {
		t.Fatalf("msal confidential client: %v", err)
	}
	return client
}

// GraphDefault is the scope an app-only token is asked for.
const GraphDefault = "https://graph.microsoft.com/.default"
