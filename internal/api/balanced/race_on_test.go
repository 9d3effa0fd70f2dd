//go:build race

package balanced_test

// raceDetector says the tests run under the race detector, which makes
// them five to ten times slower: tests of volume use a smaller volume
// there, since the full one runs in the ordinary pass.
const raceDetector = true
