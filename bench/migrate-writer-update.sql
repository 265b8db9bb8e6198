-- one host write: a lead of the L dataset moves on (bench/migrate-writer.sh)
\set n random(1, :leads)
UPDATE leads SET current_message_position = current_message_position, last_message_at = now(), updated_at = now()
WHERE id = md5('bench-lead-' || :n)::uuid;
