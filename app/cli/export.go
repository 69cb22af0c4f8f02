package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

type exportFlags struct {
	browseFlags
	toDir, at          string
	calendar, contacts bool
	teams              bool
}

func (a *app) exportCommand() *cobra.Command {
	var o exportFlags
	cmd := &cobra.Command{
		Use:   "export [ACCOUNT...] --to-dir DIR [--at DATE] [--calendar|--contacts]",
		Short: "Save calendars as .ics and address books as .vcf files other programs open",
		Long: "Write each calendar of an account as one .ics file and each contact folder as one .vcf\n" +
			"file, as the backup of that time held them (the newest by default), into a new folder\n" +
			"named after the account inside DIR. Outlook, Apple Calendar and Contacts, Google and\n" +
			"Thunderbird open them. Without ACCOUNT (e-mail addresses), everyone's are exported.\n" +
			"A folder that already holds files is never written into.",
		Args: requireArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.export(cmd, o, args) },
	}
	addBrowseFlags(cmd, &o.browseFlags)
	f := cmd.Flags()
	f.StringVar(&o.toDir, "to-dir", "", "the folder on this computer to write into")
	f.StringVar(&o.at, "at", "", "as the backup of this date or time held them (default: the newest)")
	f.BoolVar(&o.calendar, "calendar", false, "only calendars")
	f.BoolVar(&o.contacts, "contacts", false, "only contacts")
	f.BoolVar(&o.teams, "teams", false, "the teams' channel conversations, one web page per channel")
	return cmd
}

func (a *app) export(cmd *cobra.Command, o exportFlags, args []string) error {
	ctx := cmd.Context()
	if o.toDir == "" {
		return usageError{errors.New("export: say where with --to-dir DIR")}
	}
	var kinds []catalog.ItemKind
	if o.calendar {
		kinds = append(kinds, catalog.KindEvent)
	}
	if o.contacts {
		kinds = append(kinds, catalog.KindContact)
	}
	var at service.Point
	if o.at != "" {
		t, err := parseWhen(o.at, true)
		if err != nil {
			return err
		}
		at.At = t
	}
	dir, err := absDir(o.toDir)
	if err != nil {
		return err
	}
	if o.teams {
		return a.exportTeams(cmd, o, dir)
	}
	_, b, err := a.browser(cmd, o.folderFlags, usesBackup)
	if err != nil {
		return err
	}
	defer b.Close()
	accounts := []string{""}
	if len(args) > 0 {
		accounts = accounts[:0]
		for _, arg := range args {
			acc, err := b.Account(ctx, arg)
			if err != nil {
				return err
			}
			accounts = append(accounts, acc.HomeID)
		}
	}
	w := a.stdout
	for _, acct := range accounts {
		done, err := b.Export(ctx, service.ExportRequest{Account: acct, At: at, Dir: dir, Kinds: kinds})
		for _, ea := range done {
			if o.json {
				printJSON(w, map[string]any{"event": "exported", "account": ea.Account.UPN, "dir": ea.Dir, "files": ea.Files,
					"calendars": ea.Calendars, "events": ea.Events, "contactFolders": ea.ContactFolders, "contacts": ea.Contacts, "empty": ea.Empty})
				continue
			}
			if len(ea.Files) == 0 {
				fmt.Fprintf(w, "%s: nothing to save: the calendars and contact folders were empty then.\n", ea.Account.UPN)
				continue
			}
			fmt.Fprintf(w, "%s: saved in %s\n", ea.Account.UPN, ea.Dir)
			if ea.Calendars > 0 {
				fmt.Fprintf(w, "  %s, %s (as backed up %s)\n", plural(ea.Calendars, "calendar", "calendars"), plural(ea.Events, "event", "events"),
					ea.CalendarsAt.Local().Format("2006-01-02 15:04"))
			}
			if ea.ContactFolders > 0 {
				fmt.Fprintf(w, "  %s, %s (as backed up %s)\n", plural(ea.ContactFolders, "contact folder", "contact folders"),
					plural(ea.Contacts, "contact", "contacts"), ea.ContactsAt.Local().Format("2006-01-02 15:04"))
			}
			if len(ea.Empty) > 0 {
				fmt.Fprintf(w, "  empty, so no file: %s\n", printable(strings.Join(ea.Empty, ", ")))
			}
			for _, f := range ea.Files {
				fmt.Fprintf(w, "  %s\n", printable(filepath.Join(ea.Dir, f)))
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// plural is "1 event" or "3 events".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
