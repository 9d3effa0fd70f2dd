package cli

import "time"

// wallClock is the machine's time, in UTC so that every record a server
// writes reads the same wherever it runs.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now().UTC() }
