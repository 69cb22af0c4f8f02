package m365sim

// Control API for organization mode: leavers and joiners, administrator
// roles and the directory's replication delay, for tests and for
// `lifeboat sim leave|hire|admin|replication`.

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// directoryDelay and roleDelay are the replication delays in effect.
func (s *Server) directoryDelay() time.Duration {
	if v := s.tenant.org.replDelay.Load(); v > 0 {
		return time.Duration(v - 1)
	}
	return s.opts.DirectoryReplicationDelay
}

func (s *Server) roleDelay() time.Duration {
	if v := s.tenant.org.roleDelay.Load(); v > 0 {
		return time.Duration(v - 1)
	}
	return s.opts.RoleReplicationDelay
}

// SetReplicationDelays changes the directory and role replication delays
// of a running server (Options.DirectoryReplicationDelay,
// RoleReplicationDelay).
func (s *Server) SetReplicationDelays(directory, roles time.Duration) {
	s.tenant.org.replDelay.Store(int64(max(directory, 0)) + 1)
	s.tenant.org.roleDelay.Store(int64(max(roles, 0)) + 1)
}

// roleAliases are the plain names the control API and `lifeboat sim
// admin` take for directory roles.
var roleAliases = map[string]string{
	"global-admin":          RoleGlobalAdministrator,
	"privileged-role-admin": RolePrivilegedRoleAdministrator,
	"application-admin":     RoleApplicationAdministrator,
	"cloud-app-admin":       RoleCloudApplicationAdministrator,
	"application-developer": RoleApplicationDeveloper,
}

func (s *Server) controlOrgRoutes(handle func(string, func(ControlRequest) (ControlResult, error))) {
	handle("users/leave", s.ctlLeave)
	handle("users/hire", func(req ControlRequest) (ControlResult, error) {
		u, err := s.tenant.Hire(req.NewName, req.User)
		if err != nil {
			return ControlResult{}, err
		}
		return ControlResult{Message: fmt.Sprintf("%s joined as %s", u.DisplayName, u.UPN), IDs: []string{u.ID}}, nil
	})
	handle("users/roles", func(req ControlRequest) (ControlResult, error) {
		if req.User == "" {
			return ControlResult{}, errors.New("no user given")
		}
		var ids []string
		for _, r := range req.Roles {
			id, ok := roleAliases[strings.ToLower(r)]
			if !ok {
				id = r
			}
			ids = append(ids, id)
		}
		if err := s.tenant.SetDirectoryRoles(req.User, ids...); err != nil {
			return ControlResult{}, err
		}
		if len(ids) == 0 {
			return ControlResult{Message: req.User + " is now an ordinary user"}, nil
		}
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = roleNames[id]
		}
		return ControlResult{Message: req.User + " now holds: " + strings.Join(names, ", ")}, nil
	})
	handle("directory/replication", func(req ControlRequest) (ControlResult, error) {
		d, err := time.ParseDuration(firstSet(req.Delay, "0s"))
		if err != nil {
			return ControlResult{}, fmt.Errorf("delay: %w", err)
		}
		rd, err := time.ParseDuration(firstSet(req.RoleDelay, req.Delay, "0s"))
		if err != nil {
			return ControlResult{}, fmt.Errorf("role delay: %w", err)
		}
		s.SetReplicationDelays(d, rd)
		return ControlResult{Message: fmt.Sprintf("new applications replicate after %v, new permissions after %v", d, rd)}, nil
	})
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// ctlLeave plays an employee leaving: mode "delete" deletes the account,
// "unlicense" removes the licence, "shared" converts the mailbox to a
// shared one (and disables and unlicenses the account).
func (s *Server) ctlLeave(req ControlRequest) (ControlResult, error) {
	if req.User == "" {
		return ControlResult{}, errors.New("no user given")
	}
	u, err := s.tenant.User(req.User)
	if err != nil {
		return ControlResult{}, err
	}
	switch req.Mode {
	case "delete":
		err = s.tenant.DeleteUser(u.ID)
		if err == nil {
			return ControlResult{Message: fmt.Sprintf("%s was deleted: the mailbox is gone from Microsoft Graph, the OneDrive is kept for the retention period (drive %s)", u.UPN, u.Drive.ID)}, nil
		}
	case "unlicense":
		err = s.tenant.RemoveLicence(u.ID)
		if err == nil {
			return ControlResult{Message: u.UPN + " has no licence any more: the mailbox is no longer served, the OneDrive stays"}, nil
		}
	case "shared":
		err = s.tenant.ConvertToShared(u.ID)
		if err == nil {
			return ControlResult{Message: u.UPN + " is now a shared mailbox on a disabled, unlicensed account"}, nil
		}
	default:
		return ControlResult{}, fmt.Errorf("leave mode %q: use delete, unlicense or shared", req.Mode)
	}
	return ControlResult{}, err
}
