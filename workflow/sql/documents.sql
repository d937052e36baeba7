-- Documents by hash (workflow/documents.py): written once, read by hash.

-- The same bytes stored twice are one document.
-- name: put_document
INSERT INTO zwgk_document (sha256, media_type, name, size, content, created_at)
VALUES (:sha256, :media_type, :name, :size, :content, :at)
ON CONFLICT (sha256) DO NOTHING

-- name: document
SELECT sha256, media_type, name, size, content, created_at FROM zwgk_document WHERE sha256 = :sha256
