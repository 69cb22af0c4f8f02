package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/restore"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

type restoreFlags struct {
	browseFlags
	toOriginal, toNewFolder bool
	toDir, at, conflict     string
	dryRun, all             bool
}

func (a *app) restoreCommand() *cobra.Command {
	var ro restoreFlags
	cmd := &cobra.Command{
		Use:   "restore (ITEM|PATH|ACCOUNT... | --all) (--to-original | --to-new-folder | --to-dir DIR) [--at DATE] [--conflict rename|overwrite|skip] [--dry-run]",
		Short: "Put mail, files, events and contacts back, or save them to a folder on this computer",
		Long: "Restore items (v123, as find, ls and versions print them), whole folders (a PATH as ls\n" +
			"prints it), everything of an account (its e-mail address: mail, files, calendars and\n" +
			"contacts), or everyone's (--all):\n" +
			"  --to-original    back where they were (missing folders and calendars are recreated)\n" +
			"  --to-new-folder  into a new folder \"Restored by Lifeboat <date>\" in the mailbox, OneDrive,\n" +
			"                   calendar and contacts\n" +
			"  --to-dir DIR     into a folder on this computer: mail as .eml files, files with their dates,\n" +
			"                   events as .ics and contacts as .vcf files\n" +
			"A restore never sends a meeting invitation: a meeting comes back as an appointment with its\n" +
			"attendee list in its description.\n" +
			"--at restores each item as it was at that date (folders: as the backup of that time held them).\n" +
			"When something is already there: rename keeps both (default), overwrite replaces it, skip\n" +
			"leaves it. --dry-run shows what would happen and changes nothing. An interrupted restore\n" +
			"continues where it stopped when the same command is run again.\n" +
			"The backup is named with --backup DIR (or LIFEBOAT_REPO).",
		Args: requireArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.restore(cmd, ro, args) },
	}
	addBrowseFlags(cmd, &ro.browseFlags)
	f := cmd.Flags()
	f.BoolVar(&ro.toOriginal, "to-original", false, "restore to where each item was")
	f.BoolVar(&ro.toNewFolder, "to-new-folder", false, "restore into a new \"Restored by Lifeboat <date>\" folder")
	f.StringVar(&ro.toDir, "to-dir", "", "save into this folder on this computer")
	f.StringVar(&ro.at, "at", "", "restore items as they were at this date, time or snapshot ID")
	f.StringVar(&ro.conflict, "conflict", "rename", "when something is already there: rename (keep both), overwrite or skip")
	f.BoolVar(&ro.dryRun, "dry-run", false, "only show what would be created, renamed, overwritten or skipped")
	f.BoolVar(&ro.all, "all", false, "restore everything of every account in the backup")
	f.StringVar(&ro.clientID, "client-id", "", "application (client) ID to sign in with; also LIFEBOAT_CLIENT_ID")
	return cmd
}

// selections turns ITEM handles, PATHs and ACCOUNTs into selections.
func selections(ctx context.Context, b *service.Browser, args []string, at string, all bool) ([]service.Selection, error) {
	var out []service.Selection
	if all {
		p, err := parseAt(ctx, b, at, "", "")
		if err != nil {
			return nil, err
		}
		out = append(out, service.Selection{At: p})
	}
	for _, arg := range args {
		if !strings.Contains(arg, "/") && !strings.Contains(arg, "@") {
			id, err := parseHandle(arg)
			if err != nil {
				return nil, err
			}
			v, err := b.Version(ctx, id)
			if err != nil {
				return nil, noSuchItem(err, arg)
			}
			sel := service.Selection{Version: id}
			if at != "" {
				if sel.ItemAt, err = parseAt(ctx, b, at, v.Item.Account, v.Item.Kind); err != nil {
					return nil, err
				}
			}
			out = append(out, sel)
			continue
		}
		loc, err := parsePath(ctx, b, arg)
		if err != nil {
			return nil, err
		}
		p, err := parseAt(ctx, b, at, loc.account.HomeID, loc.kind)
		if err != nil {
			return nil, err
		}
		sel := service.Selection{Account: loc.account.HomeID, Kind: loc.kind, Folder: loc.folder, At: p}
		if loc.folder != "" {
			// A PATH names a folder, or one file or message in its parent.
			items, err := b.Select(ctx, []service.Selection{sel})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", arg, err)
			}
			if len(items) == 0 {
				sel.Folder, sel.Name = splitLast(loc.folder)
			}
		}
		out = append(out, sel)
	}
	return out, nil
}

