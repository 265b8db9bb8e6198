package deenroll.db;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An index deenroll adds to a host table, which `migrate` builds CONCURRENTLY
 * before the migration that creates it ({@link HostIndexes}). Its definition
 * is read from that migration, not repeated here: the released file cannot
 * change (production databases hold its checksum), so the concurrent build
 * makes exactly the index the migration's own {@code CREATE INDEX IF NOT
 * EXISTS} would, which then finds it and does nothing.
 *
 * @param name    the index
 * @param table   the host table it is on
 * @param version the migration that creates it
 * @param body    its definition after the name: {@code ON table (...) [WHERE ...]}
 */
record HostIndex(String name, String table, int version, String body) {

    private static final Pattern TABLE = Pattern.compile("^\\s*ON\\s+(\\w+)\\s*\\(");

    /** Every index of deenroll on a host table. */
    static final List<HostIndex> ALL = List.of(
            fromMigration("V21__de_enrollment_monitoring.sql", "leads_de_enrollment_pending_idx"));

    /** The statement that builds it without blocking the table's writers; a no-op when it exists. */
    String createConcurrently() {
        return "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + name + body;
    }

    String dropConcurrently() {
        return "DROP INDEX CONCURRENTLY IF EXISTS " + name;
    }

    /** The index's {@code CREATE INDEX IF NOT EXISTS <name> ...;} statement in the migration {@code script}. */
    static HostIndex fromMigration(String script, String name) {
        String sql = read("/db/migration/" + script);
        Matcher statement = Pattern.compile("(?m)^CREATE INDEX IF NOT EXISTS " + Pattern.quote(name) + "(\\s[^;]*);").matcher(sql);
        if (!statement.find()) {
            throw new IllegalStateException(script + " has no `CREATE INDEX IF NOT EXISTS " + name + " ...;`");
        }
        String body = statement.group(1);
        Matcher table = TABLE.matcher(body);
        if (!table.find()) {
            throw new IllegalStateException("cannot read the table of " + name + " in " + script);
        }
        return new HostIndex(name, table.group(1), Integer.parseInt(script.substring(1, script.indexOf("__"))), body);
    }

    private static String read(String resource) {
        try (InputStream in = HostIndex.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
