package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits of a benchmarked server process.
const (
	// serverStartTimeout bounds the wait for a started server to listen:
	// it migrates a fresh database first, which takes a second or two.
	serverStartTimeout = time.Minute
	// serverStopTimeout bounds its graceful stop, past the HTTP server's
	// own shutdown timeout and the committer's drain.
	serverStopTimeout = 2 * time.Minute
	// serverLogTail is how many of its last log lines are kept to explain
	// a failure.
	serverLogTail = 20
)

// serverProcess is a `poise serve` started as a child process on loopback.
type serverProcess struct {
	cmd *exec.Cmd
	// url is the API's root; profilesAddr the runtime profiles' address,
	// when asked for.
	url          string
	profilesAddr string
	exited       chan struct{}
	waitErr      error

	mu       sync.Mutex
	tail     []string
	errors   int
	warnings int
	firstErr string
}

// startServer runs binary serve with storage, on a free loopback port, and
// waits until it listens. The child's environment is this process's
// without any POISE_ variable, so that only the benchmark's own settings
// configure it.
func startServer(ctx context.Context, binary string, storage []string, profiles bool) (*serverProcess, error) {
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", "info"}, storage...)
	if profiles {
		args = append(args, "--pprof", "127.0.0.1:0")
	}
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, serverEnvPrefix) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	logs, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	p := &serverProcess{cmd: cmd, exited: make(chan struct{})}
	listening := make(chan string, 1)
	profilesAt := make(chan string, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		p.readLogs(logs, listening, profilesAt)
	}()
	go func() {
		<-readDone
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	timeout := time.NewTimer(serverStartTimeout)
	defer timeout.Stop()
	for p.url == "" || (profiles && p.profilesAddr == "") {
		select {
		case addr := <-listening:
			p.url = "http://" + addr
		case addr := <-profilesAt:
			p.profilesAddr = addr
		case <-p.exited:
			return nil, fmt.Errorf("the server exited before listening (%v):\n%s", p.waitErr, p.logTail())
		case <-timeout.C:
			p.kill()
			return nil, fmt.Errorf("the server did not listen within %s:\n%s", serverStartTimeout, p.logTail())
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		}
	}
	return p, nil
}

// readLogs reads the server's JSON log lines until it exits: it reports
// where it listens, counts errors and warnings, and keeps the last lines.
func (p *serverProcess) readLogs(r io.Reader, listening, profilesAt chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var entry struct{ Level, Msg, Addr string }
		json.Unmarshal([]byte(line), &entry)
		switch {
		case entry.Msg == "listening" && entry.Addr != "":
			listening <- entry.Addr
		case entry.Msg == "serving profiles" && entry.Addr != "":
			profilesAt <- entry.Addr
		}
		p.mu.Lock()
		switch entry.Level {
		case "ERROR":
			p.errors++
			if p.firstErr == "" {
				p.firstErr = line
			}
		case "WARN":
			p.warnings++
		}
		p.tail = append(p.tail, line)
		if len(p.tail) > serverLogTail {
			p.tail = p.tail[1:]
		}
		p.mu.Unlock()
	}
	// A line too long to scan must not block the server on a full pipe.
	io.Copy(io.Discard, r)
}

func (p *serverProcess) logTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// logSummary says how many errors and warnings the server logged.
func (p *serverProcess) logSummary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := fmt.Sprintf("server log: %d errors, %d warnings", p.errors, p.warnings)
	if p.firstErr != "" {
		s += "; first error: " + p.firstErr
	}
	return s
}

// stop asks the server to stop as SIGTERM does and waits for it; an exit
// other than a clean one is an error, as it may have lost acknowledged work.
func (p *serverProcess) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.exited:
	case <-time.After(serverStopTimeout):
		p.kill()
		return fmt.Errorf("the server did not stop within %s:\n%s", serverStopTimeout, p.logTail())
	}
	if p.waitErr != nil {
		return fmt.Errorf("the server stopped with %v:\n%s", p.waitErr, p.logTail())
	}
	return nil
}

func (p *serverProcess) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// resetPeakRSS starts the process's peak resident memory (VmHWM) over from
// its current resident memory, as writing 5 to clear_refs does on Linux.
func (p *serverProcess) resetPeakRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0)
}

// peakRSSBytes reads the process's peak resident memory (VmHWM).
func (p *serverProcess) peakRSSBytes() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
