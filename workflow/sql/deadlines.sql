-- Deadlines opened and closed in the transaction of the signature that causes them (workflow/deadlines.py).
-- `:by` is that event as CHAIN:SEQ. The live statuses are schema.LIVE, spelt out as schema.LIVE_ONLY says.

-- Opened again (the information changed): new dates, reminders from the start; a closed one stays closed.
-- name: dl_open
INSERT INTO zwgk_deadline (key, kind, item_id, request_id, schedule, period, title, responsible, roles, unit_id,
    starts_on, days, due_on, provisional, status, step, next_at, opened_by, asked_by, created_at)
VALUES (:key, :kind, :item_id, :request_id, :schedule, :period, :title, :responsible, :roles, :unit_id, :starts_on, :days,
    :due_on, :provisional, 'open', NULL, :next_at, :by, :asked_by, :at)
ON CONFLICT (key) DO UPDATE SET starts_on = excluded.starts_on, days = excluded.days, due_on = excluded.due_on,
    provisional = excluded.provisional, next_at = excluded.next_at, step = NULL, status = 'open',
    title = excluded.title
WHERE zwgk_deadline.status IN ('open', 'overdue')

-- An interpretation taken back (retracted) while its policy is public and no other interpretation of it is: the
-- policy's duty opens again, keyed by the event that took it back (its case is updated first, in the same batch).
-- name: dl_reopen_interpretation
INSERT INTO zwgk_deadline (key, kind, item_id, schedule, period, title, responsible, roles, unit_id, starts_on,
    days, due_on, provisional, status, step, next_at, opened_by, asked_by, created_at)
SELECT 'interpretation:' || p.id || ':' || :by, 'interpretation', p.id, NULL, NULL, i.title, p.drafter, NULL,
    p.unit_id, :starts_on, :days, :due_on, :provisional, 'open', NULL, :next_at, :by, :asked_by, :at
FROM zwgk_case p JOIN zwgk_item i ON i.id = p.id
WHERE p.kind = 'item' AND p.id = :policy AND p.state = :published AND NOT EXISTS (SELECT 1 FROM zwgk_item j
    JOIN zwgk_case c ON c.kind = 'item' AND c.id = j.id WHERE j.interprets = :policy AND c.state = :published)

-- A role has signed in the state: the stage's reminders go on only to those who still have to ...
-- name: dl_narrow
UPDATE zwgk_deadline SET roles = TRIM(REPLACE(',' || roles || ',', ',' || :role || ',', ','), ',')
WHERE item_id = :item_id AND kind = 'stage' AND status IN ('open', 'overdue')

-- ... and what was queued for the signer about this stage is not sent any more.
-- name: dl_unremind
UPDATE zwgk_notification SET status = 'cancelled'
WHERE status = 'pending' AND recipient = :signer AND deadline_id IN (SELECT id FROM zwgk_deadline
    WHERE item_id = :item_id AND kind = 'stage' AND status IN ('open', 'overdue'))

-- A draft changed hands: its live duties are the new drafter's, and what was queued for the old one is not sent.
-- name: dl_handover
UPDATE zwgk_deadline SET responsible = :after
WHERE (item_id = :item_id OR request_id = :request_id) AND responsible = :before AND status IN ('open', 'overdue')

-- name: dl_handover_unremind
UPDATE zwgk_notification SET status = 'cancelled'
WHERE status = 'pending' AND recipient = :before AND deadline_id IN (SELECT id FROM zwgk_deadline
    WHERE (item_id = :item_id OR request_id = :request_id) AND status IN ('open', 'overdue'))

-- name: dl_retitle
UPDATE zwgk_deadline SET title = :title WHERE item_id = :item_id AND status IN ('open', 'overdue')

-- name: dl_close_key
UPDATE zwgk_deadline SET status = :status, next_at = NULL, closed_by = :by, closed_at = :at
WHERE key = :key AND status IN ('open', 'overdue')

-- name: dl_close_kind
UPDATE zwgk_deadline SET status = :status, next_at = NULL, closed_by = :by, closed_at = :at
WHERE item_id = :item_id AND kind = :kind AND status IN ('open', 'overdue')

-- name: dl_close_request
UPDATE zwgk_deadline SET status = :status, next_at = NULL, closed_by = :by, closed_at = :at
WHERE request_id = :request_id AND status IN ('open', 'overdue')

-- name: dl_close_item
UPDATE zwgk_deadline SET status = :status, next_at = NULL, closed_by = :by, closed_at = :at
WHERE item_id = :item_id AND status IN ('open', 'overdue')

-- Opened already met: the schedule's item was published first (an interpretation never precedes its policy).
-- name: dl_met_disclosed
UPDATE zwgk_deadline SET status = :status, next_at = NULL, closed_by = :by, closed_at = :at
WHERE key = :key AND status IN ('open', 'overdue') AND EXISTS (SELECT 1 FROM zwgk_item i
    JOIN zwgk_case c ON c.kind = 'item' AND c.id = i.id
    WHERE i.schedule = :schedule AND i.period = :period AND c.state = :published)

-- A unit closed: its chain takes no more events, so nothing of it can be met any more.
-- name: dl_close_unit
UPDATE zwgk_deadline SET status = 'cancelled', next_at = NULL, closed_by = :by, closed_at = :at
WHERE unit_id = :unit AND status IN ('open', 'overdue')
