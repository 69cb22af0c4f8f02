package m365sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ControlClient calls a running simulator's control API, as `lifeboat sim`
// subcommands do.
type ControlClient struct {
	url   string
	token string
	hc    *http.Client
}

// NewControlClient connects to the simulator described by a profile.
func NewControlClient(p Profile) (*ControlClient, error) {
	if p.ControlURL == "" || p.ControlToken == "" {
		return nil, errors.New("this tenant profile has no simulator control address: it is not from `lifeboat sim serve`")
	}
	hc, err := ClientTrustingPEM([]byte(p.CACertPEM))
	if err != nil {
		return nil, err
	}
	return &ControlClient{url: strings.TrimSuffix(p.ControlURL, "/"), token: p.ControlToken, hc: hc}, nil
}

// Call runs one control operation, e.g. "mail/delete".
func (c *ControlClient) Call(ctx context.Context, op string, req ControlRequest) (ControlResult, error) {
	var res ControlResult
	body, err := json.Marshal(req)
	if err != nil {
		return res, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/"+op, bytes.NewReader(body))
	if err != nil {
		return res, err
	}
	hr.Header.Set("Authorization", "Bearer "+c.token)
	hr.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(hr)
	if err != nil {
		return res, fmt.Errorf("simulator control %s: %w (is `lifeboat sim serve` still running?)", op, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&res); err != nil {
		return res, fmt.Errorf("simulator control %s: HTTP %d with an unreadable answer", op, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK || !res.OK {
		return res, fmt.Errorf("simulator control %s: %s", op, res.Message)
	}
	return res, nil
}

// ExpireMailDelta makes the simulator evict the mail delta tokens of one
// folder of user's mailbox (a path such as "Inbox/Invoices"), or of every
// folder when folder is empty; how is "gone" (410 with Location, the
// default) or "badrequest" (400 syncStateNotFound). It is what `lifeboat
// sim expire-mail-delta` calls.
func (c *ControlClient) ExpireMailDelta(ctx context.Context, user, folder, how string) (ControlResult, error) {
	return c.Call(ctx, "mail/delta/expire", ControlRequest{User: user, Folder: folder, Spec: how})
}
