package deenroll.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The migration and rollback files as shipped in db/, read as text (tests run from the project directory). */
final class MigrationFiles {

    private MigrationFiles() {
    }

    /** The versions of db/migration, oldest first. */
    static List<Integer> versions() {
        try (Stream<Path> files = Files.list(Path.of("db/migration"))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("V\\d+__.*\\.sql"))
                    .map(n -> Integer.valueOf(n.substring(1, n.indexOf("__"))))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Flyway's history after `migrate` on a host database: the baseline at 18, then every migration. */
    static List<String> history(String baseline, String applied) {
        List<String> rows = new ArrayList<>(List.of("18 " + baseline));
        versions().forEach(v -> rows.add(v + " " + applied));
        return rows;
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
