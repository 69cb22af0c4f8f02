package oracle

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Tokens is a token endpoint answer.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
}

// SignIn runs the device authorization grant against the simulator's
// login.microsoftonline.com by hand, approving the code as upn, and
// returns the tokens: for clients whose configuration takes a token rather
// than running a sign-in themselves (rclone).
func (e *Env) SignIn(t *testing.T, upn, scope string) Tokens {
	t.Helper()
	srv := e.Server
	post := func(path string, form url.Values, v any) {
		t.Helper()
		form.Set("client_id", srv.ClientID())
		resp, err := srv.HTTPClient().Post(srv.Authority()+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	var dc struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	post("/oauth2/v2.0/devicecode", url.Values{"scope": {scope}}, &dc)
	if err := srv.ApproveDeviceCode(dc.UserCode, upn); err != nil {
		t.Fatal(err)
	}
	var tok Tokens
	post("/oauth2/v2.0/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc.DeviceCode}}, &tok)
	if tok.RefreshToken == "" {
		t.Fatal(fmt.Errorf("sign-in as %s gave no refresh token", upn))
	}
	return tok
}
