package deenroll.engine;

import deenroll.alert.AlertSink;
import deenroll.support.Fixtures;
import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The engine tells a progress listener where the invocation stands after each slice, and a listener cannot hurt a run. */
class EngineProgressTest {

    private static final RunRequest ALL = new RunRequest(Optional.empty(), RunType.SCHEDULED, 7, Duration.ofMinutes(2),
            Duration.ofSeconds(90), false, false);

    @Test
    void afterTheLastSliceEveryClientIsDoneAndEveryLeadCounted() {
        try (TestDatabase db = twoClients()) {
            List<Progress> seen = new ArrayList<>();

            Invocation inv = Engine.on(db.db(), AlertSink.NONE, Clock.systemUTC(), new StopSignal())
                    .reporting(p -> seen.add(p.get())).run(ALL);

            assertThat(inv.totals().deEnrolled()).isEqualTo(50);
            assertThat(seen).isNotEmpty();
            Progress last = seen.get(seen.size() - 1);
            assertThat(last.clientsDone()).isEqualTo(2);
            assertThat(last.clientsTotal()).isEqualTo(2);
            assertThat(last.leadsDeEnrolled()).isEqualTo(50);
            assertThat(last.budgetLeft()).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(2));
            assertThat(seen).extracting(Progress::leadsDeEnrolled).isSorted();
        }
    }

    @Test
    void aListenerThatFailsChangesNothing() {
        try (TestDatabase db = twoClients()) {
            Invocation inv = Engine.on(db.db(), AlertSink.NONE, Clock.systemUTC(), new StopSignal())
                    .reporting(p -> {
                        throw new IllegalStateException("terminal gone");
                    }).run(ALL);

            assertThat(inv.status()).isEqualTo(InvocationStatus.SUCCESS);
            assertThat(inv.totals().deEnrolled()).isEqualTo(50);
        }
    }

    private static TestDatabase twoClients() {
        TestDatabase db = TestPostgres.get().migrated();
        Fixtures f = new Fixtures(db.db().dsl());
        UUID acme = f.client("Acme");
        f.leads(acme, f.campaign(acme, 2), 2, 30);
        UUID beta = f.client("Beta");
        f.leads(beta, f.campaign(beta, 3), 3, 20);
        f.recount();
        return db;
    }
}
