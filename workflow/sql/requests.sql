-- Requests for government information (workflow/requests.py). No statement here reads the applicant's identity
-- but `applicant`, which only a request's own `show` and its printed letters use.

-- name: request_facts
SELECT r.id, r.received_via, r.received_on, r.applicant_type, r.applicant, r.description, r.form, r.oral, r.reply
FROM zwgk_request r WHERE r.id = :id

-- name: insert_request
INSERT INTO zwgk_request (id, received_via, received_on, applicant_type, applicant, description, form, oral, reply)
VALUES (:id, :received_via, :received_on, :applicant_type, :applicant, :description, :form, :oral, :reply)

-- name: update_request
UPDATE zwgk_request SET description = :description, form = :form, reply = :reply WHERE id = :id

-- name: insert_applicant
INSERT INTO zwgk_applicant (request_id, salt, identity, key) VALUES (:id, :salt, :identity, :key)

-- name: applicant
SELECT salt, identity, key, erased_at FROM zwgk_applicant WHERE request_id = :id

-- name: erase_applicant
UPDATE zwgk_applicant SET salt = NULL, identity = NULL, key = NULL, erased_at = :at
WHERE request_id = :id AND erased_at IS NULL

-- How many requests this applicant made to the unit in the month (by receipt date), this one included: the fee
-- by count (国办函〔2020〕109号) is by the applicant's requests of a calendar month.
-- name: applicant_month_count
SELECT count(*) AS n FROM zwgk_applicant a JOIN zwgk_request r ON r.id = a.request_id
    JOIN zwgk_case c ON c.kind = 'request' AND c.id = r.id
WHERE a.key = :key AND c.unit_id = :unit AND r.received_on >= :month_start AND r.received_on <= :received_on
    AND (r.received_on < :received_on OR r.id <= :id)

-- name: request_number
SELECT last FROM zwgk_request_number WHERE unit_id = :unit AND year = :year

-- Only from the number read: rowcount 0 means another creation took the number first.
-- name: set_request_number
INSERT INTO zwgk_request_number (unit_id, year, last) VALUES (:unit, :year, :last)
ON CONFLICT (unit_id, year) DO UPDATE SET last = excluded.last WHERE zwgk_request_number.last = excluded.last - 1

-- name: request_numbers
SELECT year, last FROM zwgk_request_number WHERE unit_id = :unit

-- Requests with their case (a fragment of the statements below).
-- name: _requests
SELECT c.id, c.unit_id, c.state, c.round, c.version, c.drafter, c.created_at, c.updated_at, r.received_via,
    r.received_on, r.applicant_type, r.applicant, r.description, r.form, r.oral, r.reply
FROM zwgk_case c JOIN zwgk_request r ON r.id = c.id

-- name: request
{_requests}
WHERE c.kind = 'request' AND c.id = :id

-- name: requests
{_requests}
WHERE c.kind = 'request' AND c.id > :after AND c.state = coalesce(:state, c.state)
    AND c.unit_id = coalesce(:unit, c.unit_id)
ORDER BY c.id
LIMIT :limit

-- The unit's earlier requests, for Art. 44 (the same information asked by several applicants).
-- name: unit_request_descriptions
SELECT c.id, r.description FROM zwgk_case c JOIN zwgk_request r ON r.id = c.id
WHERE c.kind = 'request' AND c.unit_id = :unit AND c.id <> :id
ORDER BY c.id

-- The requests of a unit, with their content, for verify to hash.
-- name: unit_requests
SELECT c.id, c.unit_id, r.received_via, r.received_on, r.applicant_type, r.applicant, r.description, r.form,
    r.oral, r.reply
FROM zwgk_case c JOIN zwgk_request r ON r.id = c.id
WHERE c.kind = 'request' AND c.unit_id = :unit

-- name: unit_name
SELECT name FROM zwgk_unit WHERE id = :id
