package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// driveWatchEvery is how often the app looks for a backup drive that a
// scheduled run missed.
const driveWatchEvery = 10 * time.Second

// watchForMissedBackup is the app's half of "plug the drive in": when the
// last scheduled run found no backup drive, it waits (while the app or
// tray runs) for the drive with the backup's ID to appear, under any
// drive letter or mount point, records where it now is, and calls start
// to run the missed backup. It looks every so often; it returns at once,
// and the wait ends with ctx.
func watchForMissedBackup(ctx context.Context, cfgDir string, find volumes.FindOptions, every time.Duration, log *slog.Logger, start func()) {
	st, err := loadScheduleState(cfgDir)
	if err != nil || st.LastMissing.IsZero() {
		return
	}
	set, err := loadSettings(cfgDir)
	if err != nil || set.RepositoryID == "" {
		return
	}
	go func() {
		path, err := volumes.WaitForRepository(ctx, set.RepositoryID, every, find)
		if err != nil {
			return // cancelled: the app closed
		}
		if cur, err := loadSettings(cfgDir); err == nil && cur.Destination != path {
			cur.Destination = path
			if err := saveSettings(cfgDir, cur); err != nil {
				log.Warn("could not record where the backup drive is now", "err", err)
				return
			}
		}
		log.Info("the backup drive is connected again; starting the missed backup", "path", path)
		start()
	}()
}
