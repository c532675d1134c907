package testinfra

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a server gets to exit after SIGINT before it is
// killed.
const stopGrace = 10 * time.Second

// process is a long-running server child started by this package. Its
// stdout and stderr go to a log file whose tail is quoted in failures.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed once the process has exited
	waitErr error         // the result of cmd.Wait; read only after done is closed
}

// startProcess starts cmd through sp with output appended to logPath. It
// arranges for the child to get SIGKILL if the test binary dies (Pdeathsig)
// and puts it in its own process group so that stop can kill the whole
// group. Any SysProcAttr.Credential already set on cmd is kept.
func startProcess(sp *spawner, name string, cmd *exec.Cmd, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setpgid = true
	if err := sp.start(cmd); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, cmd.Path, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports, without blocking, whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to exit with SIGINT (a fast shutdown for
// PostgreSQL), waits up to grace, then SIGKILLs its process group. It returns
// an error if the process had already died on its own or had to be killed;
// an exit status after SIGINT is not an error.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		return fmt.Errorf("%s exited before shutdown: %v\n%s", p.name, p.waitErr, p.logTail())
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("interrupt %s: %w", p.name, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	// Negative pid: the whole process group (Setpgid), so children die too.
	killErr := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	if killErr != nil {
		return fmt.Errorf("%s ignored SIGINT for %s and kill failed: %w", p.name, grace, killErr)
	}
	return fmt.Errorf("%s ignored SIGINT for %s; killed\n%s", p.name, grace, p.logTail())
}

// logTail returns the last lines of the process log, labelled, for
// inclusion in error messages. The text is copied because the log file may
// be removed with its temporary directory.
func (p *process) logTail() string {
	return fmt.Sprintf("--- %s log (tail) ---\n%s", p.name, fileTail(p.logPath, 4096))
}

// fileTail returns roughly the last maxBytes of the file at path, starting
// at a line boundary, or a note saying why it could not be read.
func fileTail(path string, maxBytes int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	offset := max(info.Size()-maxBytes, 0)
	buf, err := io.ReadAll(io.NewSectionReader(f, offset, info.Size()-offset))
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	text := string(buf)
	if offset > 0 {
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[i+1:]
		}
	}
	if strings.TrimSpace(text) == "" {
		return "(log empty)"
	}
	return text
}

// spawner starts child processes from a single goroutine locked to its OS
// thread. Linux delivers Pdeathsig when the thread that forked the child
// exits, not when the process does, and the Go runtime may retire ordinary
// threads; a dedicated locked thread that lives until shutdown ties the
// backstop to the lifetime of the test binary instead.
type spawner struct {
	reqs chan spawnRequest
	quit chan struct{}
	done chan struct{}
}

type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan error
}

// newSpawner starts the spawner goroutine; stop it with shutdown.
func newSpawner() *spawner {
	s := &spawner{
		reqs: make(chan spawnRequest),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	// Never unlocked: when loop returns the thread exits with it, which
	// also fires Pdeathsig for any child that somehow survived shutdown.
	runtime.LockOSThread()
	defer close(s.done)
	for {
		select {
		case req := <-s.reqs:
			req.errc <- req.cmd.Start()
		case <-s.quit:
			return
		}
	}
}

// start runs cmd.Start on the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	req := spawnRequest{cmd: cmd, errc: make(chan error, 1)}
	select {
	case s.reqs <- req:
		return <-req.errc
	case <-s.done:
		return errors.New("testinfra is shut down")
	}
}

// run starts cmd on the spawner's thread and waits for it to finish.
func (s *spawner) run(cmd *exec.Cmd) error {
	if err := s.start(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// shutdown stops the spawner goroutine and waits for it to exit.
func (s *spawner) shutdown() {
	close(s.quit)
	<-s.done
}
