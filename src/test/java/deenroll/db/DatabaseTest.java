package deenroll.db;

import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pool's driver settings reach the driver. Behind a transaction pooler a
 * named server-side statement lives on one server connection and is missing
 * (26000) or already taken (42P05) on the next, so a statement run many times on
 * one pooled connection must leave none on the server.
 */
class DatabaseTest {

    @Test
    void aStatementRunManyTimesOnOneConnectionLeavesNoNamedStatementOnTheServer() throws SQLException {
        try (TestDatabase db = TestPostgres.get().migrated();
             Database database = Database.open(db.target(), Duration.ofSeconds(10), Duration.ofMinutes(1));
             Connection c = database.dataSource().getConnection()) {
            assertThat(c.unwrap(PGConnection.class).getPrepareThreshold()).as("the driver's prepareThreshold").isZero();
            // pgjdbc's default threshold (5) would make the fifth execution a named statement
            for (int i = 0; i < 10; i++) {
                try (PreparedStatement p = c.prepareStatement("SELECT count(*) FROM leads WHERE client_id IS DISTINCT FROM ?::uuid")) {
                    p.setString(1, "00000000-0000-0000-0000-00000000000" + i);
                    p.executeQuery().close();
                }
                database.dsl().fetchValue("SELECT de_enrollment_schema_version()");
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_prepared_statements")) {
                rs.next();
                assertThat(rs.getInt(1)).as("named statements on this connection's server session").isZero();
            }
        }
    }
}
