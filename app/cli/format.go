package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// formatBytes is n in B, kB, MB, GB (powers of 1000, as drives are sold).
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		v /= unit
		if v < unit && v > -unit {
			return fmt.Sprintf("%.1f %s", v, u)
		}
	}
	return fmt.Sprintf("%.1f PB", v/unit)
}

// roughDuration is d for people: "45 min", "1 h 5 min".
func roughDuration(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 1:
		return "less than a minute"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// printable keeps control characters in names from a backup off the
// terminal (they could move the cursor or recolour output).
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

func printJSON(w io.Writer, v any) {
	out, _ := json.Marshal(v)
	fmt.Fprintln(w, string(out))
}

// counted is "n/total" while the total is a true bound, else "n": an
// estimate that the work outgrew says nothing.
func counted(n, total int64) string {
	if total > 0 && n <= total {
		return fmt.Sprintf("%d/%d", n, total)
	}
	return fmt.Sprintf("%d", n)
}
