package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cairn/internal/node"
)

const exampleConfig = "../../packaging/storaged.example.yaml"

// TestExampleConfigNamesEveryFlag: the commented example is the config
// file's documentation, so it names every flag a file may set, set or
// commented out, and nothing else.
func TestExampleConfigNamesEveryFlag(t *testing.T) {
	b, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^(?:# )?([a-z0-9-]+):`).FindAllStringSubmatch(string(b), -1) {
		keys[m[1]] = true
	}
	dev, cl := node.DefaultDev(), node.DefaultConfig()
	fs, _ := newFlagSet(&dev, &cl, new(addrList))
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if !slices.Contains(notInConfig, f.Name) && !keys[f.Name] {
			t.Errorf("%s does not mention the key %q (--%s)", exampleConfig, f.Name, f.Name)
		}
		delete(keys, f.Name)
	})
	if n < 30 {
		t.Fatalf("only %d flags: the check looks at the wrong flag set", n)
	}
	for k := range keys {
		t.Errorf("%s mentions %q, which is no flag", exampleConfig, k)
	}
}

// TestApplyConfig: the example sets what it says, a flag on the command
// line wins over the file, and a bad file is refused naming the key.
func TestApplyConfig(t *testing.T) {
	dev, cl := node.DefaultDev(), node.DefaultConfig()
	var join addrList
	fs, v := newFlagSet(&dev, &cl, &join)
	if err := fs.Parse([]string{"--zone", "from-flag", "--config", exampleConfig}); err != nil {
		t.Fatal(err)
	}
	if err := applyConfig(fs, *v.configFile); err != nil {
		t.Fatal(err)
	}
	if cl.StorageDir != "/var/lib/cairn/shards" || !cl.Meta || *v.s3 != "10.0.0.1:9000" || *v.data != "/var/lib/cairn/data" ||
		cl.APIAddr != "10.0.0.1:7071" || cl.GossipAddr != "10.0.0.1:7946" || cl.RaftAddr != "10.0.0.1:7947" || cl.AdminAddr != "127.0.0.1:7070" ||
		*v.secretFile != "/etc/cairn/cluster.secret" {
		t.Errorf("the example's values were not applied: %+v", cl)
	}
	if cl.Zone != "from-flag" {
		t.Errorf("zone %q: the command line's from-flag should win over the file's", cl.Zone)
	}
	// Defaults stay where the example comments a key out.
	if cl.Grace != 10*time.Minute || *v.stripe != "4+2" || !cl.Seal || len(join) != 0 {
		t.Errorf("a commented-out key changed a default: grace %v stripe %s seal %v join %v", cl.Grace, *v.stripe, cl.Seal, join)
	}

	dir := t.TempDir()
	apply := func(text string, args ...string) (*flagValues, node.Config, addrList, error) {
		t.Helper()
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		dev, cl := node.DefaultDev(), node.DefaultConfig()
		var join addrList
		fs, v := newFlagSet(&dev, &cl, &join)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return v, cl, join, applyConfig(fs, path)
	}
	v, cl2, join2, err := apply("join: [10.0.0.2:7946, 10.0.0.3:7946]\nseal: false\ngrace: 90s\naudit-rate: 0.5\nadmin: \"\"\napproval: True\n")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(join2, addrList{"10.0.0.2:7946", "10.0.0.3:7946"}) || cl2.Seal || cl2.Grace != 90*time.Second ||
		*v.auditRate != 0.5 || cl2.AdminAddr != "" || !*v.approval {
		t.Errorf("got join %v seal %v grace %v audit-rate %v admin %q approval %v", join2, cl2.Seal, cl2.Grace, *v.auditRate, cl2.AdminAddr, *v.approval)
	}
	if _, _, join3, err := apply("join: 10.0.0.9:7946\n", "--join", "10.0.0.2:7946"); err != nil || !slices.Equal(join3, addrList{"10.0.0.2:7946"}) {
		t.Errorf("join on the command line and in the file: %v, %v; want the command line's alone", join3, err)
	}
	for _, empty := range []string{"", "# nothing but a comment\n", "---\n"} {
		if _, _, _, err := apply(empty); err != nil {
			t.Errorf("empty file %q: %v", empty, err)
		}
	}
	for text, want := range map[string]string{
		"zone: a\nzones: b\n":       `line 2: zones: no such flag`,
		"config: other.yaml\n":      `config: not a config key`,
		"version: true\n":           `version: not a config key`,
		"grace: soon\n":             `line 1: grace: invalid value "soon"`,
		"zone: a\nzone: b\n":        `zone: given twice`,
		"storage:\n  dir: /srv\n":   `storage: line 2: want a value or a list`,
		"- data\n":                  `want a mapping of flag names`,
		"zone: [a\n":                `yaml`,
		"zone: a\n---\nzone: b\n":   `one YAML document expected`,
		"join: [[10.0.0.2:7946]]\n": `a list of plain values expected`,
	} {
		if _, _, _, err := apply(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %q: error %v, want one containing %q", text, err, want)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"--version"}, &out); err != nil {
		t.Fatal(err)
	}
	line := out.String()
	if !strings.HasPrefix(line, "storaged ") || strings.Count(line, "\n") != 1 || !strings.Contains(line, "go1.") {
		t.Errorf("storaged --version printed %q, want one line with the version, commit and Go version", line)
	}
}
