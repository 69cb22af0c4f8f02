package m365sim

import (
	"errors"
	"fmt"
	"strings"
)

// controlIdentityRoutes adds the sign-in and fault controls.
func (s *Server) controlIdentityRoutes(handle func(string, func(ControlRequest) (ControlResult, error))) {
	handle("signin/pending", func(ControlRequest) (ControlResult, error) {
		codes := s.PendingDeviceCodes()
		return ControlResult{IDs: codes, Message: fmt.Sprintf("%d sign-in code(s) waiting", len(codes))}, nil
	})
	handle("signin/approve", func(req ControlRequest) (ControlResult, error) {
		if req.Code == "" {
			return ControlResult{}, errors.New("no sign-in code given")
		}
		upn := req.User
		if upn == "" {
			upn = s.tenant.Users()[0].UPN
		}
		if err := s.ApproveDeviceCode(strings.TrimSpace(req.Code), upn); err != nil {
			return ControlResult{}, err
		}
		return ControlResult{Message: "signed in as " + upn}, nil
	})
	handle("signin/decline", func(req ControlRequest) (ControlResult, error) {
		if req.Code == "" {
			return ControlResult{}, errors.New("no sign-in code given")
		}
		if err := s.DeclineDeviceCode(strings.TrimSpace(req.Code)); err != nil {
			return ControlResult{}, err
		}
		return ControlResult{Message: "sign-in declined"}, nil
	})
	handle("signin/revoke", func(req ControlRequest) (ControlResult, error) {
		if _, err := s.tenant.User(req.User); err != nil {
			return ControlResult{}, err
		}
		n := s.RevokeRefreshTokens(req.User)
		return ControlResult{Message: fmt.Sprintf("revoked %d refresh token(s) of %s", n, req.User)}, nil
	})
	handle("signin/expire", func(req ControlRequest) (ControlResult, error) {
		if _, err := s.tenant.User(req.User); err != nil {
			return ControlResult{}, err
		}
		n := s.ExpireAccessTokens(req.User)
		return ControlResult{Message: fmt.Sprintf("expired %d access token(s) of %s", n, req.User)}, nil
	})
	handle("faults", func(req ControlRequest) (ControlResult, error) {
		cfg, err := ParseFaults(req.Spec)
		if err != nil {
			return ControlResult{}, err
		}
		s.faults.SetConfig(cfg)
		if strings.TrimSpace(req.Spec) == "" {
			return ControlResult{Message: "faults off"}, nil
		}
		return ControlResult{Message: "faults now " + req.Spec}, nil
	})
}
