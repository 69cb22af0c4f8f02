package m365sim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The control API changes the tenant while it serves, so a test or a person
// can play "Paul deletes the invoice" and let a backup see it. It is not
// part of Graph: it lives under /_sim/ and takes the profile's control token.

// ControlRequest is the body of every control call; each call uses the
// fields it needs.
type ControlRequest struct {
	User       string    `json:"user,omitempty"`
	ID         string    `json:"id,omitempty"`
	Subject    string    `json:"subject,omitempty"` // selects a message by subject substring when ID is empty
	Folder     string    `json:"folder,omitempty"`  // mail folder path, e.g. "Inbox/Invoices"
	MIME       []byte    `json:"mime,omitempty"`
	Path       string    `json:"path,omitempty"` // OneDrive path
	ToFolder   string    `json:"toFolder,omitempty"`
	NewName    string    `json:"newName,omitempty"`
	Content    []byte    `json:"content,omitempty"`
	ModTime    time.Time `json:"modTime,omitzero"`
	IsRead     *bool     `json:"isRead,omitempty"`
	FlagStatus *string   `json:"flagStatus,omitempty"`
	Categories *[]string `json:"categories,omitempty"`
	Importance *string   `json:"importance,omitempty"`
	Code       string    `json:"code,omitempty"`
	Spec       string    `json:"spec,omitempty"`
	// Organization mode (controlorg.go).
	Mode      string   `json:"mode,omitempty"`  // users/leave: delete, unlicense, shared
	Roles     []string `json:"roles,omitempty"` // users/roles: global-admin, privileged-role-admin, ... or template IDs
	Delay     string   `json:"delay,omitempty"` // directory/replication, e.g. "30s"
	RoleDelay string   `json:"roleDelay,omitempty"`
}

// ControlResult is the answer of a control call.
type ControlResult struct {
	OK      bool              `json:"ok"`
	Message string            `json:"message,omitempty"`
	IDs     []string          `json:"ids,omitempty"`
	Counts  map[string]int    `json:"counts,omitempty"`
	Users   []ControlUserInfo `json:"users,omitempty"`
}

// ControlUserInfo summarises one user for `lifeboat sim status`.
type ControlUserInfo struct {
	UPN         string `json:"upn"`
	DisplayName string `json:"displayName"`
	Messages    int    `json:"messages"`
	Files       int    `json:"files"`
}

// maxControlBody bounds a control request (it may carry a file).
const maxControlBody = 256 << 20

