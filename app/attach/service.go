package attach

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
)

// MaxSize is the largest file accepted, in bytes. A variable so tests can lower it.
var MaxSize int64 = 20 << 20

// Owner is what an access check needs to know of the record a file belongs to.
type Owner struct {
	Record    auth.Record
	ReadPerm  string // permission needed to list and open the record's files
	WritePerm string // permission needed to upload and delete them
}

// Resolver looks up the record entity id of one entity in q. It returns an apperr
// NotFound error when the record does not exist.
type Resolver func(ctx context.Context, q db.Querier, id int64) (Owner, error)

// Attachment is a stored file. From Open it describes the bytes returned (the
// thumbnail's type, size and dimensions when the thumbnail was asked for).
type Attachment struct {
	ID        int64  `json:"id"`
	Entity    string `json:"entity"`
	EntityID  int64  `json:"entityId"`
	Name      string `json:"name"`
	Mime      string `json:"mime"`
	Size      int64  `json:"size"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	HasThumb  bool   `json:"hasThumb"`
	CreatedAt int64  `json:"createdAt"`
	CreatedBy int64  `json:"createdBy"`
	// SHA256 is the hex digest of the bytes Open returns; handlers use it as ETag.
	SHA256 string `json:"-"`
	// StoreID is the store of the owning record when the file was uploaded.
	StoreID int64 `json:"-"`

	thumbSHA string
}

// Service stores, lists, serves and deletes attachments.
type Service struct {
	db    *db.DB
	files string // <dataDir>/files
	clock clock.Clock
	log   *slog.Logger

	mu        sync.RWMutex
	resolvers map[string]Resolver

	// decode bounds how many images are decoded at once: a 40-megapixel image
	// takes up to 160 MB while it is being scaled.
	decode chan struct{}
}

// NewService returns the attachment service keeping its files under dataDir/files.
func NewService(d *db.DB, dataDir string, c clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		db:        d,
		files:     filepath.Join(dataDir, "files"),
		clock:     c,
		log:       log,
		resolvers: map[string]Resolver{},
		decode:    make(chan struct{}, 2),
	}
}

// Register makes entity a valid owner of attachments. It panics on an empty name,
// a nil resolver or a second registration, all wiring mistakes.
func (s *Service) Register(entity string, r Resolver) {
	if entity == "" || r == nil {
		panic("attach: Register needs an entity name and a resolver")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.resolvers[entity]; dup {
		panic("attach: entity " + strconv.Quote(entity) + " registered twice")
	}
	s.resolvers[entity] = r
}

func (s *Service) resolver(entity string) (Resolver, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.resolvers[entity]
	return r, ok
}

// owner resolves the record and checks the actor's read (or, with write, write)
// permission on it.
func (s *Service) owner(ctx context.Context, q db.Querier, a auth.Actor, entity string, id int64, write bool) (Owner, error) {
	res, ok := s.resolver(entity)
	if !ok {
		return Owner{}, apperr.Field("entity", "invalid_format")
	}
	if id <= 0 {
		return Owner{}, apperr.Field("entityId", "invalid_format")
	}
	o, err := res(ctx, q, id)
	if err != nil {
		return Owner{}, fmt.Errorf("attach: resolve %s %d: %w", entity, id, err)
	}
	perm := o.ReadPerm
	if write {
		perm = o.WritePerm
	}
	if err := auth.Check(a, perm, o.Record); err != nil {
		return Owner{}, err
	}
	return o, nil
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// auditInfo is what the audit log keeps of a file.
type auditInfo struct {
	AttachmentID int64  `json:"attachmentId"`
	Name         string `json:"name"`
	Mime         string `json:"mime"`
	Size         int64  `json:"size"`
}

func tooLarge() error {
	mb := (MaxSize + 1<<20 - 1) >> 20
	e := apperr.New(apperr.TooLarge, "attachment.too_large")
	e.Fields = apperr.Fields{"file": {Code: "attachment.too_large", Params: map[string]any{"max": mb}}}
	e.Details = map[string]any{"max": mb}
	return e
}

// Upload stores the content of r as a file of the record entity/entityID. The
// type is detected from the content; filename is only the display name.
func (s *Service) Upload(ctx context.Context, a auth.Actor, entity string, entityID int64, filename string, r io.Reader) (Attachment, error) {
	// Check access before reading a byte of the body.
	if _, err := s.owner(ctx, s.db.R, a, entity, entityID, true); err != nil {
		return Attachment{}, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Attachment{}, tooLarge()
		}
		return Attachment{}, fmt.Errorf("attach: read upload: %w", err)
	}
	if int64(len(data)) > MaxSize {
		return Attachment{}, tooLarge()
	}
	if len(data) == 0 {
		return Attachment{}, apperr.Field("file", "required")
	}
	k, err := detect(data)
	if err != nil {
		return Attachment{}, err
	}
	att := Attachment{Entity: entity, EntityID: entityID, Name: sanitizeName(filename, k), Mime: k.mime, Size: int64(len(data))}
	var thumb []byte
	if k.image {
		img, err := s.processImage(ctx, data, k)
		if err != nil {
			return Attachment{}, err
		}
		att.Width, att.Height, thumb = img.width, img.height, img.thumb
	}
	if att.SHA256, err = s.put(data); err != nil {
		return Attachment{}, err
	}
	if thumb != nil {
		if att.thumbSHA, err = s.put(thumb); err != nil {
			return Attachment{}, err
		}
		att.HasThumb = true
	}
	att.CreatedAt, att.CreatedBy = s.now(), a.UserID
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		// Again inside the transaction: the record may have moved or gone meanwhile,
		// and the row must carry the store it belongs to now.
		o, err := s.owner(ctx, tx, a, entity, entityID, true)
		if err != nil {
			return err
		}
		att.StoreID = o.Record.StoreID
		if att.ID, err = insertAttachment(ctx, tx, att); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: att.CreatedAt, Action: "upload", Entity: entity,
			EntityID: strconv.FormatInt(entityID, 10), StoreID: o.Record.StoreID,
			After: auditInfo{AttachmentID: att.ID, Name: att.Name, Mime: att.Mime, Size: att.Size}})
	})
	if err != nil {
		return Attachment{}, err
	}
	return att, nil
}

// List returns the files of the record entity/entityID, oldest first.
func (s *Service) List(ctx context.Context, a auth.Actor, entity string, entityID int64) ([]Attachment, error) {
	if _, err := s.owner(ctx, s.db.R, a, entity, entityID, false); err != nil {
		return nil, err
	}
	return listAttachments(ctx, s.db.R, entity, entityID)
}

// Open returns the file id for reading: the original, or with thumb the
// phone-sized JPEG copy when the image has one (otherwise the original, which is
// then small enough). The caller closes the reader.
func (s *Service) Open(ctx context.Context, a auth.Actor, id int64, thumb bool) (Attachment, io.ReadSeekCloser, error) {
	att, err := getAttachment(ctx, s.db.R, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	if _, err := s.owner(ctx, s.db.R, a, att.Entity, att.EntityID, false); err != nil {
		return Attachment{}, nil, notFoundIfInvalid(err)
	}
	if thumb && att.HasThumb {
		att.Width, att.Height = thumbSize(att.Width, att.Height)
		att.Mime = mimeJPEG
		att.Name = thumbName(att.Name)
		att.SHA256 = att.thumbSHA
	}
	f, size, err := s.open(att.SHA256)
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("attach: open attachment %d: %w", id, err)
	}
	att.Size = size
	return att, f, nil
}

// Delete marks the file id deleted; it is then not found for every reader.
func (s *Service) Delete(ctx context.Context, a auth.Actor, id int64) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		att, err := getAttachment(ctx, tx, id)
		if err != nil {
			return err
		}
		o, err := s.owner(ctx, tx, a, att.Entity, att.EntityID, true)
		if err != nil {
			return notFoundIfInvalid(err)
		}
		at := s.now()
		if err := markDeleted(ctx, tx, id, at); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: at, Action: "delete", Entity: att.Entity,
			EntityID: strconv.FormatInt(att.EntityID, 10), StoreID: o.Record.StoreID,
			Before: auditInfo{AttachmentID: att.ID, Name: att.Name, Mime: att.Mime, Size: att.Size}})
	})
}

// notFoundIfInvalid turns the field errors of owner (an entity no longer
// registered) into NotFound: the caller asked for an attachment id, not an entity.
func notFoundIfInvalid(err error) error {
	if apperr.Is(err, apperr.Invalid) {
		return apperr.Wrap(apperr.NotFound, "not_found", err)
	}
	return err
}

// imageInfo is what processImage learns of an image.
type imageInfo struct {
	width, height int // as displayed, after the EXIF orientation
	thumb         []byte
}

// processImage reads the image's dimensions, refuses absurd ones before decoding,
// and makes the phone-sized JPEG copy when the image is larger than ThumbSize.
func (s *Service) processImage(ctx context.Context, data []byte, k kind) (imageInfo, error) {
	cfg, err := k.config(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return imageInfo{}, apperr.Field("file", "attachment.type")
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return imageInfo{}, apperr.Field("file", "attachment.dimensions", "max", MaxPixels/1_000_000)
	}
	orient := 1
	if k.mime == mimeJPEG {
		orient = jpegOrientation(data)
	}
	w, h := cfg.Width, cfg.Height
	if orient >= 5 {
		w, h = h, w
	}
	select {
	case s.decode <- struct{}{}:
		defer func() { <-s.decode }()
	case <-ctx.Done():
		return imageInfo{}, ctx.Err()
	}
	// Decode even small images: a header followed by anything else is not an image.
	img, err := k.decode(bytes.NewReader(data))
	if err != nil {
		return imageInfo{}, apperr.Field("file", "attachment.type")
	}
	info := imageInfo{width: w, height: h}
	if max(w, h) > ThumbSize {
		if info.thumb, err = makeThumb(img, orient); err != nil {
			return imageInfo{}, fmt.Errorf("attach: thumbnail: %w", err)
		}
	}
	return info, nil
}
