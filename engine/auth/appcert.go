package auth

// Organization mode's credential: the certificate Lifeboat registers on its
// own application in the customer's directory (DESIGN.md section 9).

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // the x5t thumbprint of a proof token is SHA-1 by definition (RFC 7515 4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Certificate validity. Microsoft recommends certificates of at most a year;
// Lifeboat renews well before the end and warns 30 days ahead if it could not.
const (
	CertificateValidity = 365 * 24 * time.Hour
	// RenewBefore is how long before expiry a run starts rolling the key.
	RenewBefore = 60 * 24 * time.Hour
	// WarnBefore is how long before expiry a failed renewal becomes a
	// warning on the dashboard.
	WarnBefore = 30 * 24 * time.Hour
	// certificateBits: Entra ID accepts RSA keys of 2048 bits and more, and
	// MSAL Go's certificate credential accepts RSA only.
	certificateBits = 2048
	// backdate covers a computer clock slightly ahead of Microsoft's.
	backdate = 10 * time.Minute
)

// proofAudience is the audience of an addKey/removeKey proof of possession
// token: https://learn.microsoft.com/graph/application-rollkey-prooftoken
const proofAudience = "00000002-0000-0000-c000-000000000000"

// AppCertificate is a self-signed certificate and its RSA private key. The
// key never leaves the process except encrypted (AppStore); String and
// LogValue leave it out.
type AppCertificate struct {
	Cert *x509.Certificate
	key  *rsa.PrivateKey
}

// NewAppCertificate makes a new RSA key and a self-signed certificate for
// it, valid from a few minutes before now for CertificateValidity.
func NewAppCertificate(subject string, now time.Time) (AppCertificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, certificateBits)
	if err != nil {
		return AppCertificate{}, fmt.Errorf("make a key for Lifeboat's certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return AppCertificate{}, fmt.Errorf("make Lifeboat's certificate: %w", err)
	}
	start := now.Add(-backdate).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: subject},
		NotBefore:             start,
		NotAfter:              start.Add(CertificateValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return AppCertificate{}, fmt.Errorf("make Lifeboat's certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return AppCertificate{}, fmt.Errorf("make Lifeboat's certificate: %w", err)
	}
	return AppCertificate{Cert: cert, key: key}, nil
}

// appCertificateFrom rebuilds a certificate from its DER forms, checking
// that the key belongs to the certificate.
func appCertificateFrom(certDER, keyDER []byte) (AppCertificate, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return AppCertificate{}, fmt.Errorf("certificate: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return AppCertificate{}, fmt.Errorf("key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return AppCertificate{}, errors.New("key: not an RSA key")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return AppCertificate{}, errors.New("the key does not belong to the certificate")
	}
	return AppCertificate{Cert: cert, key: key}, nil
}

// Valid reports whether c is set.
func (c AppCertificate) Valid() bool { return c.Cert != nil && c.key != nil }

// PrivateKey is the key for MSAL's confidential.NewCredFromCert.
func (c AppCertificate) PrivateKey() crypto.PrivateKey { return c.key }

// ExpiresOn is the certificate's last valid moment.
func (c AppCertificate) ExpiresOn() time.Time { return c.Cert.NotAfter }

// Thumbprint is the SHA-1 thumbprint in hex, upper case, as the Entra
// admin center shows it (and keyCredential.customKeyIdentifier holds it).
func (c AppCertificate) Thumbprint() string {
	sum := sha1.Sum(c.Cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ThumbprintSHA256 is the SHA-256 thumbprint in hex.
func (c AppCertificate) ThumbprintSHA256() string {
	sum := sha256.Sum256(c.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

func (c AppCertificate) String() string {
	if c.Cert == nil {
		return "no certificate"
	}
	return fmt.Sprintf("certificate %s, valid until %s", c.Thumbprint(), c.Cert.NotAfter.Format(time.DateOnly))
}

// ProofToken is the proof of possession that addKey and removeKey want: a
// JWT signed with this certificate's key, aud 00000002-0000-0000-c000-
// 000000000000, iss the application's object ID, valid for 10 minutes
// (https://learn.microsoft.com/graph/application-rollkey-prooftoken). The
// header names the certificate by its SHA-1 thumbprint (x5t, base64url, no
// padding — padding makes Graph answer Authentication_MissingOrMalformed),
// as the sample's X509SigningCredentials does.
func (c AppCertificate) ProofToken(objectID string, now time.Time) (string, error) {
	if !c.Valid() {
		return "", errors.New("no certificate to sign the proof with")
	}
	thumb := sha1.Sum(c.Cert.Raw)
	header := map[string]string{
		"alg": "RS256",
		"typ": "JWT",
		"x5t": base64.RawURLEncoding.EncodeToString(thumb[:]),
		"kid": strings.ToUpper(hex.EncodeToString(thumb[:])),
	}
	nbf := now.Unix()
	claims := map[string]any{
		"aud": proofAudience,
		"iss": objectID,
		"nbf": nbf,
		"exp": nbf + 600,
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign the proof: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func x509MarshalPKCS8(c AppCertificate) ([]byte, error) {
	if c.key == nil {
		return nil, errors.New("no key")
	}
	return x509.MarshalPKCS8PrivateKey(c.key)
}
