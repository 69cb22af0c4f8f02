package backup

// SampleSize is how much of the start of each downloaded file
// Options.OnFileContent receives: enough for a file's signature and a
// sound entropy estimate.
const SampleSize = 64 << 10

// FileSample is the start of a file's content as a run downloaded it (the
// bytes the run streams anyway: nothing extra is read). The mass-
// encryption alarm (engine/alarm) looks at it.
type FileSample struct {
	// Account is the account's home ID; ID and Name the drive item's.
	Account, ID, Name string
	Size              int64
	// Head is up to SampleSize bytes from the start of the content.
	Head []byte
}

// headCapture keeps the first bytes written to it.
type headCapture struct {
	buf []byte
	max int
}

func (h *headCapture) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
