-- Screening rules by fingerprint (workflow/screening.py), and those each unit has adopted.

-- The same rules stored twice are one row.
-- name: put_screen_rules
INSERT INTO zwgk_screen_rules (fingerprint, definition, created_at) VALUES (:fingerprint, :definition, :at)
ON CONFLICT (fingerprint) DO NOTHING

-- name: screen_rules
SELECT fingerprint, definition FROM zwgk_screen_rules WHERE fingerprint = :fingerprint

-- name: screen_rules_of_unit
SELECT r.fingerprint, r.definition FROM zwgk_screen_adopted a
JOIN zwgk_screen_rules r ON r.fingerprint = a.rules WHERE a.unit_id = :unit
