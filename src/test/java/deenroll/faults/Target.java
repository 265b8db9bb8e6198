package deenroll.faults;

import deenroll.support.PgBouncer;
import deenroll.support.PgBouncer.IgnoredStartupParameters;
import deenroll.support.TestDatabase;

import java.util.Locale;
import java.util.Map;

/**
 * Where a fault scenario's invocations connect: straight to the server, or
 * through a PgBouncer in transaction mode with a pool of two and the common
 * {@code ignore_startup_parameters = extra_float_digits}, one for the whole
 * class. The scenario's own probes (the invariants, the killer of backends,
 * the simulated host) always connect directly.
 */
enum Target {
    DIRECT, PGBOUNCER;

    private static PgBouncer bouncer;

    /** Skips the calling test when this target cannot be had (no pgbouncer). */
    void assume() {
        if (this == PGBOUNCER) {
            bouncer();
        }
    }

    String url(TestDatabase db) {
        return this == DIRECT ? db.jdbcUrl() : bouncer().jdbcUrl(db);
    }

    /** An invocation's whole environment: its DATABASE_URL. */
    Map<String, String> env(TestDatabase db) {
        return Map.of("DATABASE_URL", url(db));
    }

    static synchronized void stopPgBouncer() {
        if (bouncer != null) {
            bouncer.close();
            bouncer = null;
        }
    }

    private static synchronized PgBouncer bouncer() {
        if (bouncer == null) {
            bouncer = PgBouncer.start(2, IgnoredStartupParameters.EXTRA_FLOAT_DIGITS);
        }
        return bouncer;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
