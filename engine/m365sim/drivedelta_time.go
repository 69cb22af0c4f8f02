package m365sim

import (
	"regexp"
	"sort"
	"time"
)

// DefaultDownloadURLLifetime is how long a downloadUrl works by default:
// "Pre-authenticated download URLs are only valid for a short period of
// time (a few minutes)" (learn.microsoft.com/graph/api/driveitem-get-content).
const DefaultDownloadURLLifetime = 5 * time.Minute

// driveResyncMessage is the message of the 410 resyncRequired that OneDrive
// sends (OneDrive/onedrive-api-docs#1356 quotes it).
const driveResyncMessage = "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about."

// ExpireDeltaTokensWith is ExpireDeltaTokens with the 410's error code
// chosen: "resyncRequired" is the body OneDrive sends in practice
// (onedrive-api-docs#1356, #102), beside the documented
// resyncChangesApplyDifferences that ExpireDeltaTokens uses.
func (t *Tenant) ExpireDeltaTokensWith(code string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.epoch++
	t.driveGoneCode = code
}

type seqMark struct {
	at  time.Time
	seq int64
}

// markSeqLocked records the time the current sequence number was reached,
// once per distinct clock reading.
func (t *Tenant) markSeqLocked() {
	now := t.now()
	if n := len(t.seqTimes); n > 0 && !now.After(t.seqTimes[n-1].at) {
		t.seqTimes[n-1].seq = t.seq
		return
	}
	t.seqTimes = append(t.seqTimes, seqMark{at: now, seq: t.seq})
}

// seqAtLocked is the last sequence number reached at or before tm.
func (t *Tenant) seqAtLocked(tm time.Time) int64 {
	i := sort.Search(len(t.seqTimes), func(i int) bool { return t.seqTimes[i].at.After(tm) })
	if i == 0 {
		return 0
	}
	return t.seqTimes[i-1].seq
}

// shortOffset is a "+8:00" zone offset as driveItem: delta's example
// writes it ('?token=2021-09-29T12%3A00%3A00%2B8%3A00').
var shortOffset = regexp.MustCompile(`([+-])(\d):(\d\d)$`)

// parseDeltaTimestamp reads a timestamp given in place of a drive delta
// token: "In this case, the client can call delta using a URL encoded
// timestamp for the value of the token query string parameter … Using a
// timestamp in place of a token is only supported on OneDrive for Business
// and SharePoint" (driveItem: delta, example 4).
func parseDeltaTimestamp(tok string) (time.Time, bool) {
	if len(tok) < len("2006-01-02T15:04Z") || len(tok) > 40 {
		return time.Time{}, false
	}
	tok = shortOffset.ReplaceAllString(tok, "${1}0${2}:${3}")
	tm, err := time.Parse(time.RFC3339, tok)
	return tm, err == nil
}
