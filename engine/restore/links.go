package restore

import (
	"fmt"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
)

// linkNotes say, for each email a step writes, the links to files it had
// (backup.Link) that the restored email will lack: Graph v1.0 neither
// gives the link's address to a backup nor lets one attach a link, and
// the MIME never held it. The file the link pointed to is in OneDrive, and
// in the OneDrive part of the backup.
func linkNotes(steps []Step) []string {
	var out []string
	for _, s := range steps {
		if s.Item.Item.Kind != catalog.KindMail || s.Action == ActionSkip || s.Action == ActionDone {
			continue
		}
		meta, err := backup.ParseMailMetadata(s.Item.Metadata)
		if err != nil {
			continue
		}
		for _, l := range meta.Links {
			out = append(out, fmt.Sprintf("The email %q had a link to the file %q in OneDrive. Microsoft does not give the link's address "+
				"to backup programs, so the restored email has no link; the file itself is in OneDrive (and in the OneDrive backup).", s.Item.Name, l.Name))
		}
	}
	return out
}