func (s *Server) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	handle := func(name string, fn func(ControlRequest) (ControlResult, error)) {
		mux.HandleFunc("POST /_sim/"+name, func(w http.ResponseWriter, r *http.Request) {
			var req ControlRequest
			if err := json.NewDecoder(io.LimitReader(r.Body, maxControlBody)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
				writeJSON(w, http.StatusBadRequest, ControlResult{Message: "bad request body: " + err.Error()})
				return
			}
			res, err := fn(req)
			if err != nil {
				status := http.StatusBadRequest
				if errors.Is(err, ErrNoUser) || errors.Is(err, ErrNoItem) || errors.Is(err, ErrNoFolder) {
					status = http.StatusNotFound
				}
				writeJSON(w, status, ControlResult{Message: err.Error()})
				return
			}
			res.OK = true
			writeJSON(w, http.StatusOK, res)
		})
	}
	handle("status", s.ctlStatus)
	handle("requests", func(ControlRequest) (ControlResult, error) {
		return ControlResult{Counts: s.reqlog.Counts()}, nil
	})
	handle("requests/reset", func(ControlRequest) (ControlResult, error) {
		s.reqlog.Reset()
		return ControlResult{}, nil
	})
	handle("mail/add", s.ctlMailAdd)
	handle("mail/delete", s.ctlMailDelete)
	handle("mail/move", s.ctlMailMove)
	handle("mail/edit", s.ctlMailEdit)
	handle("files/put", s.ctlFilePut)
	handle("files/delete", s.ctlFileDelete)
	handle("files/move", s.ctlFileMove)
	handle("delta/expire", func(ControlRequest) (ControlResult, error) {
		s.tenant.ExpireDeltaTokens()
		return ControlResult{Message: "every drive delta token now answers 410 Gone"}, nil
	})
	handle("mail/delta/expire", s.ctlMailDeltaExpire)
	s.controlIdentityRoutes(handle)
	s.controlOrgRoutes(handle)
	s.controlPIMRoutes(handle)
	s.controlAttackRoutes(handle)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.control)) != 1 {
			writeJSON(w, http.StatusUnauthorized, ControlResult{Message: "missing or wrong control token (see the tenant profile)"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) ctlStatus(ControlRequest) (ControlResult, error) {
	var res ControlResult
	for _, u := range s.tenant.Users() {
		msgs, _ := s.tenant.Messages(u.UPN, "")
		items, _ := s.tenant.DriveItems(u.UPN)
		files := 0
		for _, it := range items {
			if !it.Folder {
				files++
			}
		}
		res.Users = append(res.Users, ControlUserInfo{UPN: u.UPN, DisplayName: u.DisplayName, Messages: len(msgs), Files: files})
	}
	res.Counts = map[string]int{"requests": s.reqlog.Total()}
	return res, nil
}

// selectMessages resolves a message by ID, or all messages whose subject
// contains req.Subject; it refuses an empty selection.
func (s *Server) selectMessages(req ControlRequest) ([]string, error) {
	if req.User == "" {
		return nil, errors.New("no user given")
	}
	if req.ID != "" {
		if _, err := s.tenant.Message(req.User, req.ID); err != nil {
			return nil, err
		}
		return []string{req.ID}, nil
	}
	if req.Subject == "" {
		return nil, errors.New("give a message ID or a subject to match")
	}
	found, err := s.tenant.FindMessages(req.User, req.Subject)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: no message of %s has %q in its subject", ErrNoItem, req.User, req.Subject)
	}
	ids := make([]string, len(found))
	for i, m := range found {
		ids[i] = m.ID
	}
	return ids, nil
}

func (s *Server) ctlMailAdd(req ControlRequest) (ControlResult, error) {
	folder := req.Folder
	if folder == "" {
		folder = "Inbox"
	}
	f, err := s.tenant.EnsureFolderPath(req.User, folder)
	if err != nil {
		return ControlResult{}, err
	}
	m, err := s.tenant.AddMessage(req.User, f.ID, req.MIME, MessageOptions{})
	if err != nil {
		return ControlResult{}, err
	}
	return ControlResult{IDs: []string{m.ID}, Message: "added to " + folder}, nil
}

func (s *Server) ctlMailDelete(req ControlRequest) (ControlResult, error) {
	ids, err := s.selectMessages(req)
	if err != nil {
		return ControlResult{}, err
	}
	for _, id := range ids {
		if err := s.tenant.DeleteMessage(req.User, id); err != nil {
			return ControlResult{}, err
		}
	}
	return ControlResult{IDs: ids, Message: fmt.Sprintf("deleted %d message(s)", len(ids))}, nil
}

func (s *Server) ctlMailMove(req ControlRequest) (ControlResult, error) {
	ids, err := s.selectMessages(req)
	if err != nil {
		return ControlResult{}, err
	}
	if req.ToFolder == "" {
		return ControlResult{}, errors.New("no destination folder given")
	}
	f, err := s.tenant.EnsureFolderPath(req.User, req.ToFolder)
	if err != nil {
		return ControlResult{}, err
	}
	for _, id := range ids {
		if _, err := s.tenant.MoveMessage(req.User, id, f.ID); err != nil {
			return ControlResult{}, err
		}
	}
	return ControlResult{IDs: ids, Message: fmt.Sprintf("moved %d message(s) to %s", len(ids), req.ToFolder)}, nil
}

func (s *Server) ctlMailEdit(req ControlRequest) (ControlResult, error) {
	ids, err := s.selectMessages(req)
	if err != nil {
		return ControlResult{}, err
	}
	e := MessageEdit{IsRead: req.IsRead, FlagStatus: req.FlagStatus, Categories: req.Categories, Importance: req.Importance}
	if e.FlagStatus != nil {
		switch *e.FlagStatus {
		case "notFlagged", "flagged", "complete":
		default:
			return ControlResult{}, fmt.Errorf("flag status %q: use notFlagged, flagged or complete", *e.FlagStatus)
		}
	}
	if e.Importance != nil {
		switch *e.Importance {
		case "low", "normal", "high":
		default:
			return ControlResult{}, fmt.Errorf("importance %q: use low, normal or high", *e.Importance)
		}
	}
	for _, id := range ids {
		if _, err := s.tenant.EditMessage(req.User, id, e); err != nil {
			return ControlResult{}, err
		}
	}
	return ControlResult{IDs: ids, Message: fmt.Sprintf("edited %d message(s)", len(ids))}, nil
}

func (s *Server) ctlFilePut(req ControlRequest) (ControlResult, error) {
	if req.User == "" || req.Path == "" {
		return ControlResult{}, errors.New("give a user and a path")
	}
	it, err := s.tenant.PutFile(req.User, req.Path, BytesContent(req.Content), req.ModTime)
	if err != nil {
		return ControlResult{}, err
	}
	return ControlResult{IDs: []string{it.ID}, Message: fmt.Sprintf("stored %s (%d bytes)", req.Path, len(req.Content))}, nil
}

func (s *Server) fileByPath(req ControlRequest) (DriveItem, error) {
	if req.User == "" {
		return DriveItem{}, errors.New("no user given")
	}
	if req.ID != "" {
		items, err := s.tenant.DriveItems(req.User)
		if err != nil {
			return DriveItem{}, err
		}
		for _, it := range items {
			if it.ID == req.ID {
				return it, nil
			}
		}
		return DriveItem{}, fmt.Errorf("%w: drive item %s", ErrNoItem, req.ID)
	}
	if strings.Trim(req.Path, "/") == "" {
		return DriveItem{}, errors.New("give the path of a file or folder (not the root)")
	}
	return s.tenant.DriveItemByPath(req.User, req.Path)
}

func (s *Server) ctlFileDelete(req ControlRequest) (ControlResult, error) {
	it, err := s.fileByPath(req)
	if err != nil {
		return ControlResult{}, err
	}
	if err := s.tenant.DeleteDriveItem(req.User, it.ID); err != nil {
		return ControlResult{}, err
	}
	return ControlResult{IDs: []string{it.ID}, Message: "deleted " + it.Name}, nil
}

func (s *Server) ctlFileMove(req ControlRequest) (ControlResult, error) {
	it, err := s.fileByPath(req)
	if err != nil {
		return ControlResult{}, err
	}
	if req.ToFolder == "" && req.NewName == "" {
		return ControlResult{}, errors.New("give a destination folder, a new name, or both")
	}
	moved, err := s.tenant.MoveDriveItem(req.User, it.ID, req.ToFolder, req.NewName)
	if err != nil {
		return ControlResult{}, err
	}
	return ControlResult{IDs: []string{moved.ID}, Message: "moved " + it.Name}, nil
}
