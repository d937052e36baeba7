-- Item numbers (states/numbers.py), read and moved under the unit's chain head lock.

-- name: item_number
SELECT last FROM zwgk_item_number WHERE unit_id = :unit AND year = :year

-- Only from the number read: rowcount 0 means another creation took the number first.
-- name: set_item_number
INSERT INTO zwgk_item_number (unit_id, year, last) VALUES (:unit, :year, :last)
ON CONFLICT (unit_id, year) DO UPDATE SET last = excluded.last WHERE zwgk_item_number.last = excluded.last - 1

-- name: item_numbers
SELECT year, last FROM zwgk_item_number WHERE unit_id = :unit
