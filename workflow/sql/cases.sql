-- Cases of every kind (zwgk_case), and the content of items (zwgk_item).

-- What a signature needs to know of its case, with the pipeline in force for it in its unit.
-- name: case_for_step
SELECT c.unit_id, c.state, c.round, c.version, c.signers, c.roles, c.content_hash, c.drafter,
    a.pipeline, a.seq AS adopted_seq, u.open AS unit_open
FROM zwgk_case c JOIN zwgk_adopted a ON a.unit_id = c.unit_id AND a.kind = c.kind
    JOIN zwgk_unit u ON u.id = c.unit_id
WHERE c.kind = :kind AND c.id = :id

-- A signer, with the roles they hold in a unit, and the register's last event in the same snapshot.
-- name: signer
SELECT p.id, p.active, r.role, g.seq AS register_seq, g.hash AS register_hash, g.at AS register_at
FROM zwgk_person p JOIN zwgk_chain g ON g.chain = :register
    LEFT JOIN zwgk_role r ON r.person_id = p.id AND r.chain = :chain
WHERE p.id = :person

-- name: insert_case
INSERT INTO zwgk_case (kind, id, unit_id, state, round, version, signers, roles, content_hash, drafter, created_at,
    updated_at)
VALUES (:kind, :id, :unit_id, :state, :round, :version, :signers, :roles, :content_hash, :drafter, :at, :at)

-- Only from the version read: rowcount 0 means another signature came first.
-- name: update_case
UPDATE zwgk_case SET state = :state, round = :round, version = :version, signers = :signers, roles = :roles,
    content_hash = :content_hash, drafter = :drafter, updated_at = :at
WHERE kind = :kind AND id = :id AND version = :version - 1

-- name: case_exists
SELECT 1 AS found FROM zwgk_case WHERE kind = :kind AND id = :id

-- A unit's cases as verify compares them (a fragment of the two statements below).
-- name: _unit_cases
SELECT kind, id, unit_id, state, round, version, signers, roles, content_hash, drafter FROM zwgk_case
WHERE unit_id = :unit

-- name: unit_cases
{_unit_cases} ORDER BY kind, id

-- name: unit_case
{_unit_cases} AND kind = :kind AND id = :id

-- name: all_case_keys
SELECT kind, id, unit_id FROM zwgk_case

-- Items --------------------------------------------------------------------------------------------------------

-- name: item_facts
SELECT title, kind, timing, interprets, schedule, period, formed_on FROM zwgk_item WHERE id = :id

-- name: insert_item
INSERT INTO zwgk_item (id, title, body, category, timing, kind, interprets, tags, formed_on, schedule, period,
    attachments, doc_type, statistics, interpreter)
VALUES (:id, :title, :body, :category, :timing, :kind, :interprets, :tags, :formed_on, :schedule, :period,
    :attachments, :doc_type, :statistics, :interpreter)

-- An edit's content; the redactions of the text before it no longer apply.
-- name: update_item
UPDATE zwgk_item SET title = :title, body = :body, tags = :tags, formed_on = :formed_on, attachments = :attachments,
    statistics = :statistics, redactions = NULL, redacted_body = NULL
WHERE id = :id

-- name: redact_item
UPDATE zwgk_item SET redactions = :redactions, redacted_body = :redacted_body WHERE id = :id

-- Items with their case (a fragment of the two statements below).
-- name: _items
SELECT c.id, c.unit_id, c.state, c.round, c.version, c.drafter, c.created_at, c.updated_at, i.title, i.body,
    i.category, i.timing, i.kind, i.interprets, i.tags, i.formed_on, i.schedule, i.period, i.attachments,
    i.doc_type, i.statistics, i.interpreter, i.redactions, i.redacted_body
FROM zwgk_case c JOIN zwgk_item i ON i.id = c.id

-- One item, found by its key.
-- name: item
{_items}
WHERE c.kind = 'item' AND c.id = :id

-- A page of items in id order, in a state or all (NULL): those after :after ('' for the first page), a keyset
-- that the case's key serves, so that a page costs the same on the millionth item as on the first.
-- name: items
{_items}
WHERE c.kind = 'item' AND c.id > :after AND c.state = coalesce(:state, c.state)
ORDER BY c.id
LIMIT :limit

-- The items of a unit, with their content, for verify to hash.
-- name: unit_items
SELECT c.id, c.unit_id, i.title, i.body, i.category, i.timing, i.kind, i.interprets, i.tags, i.formed_on,
    i.schedule, i.period, i.attachments, i.doc_type, i.statistics, i.interpreter, i.redactions, i.redacted_body,
    c.state
FROM zwgk_case c JOIN zwgk_item i ON i.id = c.id
WHERE c.kind = 'item' AND c.unit_id = :unit

-- name: item_ids_without_case
SELECT i.id FROM zwgk_item i LEFT JOIN zwgk_case c ON c.kind = 'item' AND c.id = i.id WHERE c.id IS NULL

-- The published interpretations of a policy.
-- name: interpretations
SELECT c.id FROM zwgk_item i JOIN zwgk_case c ON c.kind = 'item' AND c.id = i.id
WHERE i.interprets = :id AND c.state = :published ORDER BY c.id

-- The signer of a step on a case, with the roles they hold in the case's unit, and the register's head in
-- the same snapshot (the register is read, never locked: signatures of different units do not wait on it).
-- name: signer_of_case
SELECT p.id, p.active, r.role, g.seq AS register_seq, g.hash AS register_hash, g.at AS register_at
FROM zwgk_person p JOIN zwgk_chain g ON g.chain = :register
    LEFT JOIN zwgk_role r ON r.person_id = p.id
        AND r.chain = (SELECT unit_id FROM zwgk_case WHERE kind = :kind AND id = :id)
WHERE p.id = :person

-- name: case_unit
SELECT unit_id, state FROM zwgk_case WHERE kind = :kind AND id = :id

-- The items made for a schedule's period in a unit (the annual report's item of a year).
-- name: schedule_items
SELECT c.id, c.state FROM zwgk_case c JOIN zwgk_item i ON i.id = c.id
WHERE c.kind = 'item' AND c.unit_id = :unit AND i.schedule = :schedule AND i.period = :period
ORDER BY c.created_at, c.id
