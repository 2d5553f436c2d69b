package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// notInConfig are the flags a config file cannot set: they say how to
// read flags, or make storaged do something else than run.
var notInConfig = []string{"config", "version", "help", "h"}

// applyConfig sets, from the YAML file at path, every flag of fs that the
// command line did not set. The file is one mapping whose keys are flag
// names without the dashes ("scrub-interval: 24h"), and whose values are
// scalars written as on the command line (strings, numbers, booleans, a
// duration such as 10m) or, for a flag that takes several (join), a list.
// An unknown key, or a value the flag refuses, is an error that names
// the file and the key.
func applyConfig(fs *flag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil // an empty file (or only comments)
	} else if err != nil {
		return fmt.Errorf("--config %s: %w", path, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return fmt.Errorf("--config %s: one YAML document expected", path)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		if root.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("--config %s: line %d: want a mapping of flag names to values (data: /srv/cairn/data)", path, root.Line)
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		name := k.Value
		at := fmt.Sprintf("--config %s: line %d: %s", path, k.Line, name)
		if seen[name] {
			return fmt.Errorf("%s: given twice", at)
		}
		seen[name] = true
		if slices.Contains(notInConfig, name) {
			return fmt.Errorf("%s: not a config key (only on the command line)", at)
		}
		if fs.Lookup(name) == nil {
			return fmt.Errorf("%s: no such flag (the keys are storaged's flags without the dashes; see storaged --help)", at)
		}
		value, err := configValue(v)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if onCommandLine[name] {
			continue // the command line wins
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("%s: invalid value %q: %w", at, value, err)
		}
	}
	return nil
}

// configValue returns a YAML value as the flag's command line text: a
// scalar as written (null as ""), a list of scalars comma-separated.
func configValue(v *yaml.Node) (string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return "", nil
		}
		if v.Tag == "!!bool" {
			// YAML's true/True/TRUE, as flag's ParseBool reads them.
			var b bool
			if err := v.Decode(&b); err != nil {
				return "", err
			}
			return strconv.FormatBool(b), nil
		}
		return v.Value, nil
	case yaml.SequenceNode:
		var items []string
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return "", fmt.Errorf("line %d: a list of plain values expected", it.Line)
			}
			items = append(items, it.Value)
		}
		return strings.Join(items, ","), nil
	}
	return "", fmt.Errorf("line %d: want a value or a list of values, not a mapping", v.Line)
}
