package readmetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// firstScreen is how many lines of the README a reader sees before
// scrolling: the front door's commands must open before it ends.
const firstScreen = 30

// checkMarks returns a problem for each block of a README's blocks that no
// test runs and that is not marked illustrative, for an output block that
// does not follow a quick start block, and for a front door that is
// missing, repeated or below the first screen.
func checkMarks(blocks []block) []string {
	var problems []string
	frontdoors := 0
	for i, b := range blocks {
		switch {
		case b.has("illustrative"):
		case b.lang == "sh" && b.has("quickstart"):
		case b.lang == "text" && b.has("output"):
			if i == 0 || !blocks[i-1].has("quickstart") {
				problems = append(problems, fmt.Sprintf("line %d: a ```%s block must directly follow a ```sh quickstart block (whose output it is)", b.line, b.info()))
			}
		case b.lang == "sh" && b.has("frontdoor"):
			frontdoors++
			if b.line > firstScreen {
				problems = append(problems, fmt.Sprintf("line %d: the front door's commands must be on the first screen (line %d at the latest)", b.line, firstScreen))
			}
		default:
			problems = append(problems, fmt.Sprintf("line %d: the ```%s block is run by no test: mark it \"sh quickstart\" (and show its output in a \"text output\" block) or \"%s illustrative\"", b.line, b.info(), b.lang))
		}
	}
	if frontdoors != 1 {
		problems = append(problems, fmt.Sprintf("the README has %d ```sh frontdoor blocks, want 1 (the server and the tests, on the first screen)", frontdoors))
	}
	return problems
}

func TestREADMEBlocksAreRunOrIllustrative(t *testing.T) {
	blocks := fences(readFile(t, repoRoot(t), "README.md"))
	for _, p := range checkMarks(blocks) {
		t.Errorf("README.md %s", p)
	}
	quick := 0
	for _, b := range blocks {
		if b.has("quickstart") {
			quick++
		}
	}
	if quick == 0 {
		t.Error("README.md has no ```sh quickstart block")
	}
}

// TestCheckMarksRefuses shows checkMarks failing on what it must refuse.
func TestCheckMarksRefuses(t *testing.T) {
	door := "```sh frontdoor\ngo run ./app/cmd/stockade serve\n```\n"
	cases := map[string]struct {
		md   string
		want string
	}{
		"unmarked block":            {door + "```sh\nstockade serve\n```\n", "line 4: the ```sh block is run by no test"},
		"unmarked go block":         {door + "```go\nx := 1\n```\n", "line 4: the ```go block is run by no test"},
		"bare fence":                {door + "```\nx\n```\n", "line 4: the ``` block is run by no test"},
		"orphan output":             {door + "```sh illustrative\nls\n```\n```text output\nx\n```\n", "line 7: a ```text output block must directly follow"},
		"no front door":             {"```sh quickstart\nls\n```\n", "0 ```sh frontdoor blocks"},
		"front door below the fold": {strings.Repeat("text\n", firstScreen) + door, "must be on the first screen"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			problems := checkMarks(fences(c.md))
			if !strings.Contains(strings.Join(problems, "\n"), c.want) {
				t.Errorf("problems = %q, want one containing %q", problems, c.want)
			}
		})
	}
	if p := checkMarks(fences(door + "```sh quickstart\nls\n```\n```text output\nx\n```\n```go illustrative\nx\n```\n")); len(p) != 0 {
		t.Errorf("a well-marked README got problems %q", p)
	}
}

// frontDoor returns the commands of the README's front door block, without
// their comments.
func frontDoor(t *testing.T, root string) (serve, test string) {
	t.Helper()
	for _, b := range fences(readFile(t, root, "README.md")) {
		if !b.has("frontdoor") {
			continue
		}
		var cmds []string
		for _, line := range strings.Split(b.text, "\n") {
			line, _, _ = strings.Cut(line, "#")
			if line = strings.TrimSpace(line); line != "" {
				cmds = append(cmds, line)
			}
		}
		if len(cmds) != 2 {
			t.Fatalf("the front door holds %d commands %q, want 2: the server and the tests", len(cmds), cmds)
		}
		return cmds[0], cmds[1]
	}
	t.Fatal("README.md has no ```sh frontdoor block")
	return "", ""
}

// TestFrontDoorTestCommandIsWhatCIRuns: the README's test command is the
// one .ci/run runs (with STOCKADE_REQUIRE_INTEGRATION=1), so CI runs it.
func TestFrontDoorTestCommandIsWhatCIRuns(t *testing.T) {
	root := repoRoot(t)
	_, test := frontDoor(t, root)
	if test != "go test -count=1 ./..." {
		t.Errorf("the README's test command is %q; .ci/run and this test expect \"go test -count=1 ./...\"", test)
	}
	for _, line := range strings.Split(readFile(t, root, ".ci/run"), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "#") && strings.HasSuffix(line, test) && strings.Contains(line, "STOCKADE_REQUIRE_INTEGRATION=1 "+test) {
			return
		}
	}
	t.Errorf(".ci/run has no line running %q with STOCKADE_REQUIRE_INTEGRATION=1", test)
}

// TestFrontDoorServes runs the README's server command as written, from
// the repository's root, with only the listen address (a free port) and
// the data directory (a temporary one) set: it must serve on the embedded
// default (SQLite and local files in the data directory) and answer
// /readyz.
func TestFrontDoorServes(t *testing.T) {
	root := repoRoot(t)
	serve, _ := frontDoor(t, root)
	if serve != "go run ./app/cmd/stockade serve" {
		t.Errorf("the README's server command is %q, want \"go run ./app/cmd/stockade serve\"", serve)
	}
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", serve)
	cmd.Dir = root
	cmd.Env = append(cleanEnv(),
		"STOCKADE_HTTP_ADDR=127.0.0.1:0", "STOCKADE_DATA_DIR="+data, "STOCKADE_LOG_FORMAT=json")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})

	// The server logs {"msg":"listening","addr":…} once it accepts.
	addr := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			}
		}
		close(addr)
	}()
	a, ok := <-addr
	if !ok {
		t.Fatalf("the server ended without logging \"listening\"; its output:\n%s", log.String())
	}
	res, err := http.Get("http://" + a + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ready"}` {
		t.Errorf("GET /readyz = %d %s, want 200 {\"status\":\"ready\"}", res.StatusCode, body)
	}
	for _, p := range []string{"stockade.db", "objects"} {
		if _, err := os.Stat(filepath.Join(data, p)); err != nil {
			t.Errorf("the embedded default keeps %s in the data directory: %v", p, err)
		}
	}
}

// cleanEnv is this process's environment without STOCKADE_* settings (a
// developer's own must not change what the README's commands do) and
// without the variables the quick start sets itself.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "STOCKADE_"):
		case name == "PORT" || name == "QS" || name == "SHOP" || name == "R" || name == "COOKIE" || name == "FILE" || name == "LINK" || name == "SERVER":
		default:
			out = append(out, kv)
		}
	}
	return out
}
