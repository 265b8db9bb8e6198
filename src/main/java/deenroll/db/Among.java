package deenroll.db;

import org.jooq.Condition;
import org.jooq.Field;
import org.jooq.impl.DSL;

/**
 * "{@code field} is one of these values", however many: one array parameter
 * (a bind per value would hit the protocol's limit of 65,535), unnested once.
 * Not {@code = ANY(cast(? as uuid[]))}: jOOQ sends the array as text, and a
 * cast from text is not folded into a constant, so PostgreSQL parsed the whole
 * array again for every row it compared (2,000 clients: 2,000 x 2,000 uuids,
 * seconds of the engine's report).
 */
public final class Among {

    private Among() {
    }

    public static <T> Condition among(Field<T> field, T[] values) {
        return field.in(DSL.select(DSL.field("unnest({0})", field.getType(), DSL.val(values))));
    }
}
