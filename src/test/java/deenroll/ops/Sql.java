package deenroll.ops;

import deenroll.support.TestDatabase;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a test database through a new plain JDBC connection per call. A new
 * connection, not the pool of {@link TestDatabase#db()}: the rollback tests
 * drop columns and functions, and a pooled connection may hold a prepared
 * statement whose plan no longer fits the schema. Plain JDBC, not jOOQ's plain
 * SQL templates, so JSON literals with braces pass through as written.
 */
final class Sql {

    private Sql() {
    }

    static List<Map<String, Object>> rows(TestDatabase db, String sql, Object... binds) {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl());
             PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < binds.length; i++) {
                s.setObject(i + 1, binds[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                ResultSetMetaData meta = rs.getMetaData();
                List<Map<String, Object>> out = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int col = 1; col <= meta.getColumnCount(); col++) {
                        row.put(meta.getColumnLabel(col), rs.getObject(col));
                    }
                    out.add(row);
                }
                return out;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** The first column of every row, as text. */
    static List<String> strings(TestDatabase db, String sql, Object... binds) {
        return rows(db, sql, binds).stream()
                .map(r -> {
                    Object v = r.values().iterator().next();
                    return v == null ? null : v.toString();
                })
                .toList();
    }

    static String text(TestDatabase db, String sql, Object... binds) {
        List<String> values = strings(db, sql, binds);
        if (values.size() != 1) {
            throw new IllegalStateException(sql + ": expected one row, got " + values.size());
        }
        return values.get(0);
    }

    static long number(TestDatabase db, String sql, Object... binds) {
        return Long.parseLong(text(db, sql, binds));
    }

    static boolean relationExists(TestDatabase db, String name) {
        return Boolean.parseBoolean(text(db, "SELECT (to_regclass(?) IS NOT NULL)::text", name));
    }

    static boolean columnExists(TestDatabase db, String table, String column) {
        return number(db, "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
                + " AND table_name = ? AND column_name = ?", table, column) == 1;
    }

    /** Today as the backup tables name it: the database's date, not the JVM's. */
    static String today(TestDatabase db) {
        return text(db, "SELECT to_char(now(), 'YYYYMMDD')");
    }
}
