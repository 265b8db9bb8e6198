-- one host write: a new lead joins a campaign (bench/migrate-writer.sh)
\set c random(1, :campaigns)
INSERT INTO leads (id, client_id, campaign_link_id, first_name, enrolled_at)
VALUES (md5('bench-writer-' || :client_id || '-' || clock_timestamp() || '-' || random())::uuid,
        md5('bench-client-' || ((:c - 1) / 5 + 1))::uuid, md5('bench-campaign-' || :c)::uuid, 'Writer', now());
