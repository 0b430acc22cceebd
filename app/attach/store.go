package attach

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"dealerdesk/app/apperr"
	"dealerdesk/app/db"
)

const columns = `id, store_id, entity, entity_id, name, mime, size, sha256, thumb_sha256, width, height, created_by, created_at`

func scan(sc interface{ Scan(...any) error }) (Attachment, error) {
	var a Attachment
	var thumb sql.NullString
	err := sc.Scan(&a.ID, &a.StoreID, &a.Entity, &a.EntityID, &a.Name, &a.Mime, &a.Size, &a.SHA256, &thumb,
		&a.Width, &a.Height, &a.CreatedBy, &a.CreatedAt)
	a.thumbSHA, a.HasThumb = thumb.String, thumb.Valid
	return a, err
}

func insertAttachment(ctx context.Context, q db.Querier, a Attachment) (int64, error) {
	var thumb sql.NullString
	if a.HasThumb {
		thumb = sql.NullString{String: a.thumbSHA, Valid: true}
	}
	res, err := q.ExecContext(ctx, `INSERT INTO attachment(store_id, entity, entity_id, name, mime, size, sha256, thumb_sha256, width, height, created_by, created_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.StoreID, a.Entity, a.EntityID, a.Name, a.Mime, a.Size, a.SHA256, thumb, a.Width, a.Height, a.CreatedBy, a.CreatedAt)
	if err != nil {
		return 0, fmt.Errorf("attach: insert: %w", err)
	}
	return res.LastInsertId()
}

// getAttachment returns a live (not deleted) attachment, or NotFound.
func getAttachment(ctx context.Context, q db.Querier, id int64) (Attachment, error) {
	a, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM attachment WHERE id = ? AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Attachment{}, apperr.New(apperr.NotFound, "not_found")
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("attach: get %d: %w", id, err)
	}
	return a, nil
}

// listAttachments returns the live attachments of a record (served by the index
// attachment_entity). A record has a handful of files, so there is no paging.
func listAttachments(ctx context.Context, q db.Querier, entity string, entityID int64) ([]Attachment, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM attachment
		WHERE entity = ? AND entity_id = ? AND deleted_at IS NULL ORDER BY id`, entity, entityID)
	if err != nil {
		return nil, fmt.Errorf("attach: list: %w", err)
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		a, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("attach: list: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attach: list: %w", err)
	}
	return out, nil
}

// markDeleted soft-deletes a live attachment; NotFound when there is none.
func markDeleted(ctx context.Context, q db.Querier, id, at int64) error {
	res, err := q.ExecContext(ctx, `UPDATE attachment SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, at, id)
	if err != nil {
		return fmt.Errorf("attach: delete %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("attach: delete %d: %w", id, err)
	} else if n == 0 {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}
