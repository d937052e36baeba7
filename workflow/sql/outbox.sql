-- The reminder outbox (workflow/outbox.py). A reminder is wanted while its deadline is live and still due on the
-- day it was planned for; a seal's digest for a witness (no deadline) is wanted until it is sent.

-- Queued before its deadline was met, cancelled or moved to another day: not sent.
-- name: ob_stale
UPDATE zwgk_notification SET status = 'cancelled', claimed_by = NULL, claimed_until = NULL
WHERE (status = 'pending' OR (status = 'sending' AND claimed_until < :now)) AND deadline_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM zwgk_deadline d WHERE d.id = zwgk_notification.deadline_id
        AND d.status IN ('open', 'overdue') AND d.due_on = zwgk_notification.due_on)

-- name: ob_claim
UPDATE zwgk_notification SET status = 'sending', claimed_by = :me, claimed_until = :until, attempts = attempts + 1
WHERE id IN (SELECT id FROM zwgk_notification
    WHERE ((status = 'pending' AND next_attempt_at <= :now) OR (status = 'sending' AND claimed_until < :now))
        AND (deadline_id IS NULL OR EXISTS (SELECT 1 FROM zwgk_deadline d WHERE d.id = zwgk_notification.deadline_id
            AND d.status IN ('open', 'overdue') AND d.due_on = zwgk_notification.due_on))
    ORDER BY next_attempt_at, id LIMIT :n{skip_locked})
RETURNING id, key, recipient, channel, address, subject, text, fields, attempts

-- In a slow batch, now and then: renew this daemon's claims on what is left of it, and keep only what is still
-- wanted ...
-- name: ob_renew
UPDATE zwgk_notification SET claimed_until = :until
WHERE claimed_by = :me AND status = 'sending' AND (deadline_id IS NULL OR EXISTS (SELECT 1 FROM zwgk_deadline d
    WHERE d.id = zwgk_notification.deadline_id AND d.status IN ('open', 'overdue')
        AND d.due_on = zwgk_notification.due_on))
RETURNING id

-- ... the rest is cancelled.
-- name: ob_unwanted
UPDATE zwgk_notification SET status = 'cancelled', claimed_by = NULL, claimed_until = NULL
WHERE claimed_by = :me AND status = 'sending' AND deadline_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM zwgk_deadline d WHERE d.id = zwgk_notification.deadline_id
        AND d.status IN ('open', 'overdue') AND d.due_on = zwgk_notification.due_on)

-- name: ob_sent
UPDATE zwgk_notification SET status = 'sent', sent_at = :now, claimed_by = NULL, claimed_until = NULL,
    last_error = NULL
WHERE id = :id AND claimed_by = :me

-- name: ob_failed
UPDATE zwgk_notification SET status = :status, next_attempt_at = :retry_at, last_error = :error, claimed_by = NULL,
    claimed_until = NULL
WHERE id = :id AND claimed_by = :me

-- name: ob_release
UPDATE zwgk_notification SET status = 'pending', attempts = attempts - 1, claimed_by = NULL, claimed_until = NULL
WHERE claimed_by = :me AND status = 'sending'

-- name: lease_take
INSERT INTO zwgk_lease (name, holder, until) VALUES (:name, :me, :until)
ON CONFLICT (name) DO UPDATE SET holder = :me, until = :until
WHERE zwgk_lease.holder = :me OR zwgk_lease.until < :now

-- name: lease_holder
SELECT holder FROM zwgk_lease WHERE name = :name

-- name: lease_drop
DELETE FROM zwgk_lease WHERE name = :name AND holder = :me

-- A seal's root digest for a witness: no deadline; queued once per seal, witness and channel.
-- name: ob_witness
INSERT INTO zwgk_notification (key, deadline_id, due_on, step, recipient, channel, address, subject, text, fields,
    status, attempts, next_attempt_at, created_at)
VALUES (:key, NULL, :due_on, 'seal', :recipient, :channel, :address, :subject, :text, :fields, 'pending', 0, :now,
    :now)
ON CONFLICT DO NOTHING
