package health

import (
	"fmt"
	"time"
)

// StoppedRun is the latest backup, when its destination stopped it: the
// drive filled up, or went away mid-run. Backups before it are intact and
// the next run continues where it stopped.
type StoppedRun struct {
	At time.Time
	// DriveFull: no space left; Free and Needed are the destination's free
	// bytes and the run's estimate of what it still had to store (0:
	// unknown).
	DriveFull    bool
	Free, Needed uint64
	// DriveMissing: the drive or share disappeared during the run.
	DriveMissing bool
}

// stopped is the warning for a run the destination stopped.
func stopped(in Inputs) []Item {
	s := in.Stopped
	if s == nil {
		return nil
	}
	name := in.DestinationName
	if name == "" {
		name = "the backup drive"
	}
	when := ""
	if !s.At.IsZero() {
		when = " on " + s.At.Local().Format("Mon 2 Jan at 15:04")
	}
	switch {
	case s.DriveFull:
		need := ""
		if s.Needed > 0 {
			need = fmt.Sprintf(", about %s needed", Bytes(s.Needed))
		}
		return []Item{{Kind: DestinationFull, Severity: Critical, Subject: in.DestinationName,
			Title:  "The backup drive is full",
			Detail: fmt.Sprintf("The last backup%s stopped because %s is full (%s free%s). Everything backed up before that is safe.", when, name, Bytes(s.Free), need),
			Action: "Free some space on the drive, keep old versions for less time, or move the backup to a bigger drive; the next backup continues where this one stopped."}}
	case s.DriveMissing:
		return []Item{{Kind: DestinationLost, Severity: Warning, Subject: in.DestinationName,
			Title:  "The backup drive was disconnected during a backup",
			Detail: fmt.Sprintf("The last backup%s stopped because %s went away (unplugged, or the network share stopped answering). Everything backed up before that is safe.", when, name),
			Action: "Keep the drive connected (or check the network storage); the next backup continues where this one stopped."}}
	}
	return nil
}
