package app

import (
	"context"
	"path/filepath"
)

// LegacyFilesDir is where versions before issue 20 kept uploads, under
// the data directory; files now live in the database.
const LegacyFilesDir = "files"

// ImportDiskFiles brings the uploads an earlier version kept on this
// instance's disk into the database, so that every instance and every
// backup has them. It runs at every start: files already imported are
// skipped, and the directory is left as it was.
func (a *App) ImportDiskFiles(ctx context.Context) error {
	_, err := a.Files.ImportDir(ctx, filepath.Join(a.Config.DataDir, LegacyFilesDir), a.Logger)
	return err
}
