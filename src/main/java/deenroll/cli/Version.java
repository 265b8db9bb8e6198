package deenroll.cli;

import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * `--version`: the version and the git commit it was built from, as Maven
 * wrote them into deenroll/build.properties: a resource, so the answer is the
 * same from the jar, from tests and from an IDE.
 */
final class Version implements IVersionProvider {

    @Override
    public String[] getVersion() throws IOException {
        Properties build = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("/deenroll/build.properties")) {
            if (in != null) {
                build.load(in);
            }
        }
        String version = build.getProperty("version", "(development build)");
        String commit = build.getProperty("commit", "unknown");
        return new String[] {"deenroll " + version + " (commit " + commit + ")"};
    }
}
