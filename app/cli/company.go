package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/people"
)

// companyCreates says in plain words what organization setup makes in the
// company's Microsoft 365, why, and how to remove it.
const companyCreates = "Lifeboat registers itself in your company's Microsoft 365 as an app called \"Lifeboat Backup\",\n" +
	"with a certificate made on this computer (its key stays here, encrypted, with its key in the\n" +
	"system keychain) and permission to read and write everyone's mail, OneDrive, calendars and\n" +
	"contacts (writing is for restores; Lifeboat never sends mail). That lets it back up everyone —\n" +
	"shared mailboxes and people who left included — without anyone else signing in. To remove it,\n" +
	"run `lifeboat setup --leave --delete-registration`, or delete \"Lifeboat Backup\" under App\n" +
	"registrations in the Microsoft Entra admin center."

// setupCommand is `lifeboat setup --company` and `--leave`.
func (a *app) setupCommand() *cobra.Command {
	var c common
	var company, leave, deleteReg bool
	cmd := &cobra.Command{
		Use:   "setup --company | --leave [--delete-registration]",
		Short: "Back up everyone in your company (you sign in once as its Microsoft 365 administrator)",
		Long: "With --company, a Global Administrator (or Privileged Role Administrator) of your company's\n" +
			"Microsoft 365 signs in once with a code shown here, and Lifeboat backs up everyone from then on.\n\n" +
			companyCreates + "\n\n" +
			"Run it again to finish a setup that stopped; it continues where it stopped.\n" +
			"With --leave, Lifeboat stops backing up the whole company on this computer (the backups stay);\n" +
			"--delete-registration also deletes Lifeboat's app from your Microsoft 365 (the administrator\n" +
			"signs in once more).",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if company == leave {
				return usageError{errors.New("setup: choose --company or --leave")}
			}
			svc, err := a.service(c, usesSignIn)
			if err != nil {
				return err
			}
			progress := func(s string) { fmt.Fprintln(a.stdout, s) }
			events := func(e auth.Event) { renderSignInEvent(a.stdout, e) }
			if leave {
				if !deleteReg {
					events = nil
				}
				if err := svc.LeaveCompany(cmd.Context(), deleteReg, events, progress); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, "Lifeboat no longer backs up the whole company on this computer. Your backups stay.")
				if !deleteReg {
					fmt.Fprintln(a.stdout, "Lifeboat's app is still registered in your Microsoft 365; delete it with `lifeboat setup --leave --delete-registration`.")
				}
				return nil
			}
			fmt.Fprintln(a.stdout, companyCreates)
			res, err := svc.SetUpCompany(cmd.Context(), events, progress)
			if err != nil {
				return err
			}
			if !res.Created && len(res.Granted) == 0 {
				fmt.Fprintln(a.stdout, "Lifeboat was already set up; nothing needed changing.")
			}
			fmt.Fprintf(a.stdout, "Done. %s's sign-in is not kept: Lifeboat now uses its own certificate.\n", res.Admin)
			fmt.Fprintln(a.stdout, "See who is protected with `lifeboat people`.")
			return nil
		},
	}
	addSignInFlags(cmd, &c)
	f := cmd.Flags()
	f.BoolVar(&company, "company", false, "back up everyone in your company (sign in as its Microsoft 365 administrator)")
	f.BoolVar(&leave, "leave", false, "stop backing up the whole company on this computer")
	f.BoolVar(&deleteReg, "delete-registration", false, "with --leave: also delete Lifeboat's app from your company's Microsoft 365")
	return cmd
}

// peopleCommand is `lifeboat people [--exclude WHO] [--include WHO]`.
func (a *app) peopleCommand() *cobra.Command {
	var c common
	var exclude, include []string
	var refresh bool
	cmd := &cobra.Command{
		Use:   "people [--refresh] [--exclude WHO]... [--include WHO]...",
		Short: "Show who in your company is backed up, who left, and exclude or include people",
		Long: "Lists everyone Lifeboat knows in your company: what it backs up for each person, who left the\n" +
			"company and when, and who you excluded. New people are included automatically at the next\n" +
			"backup. --exclude and --include take e-mail addresses or names; an excluded person's earlier\n" +
			"backups stay. --refresh looks at your Microsoft 365 now instead of showing the last backup's view.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(c, usesSignIn)
			if err != nil {
				return err
			}
			if refresh {
				if _, err := svc.RefreshPeople(cmd.Context()); err != nil {
					return err
				}
			}
			if len(exclude) > 0 {
				if _, err := svc.SetExcluded(exclude, true); err != nil {
					return err
				}
			}
			if len(include) > 0 {
				if _, err := svc.SetExcluded(include, false); err != nil {
					return err
				}
			}
			list, err := svc.People()
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(a.stdout, "Lifeboat has not looked at your company yet: run `lifeboat setup --company`, then a backup (or `lifeboat people --refresh`).")
				return nil
			}
			printPeople(a, list)
			return nil
		},
	}
	addSignInFlags(cmd, &c)
	f := cmd.Flags()
	f.BoolVar(&refresh, "refresh", false, "look at your company's Microsoft 365 now")
	f.StringArrayVar(&exclude, "exclude", nil, "stop backing up `WHO` (e-mail address or name)")
	f.StringArrayVar(&include, "include", nil, "back up `WHO` again")
	return cmd
}

func printPeople(a *app, list []people.Person) {
	protected, left, excluded := 0, 0, 0
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tE-MAIL\tBACKS UP\tSTATUS")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", displayOr(p.DisplayName, "—"), p.UPN, backsUp(p), status(p))
		switch {
		case p.Excluded:
			excluded++
		case p.Departed():
			left++
		case !p.Nothing():
			protected++
		}
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "\n%d protected, %d who left the company, %d excluded.\n", protected, left, excluded)
}

func displayOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func backsUp(p people.Person) string {
	var parts []string
	switch p.Purpose {
	case people.PurposeShared:
		parts = append(parts, "shared mailbox")
	case people.PurposeRoom:
		parts = append(parts, "room mailbox")
	case people.PurposeEquipment:
		parts = append(parts, "equipment mailbox")
	case people.NoMailbox, "":
	default:
		parts = append(parts, "mailbox")
	}
	if p.DriveID != "" {
		parts = append(parts, "OneDrive")
	}
	if len(parts) == 0 {
		return "nothing to back up"
	}
	return strings.Join(parts, " + ")
}

func status(p people.Person) string {
	switch {
	case p.Excluded:
		return "excluded"
	case p.Departed():
		s := "left " + p.Left.Local().Format("2 Jan 2006") + ": " + p.LeftReason
		if until := p.MicrosoftKeepsUntil(); !until.IsZero() {
			if time.Now().Before(until) {
				s += "; Microsoft keeps the mailbox until " + until.Local().Format("2 Jan 2006")
			} else {
				s += "; Lifeboat's copy is the only one"
			}
		}
		return s
	}
	return "protected"
}
