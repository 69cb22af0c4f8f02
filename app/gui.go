package main

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/lifeboat-backup/lifeboat/assets"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// appID matches FyneApp.toml; preferences and storage are keyed by it.
const appID = "io.lifeboat.app"

type guiOptions struct {
	demo bool
	seed int64
}

// runGUI opens the desktop app. With --demo it first starts the simulated
// tenant in this process, so a new user can try everything without an
// account.
func runGUI(ctx context.Context, g *globals, o guiOptions) error {
	info := ui.TenantInfo{Name: "Microsoft 365 (not signed in yet)"}
	if o.demo {
		tenant, err := m365sim.GenerateDemo(o.seed, m365sim.DemoOptions{})
		if err != nil {
			return fmt.Errorf("demo company: %w", err)
		}
		srv, err := m365sim.NewServer(tenant, m365sim.Options{Logger: g.logger(), AutoApprove: 0})
		if err != nil {
			return fmt.Errorf("demo company: %w", err)
		}
		defer srv.Close()
		info = tenantInfo(tenant)
		g.logger().Info("demo tenant running", "url", srv.BaseURL())
	} else if p, ok, err := g.profile(); err != nil {
		return err
	} else if ok {
		info.Name = p.Name
	}

	a := fyneapp.NewWithID(appID)
	a.SetIcon(assets.Icon())
	w := a.NewWindow("Lifeboat")
	w.SetContent(ui.Home(info))
	w.Resize(fyne.NewSize(720, 480))
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	return nil
}

func tenantInfo(t *m365sim.Tenant) ui.TenantInfo {
	info := ui.TenantInfo{Name: t.Name, Demo: true}
	for _, u := range t.Users() {
		msgs, _ := t.Messages(u.UPN, "")
		items, _ := t.DriveItems(u.UPN)
		files := 0
		for _, it := range items {
			if !it.Folder {
				files++
			}
		}
		info.Accounts = append(info.Accounts, ui.Account{Name: u.DisplayName, Email: u.UPN, Messages: len(msgs), Files: files})
	}
	return info
}
