package deenroll.cli;

import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

import java.util.UUID;

import static deenroll.db.schema.Tables.DE_ENROLLMENT_RUNS;

/**
 * Loads and initialises jOOQ's rendering and the PostgreSQL driver on a second
 * thread while the main one parses the command line and reads the
 * configuration, as Spring Boot's background pre-initializer does: with two
 * cores that takes their share of start-up off the critical path (about 35 ms
 * of an idle run's 0.55 s, docs/performance.md). It only warms classes; what
 * it does is thrown away, and a failure here changes nothing. Start it after
 * logging is initialised (Main.main, StartUpRaceTest).
 */
final class Preload {

    private Preload() {
    }

    static void inBackground() {
        Thread thread = new Thread(Preload::load, "deenroll-preload");
        thread.setDaemon(true);
        thread.start();
    }

    private static void load() {
        try {
            Class.forName("org.postgresql.Driver");
            DSL.using(SQLDialect.POSTGRES).render(DSL.select(DE_ENROLLMENT_RUNS.ID)
                    .from(DE_ENROLLMENT_RUNS)
                    .where(DE_ENROLLMENT_RUNS.ID.eq(DSL.any(new UUID[0]))));
        } catch (Throwable ignored) {
            // warming only: the real work loads whatever this did not
        }
    }
}
