package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/sites"
)

// sitesCommand is `lifeboat sites [exclude|include NAME…]`: the company's
// SharePoint sites a company backup covers.
func (a *app) sitesCommand() *cobra.Command {
	var c common
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "sites",
		Short: "List your company's SharePoint sites, and choose which are backed up",
		Long: "List the SharePoint sites (the team sites, the sites of Teams channels, communication sites)\n" +
			"that the company backup found, with their document libraries. Every site is backed up unless\n" +
			"you exclude it; new sites are found at the next backup.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(c, 0)
			if err != nil {
				return err
			}
			list, err := svc.Sites()
			if err != nil {
				return err
			}
			if asJSON {
				printJSON(a.stdout, list)
				return nil
			}
			if len(list) == 0 {
				fmt.Fprintln(a.stdout, "No sites yet: the first company backup finds them.")
				return nil
			}
			for _, s := range list {
				fmt.Fprintln(a.stdout, siteLine(s))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	choose := func(use, short string, excluded bool) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME…",
			Short: short,
			Args:  requireArgs(cobra.MinimumNArgs(1)),
			RunE: func(cmd *cobra.Command, args []string) error {
				svc, err := a.service(c, 0)
				if err != nil {
					return err
				}
				changed, err := svc.SetSiteExcluded(args, excluded)
				if err != nil {
					return err
				}
				for _, s := range changed {
					fmt.Fprintln(a.stdout, siteLine(s))
				}
				return nil
			},
		}
	}
	cmd.AddCommand(
		choose("exclude", "Stop backing up these sites (by name or address); their copies stay", true),
		choose("include", "Back up these sites again", false))
	return cmd
}

func siteLine(s sites.Site) string {
	var libs []string
	for _, l := range s.Libraries {
		libs = append(libs, l.Name)
	}
	state := "backed up"
	switch {
	case !s.Gone.IsZero():
		state = "no longer in Microsoft 365 since " + s.Gone.Local().Format("2 Jan 2006") + "; its copy is kept"
	case s.Excluded:
		state = "not backed up (you excluded it)"
	}
	line := fmt.Sprintf("%s  %s  (%s)", s.Name(), s.WebURL, state)
	if len(libs) > 0 {
		line += "\n    libraries: " + strings.Join(libs, ", ")
	}
	return line
}
