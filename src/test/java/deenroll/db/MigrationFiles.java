package deenroll.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The migration and rollback files as shipped in db/, read as text (tests run from the project directory). */
final class MigrationFiles {

    private MigrationFiles() {
    }

    static String migration(int version) {
        return read(Path.of("db/migration"), "V" + version + "__");
    }

    static String rollback(int version) {
        return read(Path.of("db/rollback"), "U" + version + "__");
    }

    private static String read(Path dir, String prefix) {
        try (Stream<Path> files = Files.list(dir)) {
            Path file = files.filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no " + prefix + "*.sql in " + dir.toAbsolutePath()));
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
