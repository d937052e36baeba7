-- Screening rules by fingerprint (workflow/screening.py), and those each unit has adopted.

-- The same rules stored twice are one row.
-- name: put_screen_rules
INSERT INTO zwgk_screen_rules (fingerprint, definition, created_at) VALUES (:fingerprint, :definition, :at)
ON CONFLICT (fingerprint) DO NOTHING

-- name: screen_rules
SELECT fingerprint, definition FROM zwgk_screen_rules WHERE fingerprint = :fingerprint

-- name: screen_rules_of_unit
SELECT r.fingerprint, r.definition, a.seq FROM zwgk_screen_adopted a
JOIN zwgk_screen_rules r ON r.fingerprint = a.rules WHERE a.unit_id = :unit

-- name: all_screen_rules
SELECT fingerprint, definition FROM zwgk_screen_rules ORDER BY fingerprint

-- name: screen_adoption
SELECT rules, seq FROM zwgk_screen_adopted WHERE unit_id = :unit

-- name: screen_adoptions
SELECT unit_id, rules FROM zwgk_screen_adopted ORDER BY unit_id

-- name: delete_screen_adopted
DELETE FROM zwgk_screen_adopted WHERE unit_id = :unit

-- name: insert_screen_adopted
INSERT INTO zwgk_screen_adopted (unit_id, rules, seq) VALUES (:unit, :rules, :seq)

-- The latest adoption of screening rules in a unit's chain (its case id is the unit's: the case index serves).
-- name: latest_screen_adoption
SELECT max(seq) AS seq FROM zwgk_event
WHERE case_kind = 'screen' AND case_id = :chain AND chain = :chain AND action = 'adopt'
    AND seq BETWEEN 1 AND (SELECT h.seq FROM zwgk_chain h WHERE h.chain = :chain)