func (a *app) restore(cmd *cobra.Command, o restoreFlags, args []string) error {
	ctx := cmd.Context()
	n := 0
	for _, set := range []bool{o.toOriginal, o.toNewFolder, o.toDir != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usageError{errors.New("restore: choose one of --to-original, --to-new-folder or --to-dir DIR")}
	}
	if len(args) == 0 && !o.all {
		return usageError{errors.New("restore: say what to restore (ITEM, PATH or ACCOUNT), or --all for everything")}
	}
	conflict, err := restore.ParseConflict(o.conflict)
	if err != nil {
		return usageError{err}
	}
	req := service.RestoreRequest{Conflict: conflict, To: service.ToOriginal}
	switch {
	case o.toNewFolder:
		req.To = service.ToNewFolder
	case o.toDir != "":
		req.To = service.ToDir
		if req.Dir, err = absDir(o.toDir); err != nil {
			return err
		}
	}
	u := usesBackup
	if req.To != service.ToDir {
		u |= usesSignIn
	}
	_, b, err := a.browser(cmd, o.folderFlags, u)
	if err != nil {
		return err
	}
	defer b.Close()
	sels, err := selections(ctx, b, args, o.at, o.all)
	if err != nil {
		return err
	}
	if req.Items, err = b.Select(ctx, sels); err != nil {
		return err
	}
	if len(req.Items) == 0 {
		return errors.New("nothing to restore: the backup holds nothing there at that time")
	}
	// A shared lock: a prune must not delete data while it is restored.
	lock, err := b.Repository().Lock(ctx, false)
	if err != nil {
		return fmt.Errorf("cannot restore now: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	plan, err := b.PlanRestore(ctx, req)
	if err != nil {
		return err
	}
	defer plan.Close()
	pr := &restorePrinter{w: a.stdout, json: o.json, b: b, ctx: ctx, start: time.Now()}
	for _, g := range plan.Groups {
		pr.plan(g, o.dryRun)
	}
	if o.dryRun {
		return nil
	}
	out, err := b.RunRestore(ctx, plan, service.RestoreEvents{Progress: pr.progress, GroupDone: pr.groupDone})
	if err != nil {
		return err
	}
	if f := len(out.Failures); f > 0 {
		return fmt.Errorf("%d items could not be restored (listed above); run the same command again to retry them", f)
	}
	return nil
}

// restorePrinter shows a restore's plan, progress and result.
type restorePrinter struct {
	mu    sync.Mutex
	w     io.Writer
	json  bool
	b     *service.Browser
	ctx   context.Context
	start time.Time
	last  time.Time
}

type stepJSON struct {
	Event  string `json:"event"`
	Action string `json:"action"`
	Item   string `json:"item"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
	Size   int64  `json:"size"`
	Error  string `json:"error,omitempty"`
}

func (p *restorePrinter) step(event string, s restore.Step, err error) stepJSON {
	j := stepJSON{Event: event, Action: string(s.Action), Item: handle(s.Item), Kind: string(s.Item.Item.Kind), Name: s.Item.Name,
		From: folderPath(p.ctx, p.b, s.Item), To: s.Path, Reason: s.Reason, Size: s.Item.Size}
	if err != nil {
		j.Error = err.Error()
	}
	return j
}

func (p *restorePrinter) plan(g *service.RestoreGroup, dryRun bool) {
	pl := g.Plan
	if p.json {
		for _, s := range pl.Steps {
			printJSON(p.w, p.step("plan", s, nil))
		}
		for _, f := range pl.Failures {
			j := p.step("plan", f.Step, f.Err)
			j.Action = "fail"
			printJSON(p.w, j)
		}
		for _, n := range pl.Notes {
			printJSON(p.w, map[string]any{"event": "note", "text": n})
		}
		return
	}
	verb := "Restoring"
	if dryRun {
		verb = "Dry run: would restore"
	}
	dest := pl.Dest
	if g.Account.UPN != "" {
		dest += " of " + g.Account.UPN
	}
	fmt.Fprintf(p.w, "%s %d items (%s) to %s:\n", verb, pl.Items, formatBytes(pl.Bytes), dest)
	for _, s := range pl.Steps {
		line := fmt.Sprintf("  %-9s %-8s %s", s.Action, handle(s.Item), printable(s.Path))
		if s.Reason != "" {
			line += "  (" + s.Reason + ")"
		}
		fmt.Fprintln(p.w, line)
	}
	for _, f := range pl.Failures {
		fmt.Fprintf(p.w, "  %-9s %-8s %s: %v\n", "cannot", handle(f.Step.Item), printable(f.Step.Path), f.Err)
	}
	for _, n := range pl.Notes {
		fmt.Fprintf(p.w, "Note: %s\n", printable(n))
	}
	if dryRun {
		c := pl.Counts()
		fmt.Fprintf(p.w, "Would create %d, rename %d, overwrite %d, skip %d. Nothing was changed.\n",
			c[restore.ActionCreate], c[restore.ActionRename], c[restore.ActionOverwrite], c[restore.ActionSkip]+c[restore.ActionDone])
	}
}

// progressEvery is how often a restore that takes a while says how far
// it is; a quick one says nothing until it is done.
const progressEvery = 2 * time.Second

func (p *restorePrinter) progress(pr service.RestoreProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.start) < progressEvery || now.Sub(p.last) < progressEvery || pr.ItemsDone >= pr.ItemsTotal {
		return
	}
	p.last = now
	if p.json {
		printJSON(p.w, map[string]any{"event": "progress", "itemsDone": pr.ItemsDone, "itemsTotal": pr.ItemsTotal,
			"bytesDone": pr.BytesDone, "bytesTotal": pr.BytesTotal, "failed": pr.Failed})
		return
	}
	fmt.Fprintf(p.w, "  %s items, %s of %s\n", counted(pr.ItemsDone, pr.ItemsTotal), formatBytes(pr.BytesDone), formatBytes(pr.BytesTotal))
}

func (p *restorePrinter) groupDone(g *service.RestoreGroup, res restore.Result, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pl := g.Plan
	if p.json {
		for _, f := range res.Failures {
			printJSON(p.w, p.step("failed", f.Step, f.Err))
		}
		ev := map[string]any{"event": "result", "restored": len(res.Done), "skipped": len(res.Skipped), "failed": len(res.Failures), "bytes": res.Bytes, "to": pl.Dest}
		if err != nil {
			ev["error"] = err.Error()
		}
		printJSON(p.w, ev)
		return
	}
	for _, f := range res.Failures[len(pl.Failures):] { // the plan's own were listed with it
		fmt.Fprintf(p.w, "  failed    %-8s %s: %v\n", handle(f.Step.Item), printable(f.Step.Path), f.Err)
	}
	if err != nil {
		fmt.Fprintf(p.w, "Stopped after restoring %d items; run the same command again to continue.\n", len(res.Done))
		return
	}
	fmt.Fprintf(p.w, "Restored %d items (%s) to %s", len(res.Done), formatBytes(res.Bytes), pl.Dest)
	if len(res.Skipped) > 0 {
		fmt.Fprintf(p.w, "; %d left as they were", len(res.Skipped))
	}
	fmt.Fprintln(p.w, ".")
}
