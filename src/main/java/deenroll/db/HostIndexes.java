package deenroll.db;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Builds deenroll's indexes on host tables ({@link HostIndex}) with
 * {@code CREATE INDEX CONCURRENTLY}: a plain {@code CREATE INDEX} holds a
 * ShareLock on the table until its migration commits, so every host write to
 * the table waits for the whole build; a concurrent build takes a
 * ShareUpdateExclusiveLock, which no read or write conflicts with.
 * It cannot run in a transaction, so it runs here, on an autocommit
 * connection of its own, between the migrations before the index's and the
 * index's own. That connection has no statement or lock timeout: behind
 * transactions open in the database the build waits for them to end, and
 * waiting blocks nobody.
 */
final class HostIndexes {

    private static final Logger LOG = LoggerFactory.getLogger(HostIndexes.class);

    private final DataSource dataSource;
    private final Catalog catalog;

    HostIndexes(DataSource dataSource, Catalog catalog) {
        this.dataSource = dataSource;
        this.catalog = catalog;
    }

    /**
     * Makes sure {@code index} exists and is valid: builds it when missing, and
     * drops and builds it again when invalid (an interrupted concurrent build
     * leaves one behind, and the migration's {@code IF NOT EXISTS} would keep
     * it). Needs the columns it indexes, i.e. the migrations before its own.
     */
    void ensure(HostIndex index) {
        if (catalog.indexValid(index.name())) {
            return;
        }
        boolean invalid = catalog.relationExists(index.name());
        if (invalid) {
            List<Integer> builders = catalog.indexBuilders(index.name());
            if (!builders.isEmpty()) {
                throw new IndexBuildFailedException("index " + index.name() + " on " + index.table()
                        + " is being built by another session (pid " + builders + ", pg_stat_progress_create_index);"
                        + " run `deenroll migrate` again once it is done");
            }
            LOG.warn("index {} on {} is invalid (pg_index.indisvalid: an interrupted concurrent build left it);"
                    + " dropping it and building it again concurrently", index.name(), index.table());
        } else {
            LOG.info("building index {} on {} concurrently: host reads and writes continue; it waits for the"
                    + " transactions open in the database to end (pg_stat_activity)", index.name(), index.table());
        }
        long started = System.nanoTime();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(true);
            if (invalid) {
                s.execute(index.dropConcurrently());
            }
            s.execute(index.createConcurrently());
        } catch (SQLException e) {
            throw new IndexBuildFailedException("building index " + index.name() + " on " + index.table()
                    + " concurrently failed: " + DbErrors.describe(e)
                    + "; if it is left invalid, the next `deenroll migrate` drops it and builds it again", e);
        }
        if (!catalog.indexValid(index.name())) {
            // IF NOT EXISTS found another session's build in progress
            throw new IndexBuildFailedException("index " + index.name() + " on " + index.table()
                    + " is still invalid after building it: another session is building it; run `deenroll migrate` again");
        }
        LOG.info("built index {} on {} concurrently in {} ms", index.name(), index.table(), (System.nanoTime() - started) / 1_000_000);
    }
}
