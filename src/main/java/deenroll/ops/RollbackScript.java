package deenroll.ops;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One db/rollback script and what it drops, read from its own statements, so
 * the plan a rollback shows is the script it runs and cannot drift from it.
 */
record RollbackScript(int version, String file, String sql, List<Drop> drops) {

    /** One object the script drops: a table, view, function, procedure or index, or a column of {@code table}. */
    record Drop(String kind, String name, String table) {
    }

    private static final Pattern BODY = Pattern.compile("\\$\\$.*?\\$\\$", Pattern.DOTALL);
    private static final Pattern COMMENT = Pattern.compile("--[^\\n]*");
    private static final Pattern DROP = Pattern.compile(
            "DROP\\s+(TABLE|VIEW|FUNCTION|PROCEDURE|INDEX)\\s+IF\\s+EXISTS\\s+([a-z_][a-z0-9_]*)", Pattern.CASE_INSENSITIVE);
    private static final Pattern ALTER = Pattern.compile("ALTER\\s+TABLE\\s+([a-z_][a-z0-9_]*)([^;]*);", Pattern.CASE_INSENSITIVE);
    private static final Pattern DROP_COLUMN = Pattern.compile("DROP\\s+COLUMN\\s+IF\\s+EXISTS\\s+([a-z_][a-z0-9_]*)",
            Pattern.CASE_INSENSITIVE);

    static RollbackScript load(int version, String file) {
        String sql = read("/db/rollback/" + file);
        // what function bodies and comments say is not what the script does
        String statements = COMMENT.matcher(BODY.matcher(sql).replaceAll("")).replaceAll("");
        List<Drop> drops = new ArrayList<>();
        Matcher alter = ALTER.matcher(statements);
        while (alter.find()) {
            Matcher column = DROP_COLUMN.matcher(alter.group(2));
            while (column.find()) {
                drops.add(new Drop("column", column.group(1), alter.group(1)));
            }
        }
        Matcher drop = DROP.matcher(ALTER.matcher(statements).replaceAll(""));
        while (drop.find()) {
            drops.add(new Drop(drop.group(1).toLowerCase(Locale.ROOT), drop.group(2), null));
        }
        return new RollbackScript(version, file, sql, drops);
    }

    private static String read(String resource) {
        try (InputStream in = RollbackScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
