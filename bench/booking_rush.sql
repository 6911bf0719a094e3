-- The bare SQL booking transaction: the baseline of bench/booking_rush.py (pgbench script).
--
-- Each transaction books one of the :hot hot slots for one of the :patients bench residents:
-- lock the slot row, end the booking it has now (the UPDATE: so every transaction books, and the
-- hot slots stay hot for as long as the run lasts), insert the new booking. Clients that pick the
-- same slot queue on its row lock, as in the application. Nothing else: no session, no rule
-- checks, no notification, no outbox, no HTTP.
--
-- bench_hot_slot(n, slot_id) and bench_patient(n, patient_id) are made by the benchmark in its
-- throwaway database (1-based, dense); the look-up quotes the ids for the simple query protocol,
-- which Django uses too (client-side binding). Run as:
--   pgbench -n -M simple -f bench/booking_rush.sql -D hot=K -D patients=P -c N -j 2 -T S DBNAME
\set n random(1, :hot)
\set p random(1, :patients)
SELECT quote_literal(slot_id) AS slot, (SELECT quote_literal(patient_id) FROM bench_patient WHERE n = :p) AS patient FROM bench_hot_slot WHERE n = :n \gset
BEGIN;
SELECT id, unit_id, visit_type_id, starts_at, channel, held_back FROM booking_slot WHERE id = :slot FOR UPDATE;
UPDATE booking_booking SET status = 'cancelled', ended_at = now() WHERE slot_id = :slot AND status = 'active' AND NOT overbooked;
INSERT INTO booking_booking (id, slot_id, patient_id, channel, booked_by_patient_id, status, created_at, ended_online, sms_reminder, overbooked, overbook_reason, idempotency_key, calendar_sequence) VALUES (gen_random_uuid(), :slot, :patient, 'online', :patient, 'active', now(), false, false, false, '', gen_random_uuid()::text, 0);
COMMIT;
