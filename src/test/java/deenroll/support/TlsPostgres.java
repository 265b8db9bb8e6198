package deenroll.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * An embedded PostgreSQL of its own with {@code ssl=on}, serving the
 * certificate chain a test made ({@link TestCertificates}); the suite's shared
 * server stays without TLS. Its one database {@code app} holds the host schema.
 */
public final class TlsPostgres implements AutoCloseable {

    private final EmbeddedPostgres postgres;

    private TlsPostgres(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    public static TlsPostgres start(TestCertificates certificates) {
        try {
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("fsync", "off")
                    .setServerConfig("ssl", "on")
                    .setServerConfig("ssl_cert_file", certificates.serverCert.toString())
                    .setServerConfig("ssl_key_file", certificates.serverKey.toString())
                    .start();
            TlsPostgres server = new TlsPostgres(postgres);
            server.execute("postgres", "CREATE DATABASE app");
            server.execute("app", TestPostgres.hostSchema());
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL with TLS: " + e.getMessage(), e);
        }
    }

    public int port() {
        return postgres.getPort();
    }

    private void execute(String database, String sql) {
        String url = "jdbc:postgresql://localhost:" + port() + "/" + database + "?user=postgres&sslmode=disable";
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
