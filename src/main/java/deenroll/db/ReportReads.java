package deenroll.db;

import org.jooq.DSLContext;

import java.util.function.Function;

/**
 * The queries of one monitoring report (health-check's rules, report daily and
 * weekly, verify) in one transaction, with JIT compilation off in it.
 *
 * <p>PostgreSQL compiles a query with LLVM when its estimated cost passes
 * jit_above_cost, and the estimates of these queries are far above what they
 * read: the stuck leads walk every campaign's slice of the pending index
 * (estimated 1.2M, 950 rows read), the health view probes each client's last
 * day. With 2,000 clients and 90 days of runs the compilation took 0.15 to
 * 2.7 s per query, more than the queries themselves. Set per transaction
 * (SET LOCAL), not per session: behind a transaction pooler a session setting
 * would land on another connection. The one transaction also gives the
 * report's queries one snapshot and one now().
 */
public final class ReportReads {

    private ReportReads() {
    }

    public static <T> T inOneTransaction(DSLContext dsl, Function<DSLContext, T> reads) {
        return dsl.transactionResult(cfg -> {
            DSLContext tx = cfg.dsl();
            tx.execute("SET LOCAL jit = off");
            return reads.apply(tx);
        });
    }
}
