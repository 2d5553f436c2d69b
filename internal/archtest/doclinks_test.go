package archtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mdLink is a Markdown link's target: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinksStayInTheRepository: every link of the README and of the
// documents under docs/ and packaging/ names a file of the repository
// (a clone has no shared folder beside it), and the README links to
// nothing outside it.
func TestDocLinksStayInTheRepository(t *testing.T) {
	root := "../.."
	docs := []string{"README.md", "packaging/README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		rel, _ := filepath.Rel(root, m)
		docs = append(docs, rel)
	}
	if len(docs) < 6 {
		t.Fatalf("only %d documents found: the check looks in the wrong place", len(docs))
	}
	links := 0
	for _, doc := range docs {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			switch {
			case strings.HasPrefix(target, "#"):
				continue
			case strings.Contains(target, "://"):
				if doc == "README.md" {
					t.Errorf("%s links outside the repository: %s", doc, target)
				}
				continue
			}
			links++
			path := filepath.Join(root, filepath.Dir(doc), strings.SplitN(target, "#", 2)[0])
			rel, err := filepath.Rel(root, path)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links outside the repository: %s", doc, target)
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", doc, target)
			}
		}
	}
	if links < 20 {
		t.Fatalf("only %d links checked: the pattern finds too few", links)
	}
}
