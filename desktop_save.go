package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// defaultExportName is the name the save dialog suggests when the page
// suggests none that can be used.
const defaultExportName = "hearth-export"

// FileSaver saves exports from the desktop window through a native save
// dialog, because a download that the page starts may do nothing in the
// window's web view. Wails binds it into the page as
// window.go.main.FileSaver.
//
// Wails exposes every exported method of a bound struct to the page, so
// SaveFile must stay the only one. With it the page suggests a file name and
// passes the content, and only the user chooses, in the dialog, where the
// file goes.
type FileSaver struct {
	log *slog.Logger
	// chooseFile shows the save dialog and returns the chosen path, or ""
	// when the user cancelled it. Tests replace it.
	chooseFile func(ctx context.Context, suggestedName string) (string, error)

	mu sync.Mutex
	// ctx is the window's context, which the dialog needs. It is nil until
	// the window has started.
	ctx context.Context
}

func newFileSaver(log *slog.Logger) *FileSaver {
	return &FileSaver{log: log, chooseFile: showSaveDialog}
}

// start stores the window's context. OnStartup calls it before the page loads.
func (s *FileSaver) start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx = ctx
}

// SaveFile shows a save dialog that suggests suggestedName, and writes
// content to the file the user chooses, with mode 0600. It returns false and
// no error when the user cancels the dialog. The page calls it through the
// Wails binding, which turns a non-nil error into a rejected promise whose
// reason is the error's text.
func (s *FileSaver) SaveFile(suggestedName, content string) (bool, error) {
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	if ctx == nil {
		return false, errors.New("the window is still starting; try again in a moment")
	}

	path, err := s.chooseFile(ctx, safeFileName(suggestedName))
	if err != nil {
		s.log.Error("save dialog failed", "err", err)
		return false, fmt.Errorf("the save dialog failed: %w", err)
	}
	if path == "" {
		return false, nil
	}

	// The path is not logged: its file name is usually the thread's title,
	// which Hearth otherwise keeps only encrypted.
	if err := writePrivateFile(path, []byte(content)); err != nil {
		s.log.Error("save export failed", "err", errors.Unwrap(err))
		return false, err
	}
	s.log.Info("export saved", "bytes", len(content))
	return true, nil
}

// showSaveDialog shows GTK's save dialog over the window, in the user's home
// folder. Without a folder GTK opens the process's working directory. The
// dialog requests a confirmation before it replaces an existing file, because
// Wails v2.9.2 turns GTK's overwrite confirmation on.
func showSaveDialog(ctx context.Context, suggestedName string) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	return wailsruntime.SaveFileDialog(ctx, wailsruntime.SaveDialogOptions{
		Title:                "Save export",
		DefaultDirectory:     home,
		DefaultFilename:      suggestedName,
		CanCreateDirectories: true,
	})
}

// safeFileName returns the last element of name without control characters
// or leading dots, for the dialog to suggest. A suggestion such as
// "../.bashrc" would otherwise save outside the dialog's folder, or as a
// hidden file, when the user only presses Enter.
func safeFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if name == "" {
		return defaultExportName
	}
	return name
}

// writePrivateFile writes data to path with mode 0600, replacing any file
// there. It writes a temporary file in the same folder and renames it over
// path, so that a failed write leaves an existing file as it was and the
// mode of a replaced file does not carry over.
func writePrivateFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".hearth-export-*")
	if err != nil {
		return fmt.Errorf("cannot write in the folder %s: %w", dir, pathErrorReason(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	// CreateTemp's mode is 0600 narrowed by the umask; set it exactly.
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("cannot set the permissions of a new file in %s: %w", dir, pathErrorReason(err))
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, pathErrorReason(err))
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, pathErrorReason(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, pathErrorReason(err))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot replace %s: %w", path, pathErrorReason(err))
	}
	return nil
}

// pathErrorReason returns the cause inside a *fs.PathError, such as
// "permission denied", because the message that wraps it already names the
// file and the temporary file's name would only confuse the user.
func pathErrorReason(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	var linkErr *os.LinkError
	if errors.As(err, &linkErr) {
		return linkErr.Err
	}
	return err
}
