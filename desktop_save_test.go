package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWritePrivateFileCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "thread.md")

	if err := writePrivateFile(path, []byte("# Thread\n")); err != nil {
		t.Fatal(err)
	}

	assertFile(t, path, "# Thread\n")
	assertOnlyFile(t, filepath.Dir(path), "thread.md")
}

func TestWritePrivateFileReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "thread.json")
	if err := os.WriteFile(path, []byte("an older, longer export"), 0o644); err != nil {
		t.Fatal(err)
	}
	// os.WriteFile's mode is narrowed by the umask, so set it exactly.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := writePrivateFile(path, []byte(`{"thread":{}}`)); err != nil {
		t.Fatal(err)
	}

	assertFile(t, path, `{"thread":{}}`)
	assertOnlyFile(t, filepath.Dir(path), "thread.json")
}

func TestWritePrivateFileMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")

	err := writePrivateFile(filepath.Join(dir, "thread.md"), []byte("text"))

	if err == nil {
		t.Fatal("writing into a missing folder succeeded, want an error")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the folder %s", err, dir)
	}
	if strings.Contains(err.Error(), ".hearth-export-") {
		t.Errorf("error %q names the temporary file", err)
	}
}

func TestWritePrivateFileFailedRename(t *testing.T) {
	dir := t.TempDir()
	// A path that names a folder with a file in it cannot be replaced by a
	// file, even by root.
	path := filepath.Join(dir, "thread.md")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "kept"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	err := writePrivateFile(path, []byte("text"))

	if err == nil {
		t.Fatal("replacing a folder succeeded, want an error")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	assertOnlyFile(t, dir, "thread.md")
}

func TestSaveFileWritesChosenPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chosen.md")
	saver, suggestions := startedSaver(t, func() (string, error) { return path, nil })

	saved, err := saver.SaveFile("Trip plans.md", "# Trip plans\n")

	if err != nil {
		t.Fatal(err)
	}
	if !saved {
		t.Error("SaveFile returned false, want true")
	}
	assertFile(t, path, "# Trip plans\n")
	if got := *suggestions; len(got) != 1 || got[0] != "Trip plans.md" {
		t.Errorf("dialog suggestions = %q, want [\"Trip plans.md\"]", got)
	}
}

func TestSaveFileCancelled(t *testing.T) {
	saver, _ := startedSaver(t, func() (string, error) { return "", nil })

	saved, err := saver.SaveFile("thread.md", "text")

	if err != nil {
		t.Fatal(err)
	}
	if saved {
		t.Error("SaveFile returned true after a cancelled dialog, want false")
	}
}

func TestSaveFileDialogError(t *testing.T) {
	saver, _ := startedSaver(t, func() (string, error) { return "", errors.New("no display") })

	saved, err := saver.SaveFile("thread.md", "text")

	if err == nil || !strings.Contains(err.Error(), "no display") {
		t.Errorf("SaveFile error = %v, want the dialog's error", err)
	}
	if saved {
		t.Error("SaveFile returned true after a failed dialog, want false")
	}
}

func TestSaveFileBeforeStart(t *testing.T) {
	saver := newFileSaver(slog.New(slog.NewTextHandler(io.Discard, nil)))
	saver.chooseFile = func(context.Context, string) (string, error) {
		t.Error("the dialog opened before the window started")
		return "", nil
	}

	if _, err := saver.SaveFile("thread.md", "text"); err == nil {
		t.Error("SaveFile before start succeeded, want an error")
	}
}

func TestSaveFileSuggestsBaseName(t *testing.T) {
	tests := map[string]string{
		"thread.md":            "thread.md",
		"../../.bashrc":        "bashrc",
		`..\..\evil.json`:      "evil.json",
		"/etc/passwd":          "passwd",
		"folder/":              defaultExportName,
		"":                     defaultExportName,
		"..":                   defaultExportName,
		"  notes.md  ":         "notes.md",
		"line\nbreak\x7f.md":   "linebreak.md",
		"Réunion du 3 mai.md":  "Réunion du 3 mai.md",
		"...hidden.json":       "hidden.json",
		"name with / slash.md": "slash.md",
	}
	for suggested, want := range tests {
		saver, suggestions := startedSaver(t, func() (string, error) { return "", nil })
		if _, err := saver.SaveFile(suggested, "text"); err != nil {
			t.Fatal(err)
		}
		if got := *suggestions; len(got) != 1 || got[0] != want {
			t.Errorf("suggestion for %q = %q, want %q", suggested, got, want)
		}
	}
}

// TestFileSaverExportsOnlySaveFile guards what the page can call: Wails
// binds every exported method of FileSaver into the page.
func TestFileSaverExportsOnlySaveFile(t *testing.T) {
	saverType := reflect.TypeFor[*FileSaver]()
	var names []string
	for i := range saverType.NumMethod() {
		names = append(names, saverType.Method(i).Name)
	}
	if len(names) != 1 || names[0] != "SaveFile" {
		t.Errorf("exported methods of FileSaver = %v, want only SaveFile: any other is callable from the page", names)
	}
}

// startedSaver returns a FileSaver whose dialog returns what choose returns,
// and the names that the dialog was asked to suggest.
func startedSaver(t *testing.T, choose func() (string, error)) (*FileSaver, *[]string) {
	t.Helper()
	var suggestions []string
	saver := newFileSaver(slog.New(slog.NewTextHandler(io.Discard, nil)))
	saver.chooseFile = func(ctx context.Context, suggestedName string) (string, error) {
		if ctx == nil {
			t.Error("the dialog got no context")
		}
		suggestions = append(suggestions, suggestedName)
		return choose()
	}
	saver.start(t.Context())
	return saver, &suggestions
}

// assertFile checks that path contains want and has mode 0600.
func assertFile(t *testing.T, path, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != want {
		t.Errorf("%s contains %q, want %q", path, data, want)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %v, want -rw-------", path, mode)
	}
}

// assertOnlyFile checks that dir contains exactly the files named, so that
// no temporary file was left behind.
func assertOnlyFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, entry := range entries {
		got = append(got, entry.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("%s contains %q, want %q", dir, got, names)
	}
}
