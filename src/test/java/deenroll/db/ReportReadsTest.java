package deenroll.db;

import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.jooq.Field;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A report's reads run in one transaction with JIT off, and leave the connection's session as it was. */
class ReportReadsTest {

    private static final Field<String> JIT = DSL.field("current_setting('jit')", String.class);
    private static final Field<Long> TRANSACTION = DSL.field("txid_current()", Long.class);

    @Test
    void jitIsOffForTheReadsOnlyAndTheyShareOneTransaction() {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            db.db().dsl().connection(c -> {
                var session = DSL.using(c, SQLDialect.POSTGRES);
                session.execute("SET jit = on");
                String inside = ReportReads.inOneTransaction(session, tx -> tx.fetchValue(JIT));
                boolean oneTransaction = ReportReads.inOneTransaction(session, tx ->
                        tx.fetchValue(TRANSACTION).equals(tx.fetchValue(TRANSACTION)));
                assertThat(inside).isEqualTo("off");
                assertThat(oneTransaction).isTrue();
                assertThat(session.fetchValue(JIT)).isEqualTo("on");
            });
        }
    }
}
