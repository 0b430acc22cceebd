package system

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// MaxRestoreUpload bounds an uploaded backup (the database of a large group
// compresses to a few GB).
const MaxRestoreUpload = 64 << 30

// Routes is the backup route table (all need system.backup).
func (b *Backups) Routes() []api.Route {
	p := auth.PermBackup
	return []api.Route{
		{Method: http.MethodGet, Path: "/system/backup", Perm: p, Summary: "Backup status: last and next run, progress, folders, warnings", Out: BackupStatus{}, Handler: b.hStatus},
		{Method: http.MethodPut, Path: "/system/backup/settings", Perm: p, Summary: "Change the backup schedule, retention, extra folder and recovery key", In: BackupSettings{}, Out: BackupStatus{}, Handler: b.hSaveSettings},
		{Method: http.MethodPost, Path: "/system/backup/recovery-key", Perm: p, Summary: "Generate an offline recovery key (shown once, not stored)", Out: RecoveryKey{}, Handler: b.hNewRecoveryKey, Status: http.StatusOK},
		{Method: http.MethodPost, Path: "/system/backup/recovery-key/confirm", Perm: p, Summary: "Confirm the recovery key by pasting it back; its public half is used from now on", In: ConfirmRecoveryInput{}, Out: BackupStatus{}, Handler: b.hConfirmRecoveryKey, Status: http.StatusOK},
		{Method: http.MethodPost, Path: "/system/backup/run", Perm: p, Summary: "Start a backup now (202; 409 backup.busy while one runs)", Out: BackupRun{}, Handler: b.hRun, Status: http.StatusAccepted},
		{Method: http.MethodGet, Path: "/system/backups", Perm: p, Summary: "The backups in the data dir, newest first", Out: api.List[BackupFile]{}, Handler: b.hList},
		{Method: http.MethodGet, Path: "/system/backups/:name/download", Perm: p, Summary: "Download an encrypted backup (audited)", Handler: b.hDownload},
		{Method: http.MethodPost, Path: "/system/backups/:name/verify", Perm: p, Summary: "Test-restore a backup with this machine's key", Out: VerifyResult{}, Handler: b.hVerify},
		{Method: http.MethodPost, Path: "/system/restore", Perm: p, Summary: "Restore a listed backup (JSON) or an uploaded one (multipart: identity, passphrase, file); 202, then the server restarts its data",
			In: RestoreInput{}, Out: restoreAccepted{}, Handler: b.hRestore, Multipart: true, MaxBody: MaxRestoreUpload, Status: http.StatusAccepted},
		{Method: http.MethodGet, Path: "/system/restore/last", Perm: p, Summary: "How the last restore ended (204 when there was none)", Out: RestoreResult{}, Handler: b.hLastRestore},
	}
}

type restoreAccepted struct {
	Restoring bool `json:"restoring"`
}

func (b *Backups) hStatus(c echo.Context) error {
	st, err := b.Status(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (b *Backups) hSaveSettings(c echo.Context) error {
	var in BackupSettings
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	st, err := b.SaveSettings(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (b *Backups) hNewRecoveryKey(c echo.Context) error {
	k, err := b.NewRecoveryKey(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}

func (b *Backups) hConfirmRecoveryKey(c echo.Context) error {
	var in ConfirmRecoveryInput
	if err := api.Bind(c, &in); err != nil {
		return err
	}
	st, err := b.ConfirmRecoveryKey(c.Request().Context(), api.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (b *Backups) hRun(c echo.Context) error {
	run, err := b.Start(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, run)
}

func (b *Backups) hList(c echo.Context) error {
	items, err := b.List(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.List[BackupFile]{Items: items})
}

func (b *Backups) hDownload(c echo.Context) error {
	p, err := b.Download(c.Request().Context(), api.Actor(c), c.Param("name"))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/octet-stream")
	return c.Attachment(p, filepath.Base(p))
}

func (b *Backups) hVerify(c echo.Context) error {
	res, err := b.VerifyFile(c.Request().Context(), api.Actor(c), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// hRestore takes a JSON body naming a listed backup, or a multipart upload. The
// upload is spooled to a file in the data dir first, so the key fields may come
// in any order and a dropped connection leaves nothing half-read.
func (b *Backups) hRestore(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	if !strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		var in RestoreInput
		if err := api.Bind(c, &in); err != nil {
			return err
		}
		if in.Name == "" {
			return apperr.Field("name", "required")
		}
		if err := b.Restore(ctx, api.Actor(c), in, nil); err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, restoreAccepted{Restoring: true})
	}
	if err := auth.Require(api.Actor(c), auth.PermBackup); err != nil {
		return err
	}
	// A backup of a few GB takes a while over the LAN: this request alone may
	// read for longer than the server's read timeout.
	_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(2 * time.Hour))
	mr, err := req.MultipartReader()
	if err != nil {
		return apperr.Wrap(apperr.Invalid, "request.invalid_multipart", err)
	}
	var in RestoreInput
	var spool string
	defer func() {
		if spool != "" {
			os.Remove(spool)
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return apperr.New(apperr.TooLarge, "too_large")
			}
			return apperr.Wrap(apperr.Invalid, "request.invalid_multipart", err)
		}
		switch part.FormName() {
		case "identity", "passphrase":
			v, _ := io.ReadAll(io.LimitReader(part, 8<<10))
			if part.FormName() == "identity" {
				in.Identity = string(v)
			} else {
				in.Passphrase = strings.TrimRight(string(v), "\r\n")
			}
		case "file":
			f, err := os.CreateTemp(b.dataDir, ".restore-upload-*.part")
			if err != nil {
				return err
			}
			spool = f.Name()
			_, err = io.Copy(f, part)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return apperr.New(apperr.TooLarge, "too_large")
				}
				return apperr.Wrap(apperr.Invalid, "request.invalid_multipart", err)
			}
		}
		part.Close()
	}
	if spool == "" {
		return apperr.Field("file", "required")
	}
	f, err := os.Open(spool)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := b.Restore(ctx, api.Actor(c), in, f); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, restoreAccepted{Restoring: true})
}

func (b *Backups) hLastRestore(c echo.Context) error {
	r, err := b.LastRestore(c.Request().Context(), api.Actor(c))
	if err != nil {
		return err
	}
	if r == nil {
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, r)
}
