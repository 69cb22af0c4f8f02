package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

func TestAppCertificateIsRSAWithinAYearAndSelfSigned(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c, err := NewAppCertificate("Lifeboat backup", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.PrivateKey().(*rsa.PrivateKey); !ok {
		t.Fatalf("key is %T, MSAL Go's certificate credential needs RSA", c.PrivateKey())
	}
	if d := c.Cert.NotAfter.Sub(c.Cert.NotBefore); d > 365*24*time.Hour {
		t.Fatalf("valid for %v, more than a year", d)
	}
	if !c.Cert.NotBefore.Before(now) || !c.Cert.NotAfter.After(now.Add(360*24*time.Hour)) {
		t.Fatalf("validity %v..%v does not cover a year from %v", c.Cert.NotBefore, c.Cert.NotAfter, now)
	}
	if err := c.Cert.CheckSignature(c.Cert.SignatureAlgorithm, c.Cert.RawTBSCertificate, c.Cert.Signature); err != nil {
		t.Fatalf("not self-signed: %v", err)
	}
	if c.Cert.PublicKey.(*rsa.PublicKey).N.BitLen() < 2048 {
		t.Fatal("key shorter than 2048 bits")
	}
}

func TestProofTokenFollowsTheRollKeyDocumentation(t *testing.T) {
	now := time.Now()
	c, err := NewAppCertificate("Lifeboat backup", now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.ProofToken("app-object-id", now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || strings.Contains(tok, "=") {
		t.Fatalf("not an unpadded compact JWT: %q", tok)
	}
	var header map[string]string
	var claims map[string]any
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	thumb := sha1.Sum(c.Cert.Raw)
	if header["alg"] != "RS256" || header["x5t"] != base64.RawURLEncoding.EncodeToString(thumb[:]) {
		t.Fatalf("header %v", header)
	}
	if claims["aud"] != "00000002-0000-0000-c000-000000000000" || claims["iss"] != "app-object-id" {
		t.Fatalf("claims %v", claims)
	}
	if nbf, exp := claims["nbf"].(float64), claims["exp"].(float64); exp-nbf != 600 || int64(nbf) != now.Unix() {
		t.Fatalf("nbf %v exp %v: want exp = nbf + 10 minutes", nbf, exp)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(c.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("the proof does not verify with the certificate: %v", err)
	}
}

func TestAppCredentialCheckWarnsAndExpires(t *testing.T) {
	start := time.Now()
	c, err := NewAppCertificate("Lifeboat backup", start)
	if err != nil {
		t.Fatal(err)
	}
	cred := AppCredential{TenantID: "t", AppID: "a", Current: c}
	exp := c.ExpiresOn()
	if err := cred.Check(start); err != nil || cred.RenewalDue(start) {
		t.Fatalf("new certificate: %v, renewal due %v", err, cred.RenewalDue(start))
	}
	at := exp.Add(-50 * 24 * time.Hour)
	if err := cred.Check(at); err != nil || !cred.RenewalDue(at) {
		t.Fatalf("50 days left: %v, renewal due %v (want due, no warning yet)", err, cred.RenewalDue(at))
	}
	cred.RenewalError = "Microsoft could not be reached"
	at = exp.Add(-29 * 24 * time.Hour)
	err = cred.Check(at)
	var ce *CertificateExpiringError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCertificateExpiring) || ce.Days != 29 || !strings.Contains(err.Error(), "in 29 days") || !strings.Contains(err.Error(), "Microsoft could not be reached") {
		t.Fatalf("29 days left: %v", err)
	}
	err = cred.Check(exp.Add(time.Minute))
	if !errors.Is(err, ErrAdminSignInRequired) || !strings.Contains(err.Error(), "sign in as administrator again") {
		t.Fatalf("expired: %v", err)
	}
}

func TestAppTokenSourceRefusesAnExpiredCertificateInPlainWords(t *testing.T) {
	c, err := NewAppCertificate("Lifeboat backup", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	later := c.ExpiresOn().Add(time.Hour)
	ts, err := NewAppTokenSource(AppTokenConfig{
		Authority:  "https://login.invalid/organizations", // never reached: the certificate is known to be expired
		Credential: AppCredential{TenantID: "tenant-id", AppID: "app-id", Current: c},
		Now:        func() time.Time { return later },
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token(context.Background())
	if !errors.Is(err, ErrAdminSignInRequired) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("got %v", err)
	}
}

func TestTenantAuthority(t *testing.T) {
	for in, want := range map[string]string{
		"https://login.microsoftonline.com/organizations":   "https://login.microsoftonline.com/tid",
		"https://login.microsoftonline.com/common/":         "https://login.microsoftonline.com/tid",
		"https://127.0.0.1:4443/organizations":              "https://127.0.0.1:4443/tid",
		"https://sim.example/prefix/organizations?x=1#frag": "https://sim.example/prefix/tid?x=1#frag",
	} {
		got, err := TenantAuthority(in, "tid")
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := TenantAuthority("http://login.example/organizations", "tid"); err == nil {
		t.Error("plain http accepted")
	}
	if _, err := TenantAuthority("https://login.example/organizations", "../x"); err == nil {
		t.Error("a tenant with a slash accepted")
	}
}

// TestAppStoreKeepsTheKeyEncryptedInTheRealKeychain saves the credential
// with the OS keychain (a real Secret Service under test-session.sh) and
// scans every byte written for the private key in any form.
func TestAppStoreKeepsTheKeyEncryptedInTheRealKeychain(t *testing.T) {
	requireKeychain(t)
	dir := t.TempDir()
	account := uniqueKeyAccount(t)
	kc := secret.OS{}
	store, err := NewAppStore(AppStoreConfig{Dir: dir, Keychain: kc, KeyAccount: account})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Remove() })
	if _, err := store.Load(); !errors.Is(err, ErrNoAppCredential) {
		t.Fatalf("empty store: %v", err)
	}
	cur, err := NewAppCertificate("Lifeboat backup", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	next, err := NewAppCertificate("Lifeboat backup", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in := AppCredential{TenantID: "tid", AppID: "appid", ObjectID: "oid", ServicePrincipalID: "spid", Current: cur, Next: next}
	if err := store.Save(in); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Get(KeychainService, account); err != nil {
		t.Fatalf("the file's key is not in the keychain: %v", err)
	}
	fi, err := os.Stat(store.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("file mode %v readable by others", fi.Mode())
	}

	// Every file under dir: no key bytes, in DER, PEM, base64 or as the
	// RSA primes.
	var secrets [][]byte
	for _, c := range []AppCertificate{cur, next} {
		der, err := x509.MarshalPKCS8PrivateKey(c.key)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, der[len(der)/2:len(der)/2+32], []byte(base64.StdEncoding.EncodeToString(der)[100:140]),
			c.key.Primes[0].Bytes()[:32], c.key.D.Bytes()[:32],
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})[40:80], []byte("PRIVATE KEY"))
	}
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s holds private key bytes in readable form", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A fresh store (another process) reads it back through the keychain.
	again, err := NewAppStore(AppStoreConfig{Dir: dir, Keychain: kc, KeyAccount: account})
	if err != nil {
		t.Fatal(err)
	}
	out, err := again.Load()
	if err != nil {
		t.Fatal(err)
	}
	if out.AppID != "appid" || out.ObjectID != "oid" || out.ServicePrincipalID != "spid" || out.TenantID != "tid" ||
		!out.Current.key.Equal(cur.key) || !out.Next.key.Equal(next.key) || !bytes.Equal(out.Current.Cert.Raw, cur.Cert.Raw) {
		t.Fatal("the credential did not come back as saved")
	}

	// Without its key in the keychain the file does not open.
	wrong, err := NewAppStore(AppStoreConfig{Dir: dir, Keychain: kc, KeyAccount: account + "-other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Load(); !errors.Is(err, ErrCacheDamaged) {
		t.Fatalf("opened without its key: %v", err)
	}

	if err := again.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Get(KeychainService, account); !errors.Is(err, secret.ErrNotFound) {
		t.Fatalf("key left in the keychain: %v", err)
	}
	if again.Exists() {
		t.Fatal("file left behind")
	}
}
