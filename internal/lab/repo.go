package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// release is one version of a package in the lab's repository.
type release struct {
	Package string
	Version string
	// Bad versions make the host's site answer 500 once they run.
	Bad bool
}

// repository is the lab's package repository, oldest version first: the
// first version of each package is what every host has installed at start.
func repository() []release {
	return []release{
		{Package: "openssl", Version: "3.0.11"},
		{Package: "openssl", Version: "3.0.13"},
		{Package: "openssl", Version: "3.0.14", Bad: true},
		{Package: "linux-image", Version: "6.1.0-18"},
		{Package: "linux-image", Version: "6.1.0-21"},
	}
}

// versions maps a package name to a version.
type versions map[string]string

// initialVersions is what a fresh host has installed.
func initialVersions(repo []release) versions {
	v := versions{}
	for _, r := range repo {
		if _, ok := v[r.Package]; !ok {
			v[r.Package] = r.Version
		}
	}
	return v
}

// packages lists the repository's package names in repository order.
func packages(repo []release) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range repo {
		if !seen[r.Package] {
			seen[r.Package] = true
			names = append(names, r.Package)
		}
	}
	return names
}

// bad returns the first running version that the repository marks bad.
func (v versions) bad(repo []release) (pkg, version string, ok bool) {
	for _, r := range repo {
		if r.Bad && v[r.Package] == r.Version {
			return r.Package, r.Version, true
		}
	}
	return "", "", false
}

// repoFile is DIR/repo as the host-side scripts read it: one
// "NAME VERSION [bad]" per line, oldest first.
func repoFile(repo []release) []byte {
	var b bytes.Buffer
	b.WriteString("# The lab's package repository: NAME VERSION [bad], oldest version first.\n")
	b.WriteString("# On a lab host, `labpkg install NAME` installs the newest version, `NAME=VERSION` a given one.\n")
	b.WriteString("# A host whose running version is marked bad answers 500 on its site.\n")
	for _, r := range repo {
		line := r.Package + " " + r.Version
		if r.Bad {
			line += " bad"
		}
		b.WriteString(line + "\n")
	}
	return b.Bytes()
}

// encode writes the versions in repository order, one "NAME VERSION" a line,
// the format the host-side scripts read and write.
func (v versions) encode(repo []release) []byte {
	var b bytes.Buffer
	for _, name := range packages(repo) {
		if ver, ok := v[name]; ok {
			fmt.Fprintf(&b, "%s %s\n", name, ver)
		}
	}
	return b.Bytes()
}

func readVersions(path string) (versions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v := versions{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 {
			v[f[0]] = f[1]
		}
	}
	return v, sc.Err()
}

// writeFileAtomic replaces path in one rename, as the scripts on the host side
// read these files at any time.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), perm)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}
