package deenroll.cli;

import deenroll.config.Config;
import deenroll.config.LibpqTls;
import deenroll.db.Database;
import deenroll.support.Cli;
import deenroll.support.Query;
import deenroll.support.TestCertificates;
import deenroll.support.TlsPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * TLS as libpq does it, against an embedded PostgreSQL with ssl=on serving a
 * chain the test made: verify-full passes with the right root and fails with
 * exit 4 and one clear line for a wrong root or a host name the certificate
 * does not cover; the PGSSL* variables apply with DATABASE_URL unless the URL
 * says otherwise; require verifies when there is a root certificate; and a
 * connection to another machine that verifies nothing is warned about, once.
 */
class TlsTest {

    @TempDir
    static Path dir;
    private static TestCertificates certificates;
    private static TlsPostgres server;

    @BeforeAll
    static void start() {
        certificates = TestCertificates.in(dir);
        server = TlsPostgres.start(certificates);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String url(String host, String parameters) {
        return "jdbc:postgresql://" + host + ":" + server.port() + "/app?user=postgres" + parameters;
    }

    private static Cli.Result migrate(Map<String, String> env) {
        return Cli.run(env, "migrate");
    }

    @Test
    void verifyFullWithTheRightRootConnectsOverTls() {
        Map<String, String> env = Map.of("DATABASE_URL",
                url("localhost", "&sslmode=verify-full&sslrootcert=" + certificates.rootCert));

        Cli.Result r = migrate(env);

        assertThat(r.exitCode()).as("migrate: %s", r.err()).isZero();
        try (Database db = Database.open(new Config(env).database(null), Duration.ofSeconds(10), Duration.ofMinutes(1))) {
            assertThat(Query.value(db.dsl(), Boolean.class, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                    .as("the session is encrypted").isTrue();
        }
    }

    @Test
    void verifyFullWithAWrongRootIsExit4WithOneLineNamingTheCertificate() {
        Cli.Result r = migrate(Map.of("DATABASE_URL",
                url("localhost", "&sslmode=verify-full&sslrootcert=" + certificates.wrongRootCert)));

        assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCode.DATABASE);
        assertOneLineAboutTheCertificate(r);
    }

    @Test
    void verifyFullToAHostNameTheCertificateDoesNotCoverIsExit4() {
        // the certificate is for localhost; 127.0.0.1 is the same server under a name it does not name
        Cli.Result full = migrate(Map.of("DATABASE_URL",
                url("127.0.0.1", "&sslmode=verify-full&sslrootcert=" + certificates.rootCert)));
        Cli.Result ca = migrate(Map.of("DATABASE_URL",
                url("127.0.0.1", "&sslmode=verify-ca&sslrootcert=" + certificates.rootCert)));

        assertThat(full.exitCode()).as(full.err()).isEqualTo(ExitCode.DATABASE);
        assertOneLineAboutTheCertificate(full);
        assertThat(full.err()).contains("127.0.0.1");
        assertThat(ca.exitCode()).as("verify-ca checks the chain, not the name: %s", ca.err()).isZero();
    }

    @Test
    void pgSslVariablesApplyWhenDatabaseUrlLacksThem() {
        Map<String, String> wrong = Map.of("DATABASE_URL", url("localhost", ""),
                "PGSSLMODE", "verify-full", "PGSSLROOTCERT", certificates.wrongRootCert.toString());
        Map<String, String> right = Map.of("DATABASE_URL", url("localhost", ""),
                "PGSSLMODE", "verify-full", "PGSSLROOTCERT", certificates.rootCert.toString());

        Cli.Result refused = migrate(wrong);
        Cli.Result accepted = migrate(right);

        assertThat(refused.exitCode()).as("PGSSLMODE=verify-full is honoured: %s", refused.err()).isEqualTo(ExitCode.DATABASE);
        assertThat(accepted.exitCode()).as(accepted.err()).isZero();
    }

    @Test
    void theUrlsOwnSslParametersWinOverTheVariables() {
        Map<String, String> env = Map.of("DATABASE_URL",
                url("localhost", "&sslmode=verify-full&sslrootcert=" + certificates.rootCert),
                "PGSSLMODE", "disable", "PGSSLROOTCERT", certificates.wrongRootCert.toString());

        Cli.Result r = migrate(env);

        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    @Test
    void requireVerifiesTheServerWhenARootCertificateIsThere() {
        assumeFalse(Files.exists(LibpqTls.defaultRootCert()), "this machine has a ~/.postgresql/root.crt");
        Cli.Result withWrongRoot = migrate(Map.of("DATABASE_URL", url("localhost", "&sslmode=require"),
                "PGSSLROOTCERT", certificates.wrongRootCert.toString()));
        Cli.Result withoutRoot = migrate(Map.of("DATABASE_URL", url("localhost", "&sslmode=require")));

        assertThat(withWrongRoot.exitCode()).as("libpq: require with a root certificate acts as verify-ca: %s",
                withWrongRoot.err()).isEqualTo(ExitCode.DATABASE);
        assertOneLineAboutTheCertificate(withWrongRoot);
        assertThat(withoutRoot.exitCode()).as("no root certificate: encrypted, unverified: %s", withoutRoot.err()).isZero();
    }

    @Test
    void aConnectionToAnotherMachineThatVerifiesNothingIsWarnedAboutOnce() {
        Map<String, String> remote = new HashMap<>(Map.of("DATABASE_URL", "postgres://app:S3cret@db.invalid:5432/app?sslmode=require"));
        var unverified = ProcessStreams.capture(() -> Cli.run(remote, "migrate"));
        remote.put("DATABASE_URL", "postgres://app:S3cret@db.invalid:5432/app?sslmode=verify-full");
        var verified = ProcessStreams.capture(() -> Cli.run(remote, "migrate"));
        var local = ProcessStreams.capture(() -> Cli.run(Map.of("DATABASE_URL", url("localhost", "&sslmode=require")), "migrate"));

        Pattern warning = Pattern.compile("WARN.*db\\.invalid:5432/app does not verify the server's certificate \\(sslmode=require\\)");
        assertThat(unverified.value().exitCode()).isEqualTo(ExitCode.DATABASE);
        assertThat(warning.matcher(unverified.text()).results().count()).as(unverified.text()).isEqualTo(1);
        assertThat(verified.text()).doesNotContain("does not verify");
        assertThat(local.text()).as("localhost has no network to guard").doesNotContain("does not verify");
    }

    private static void assertOneLineAboutTheCertificate(Cli.Result r) {
        assertThat(r.err().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).startsWith("deenroll: cannot connect to the database at ").containsIgnoringCase("certificate");
    }
}
