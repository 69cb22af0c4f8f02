package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// printSalvage says what "repair --salvage" found and what is lost.
func printSalvage(w io.Writer, sv *service.SalvageResult, took time.Duration) {
	b := sv.Before
	fmt.Fprintf(w, "Read back %d data files (%s) and checked %d pieces of data in %s.\n",
		b.PacksRead, formatBytes(b.BytesRead), b.BlobsRead, took.Round(time.Millisecond))
	if rb := sv.Rebuild; rb != nil {
		fmt.Fprintf(w, "Rebuilt the index from %d data files (%d pieces of data).\n", rb.Packs, rb.Blobs)
	}
	if sv.Damage == 0 && len(sv.Lost) == 0 && len(sv.SalvageReport.Lost) == 0 {
		fmt.Fprintln(w, "No damage found: nothing was lost.")
		return
	}
	if len(sv.SalvageReport.Lost) == 0 {
		fmt.Fprintf(w, "Found %d problems, but every piece of data could be read: nothing was lost.\n", sv.Damage)
		return
	}
	pieces := fmt.Sprintf("%d pieces", len(sv.SalvageReport.Lost))
	if len(sv.SalvageReport.Lost) == 1 {
		pieces = "1 piece"
	}
	fmt.Fprintf(w, "%s of data could not be read and %s left out; the damaged files stay on the drive untouched.\n", pieces, map[bool]string{true: "was", false: "were"}[len(sv.SalvageReport.Lost) == 1])
	if len(sv.Lost) == 0 {
		fmt.Fprintln(w, "They belong to no email or file of a backup (left over by an interrupted run): nothing you backed up is lost.")
		return
	}
	fmt.Fprintln(w, "These can no longer be restored from this backup:")
	for _, l := range sv.Lost {
		fmt.Fprintf(w, "  %s\n", l)
	}
	fmt.Fprintln(w, "Everything else restores as before. What is still in Microsoft 365 is stored again when a later backup downloads it.")
}
