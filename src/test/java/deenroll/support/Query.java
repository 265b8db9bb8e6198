package deenroll.support;

import org.jooq.DSLContext;

/** One value from plain SQL with bind values, typed (jOOQ's fetchValue(String, Object...) would take the type as a bind value). */
public final class Query {

    private Query() {
    }

    public static <T> T value(DSLContext dsl, Class<T> type, String sql, Object... binds) {
        return dsl.fetchOne(sql, binds).get(0, type);
    }
}
