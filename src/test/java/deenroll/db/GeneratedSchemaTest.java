package deenroll.db;

import deenroll.support.TestDatabase;
import deenroll.support.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The committed jOOQ classes are exactly what the migrations generate.
 * To regenerate after changing a migration:
 * {@code ./mvnw test -Dtest=GeneratedSchemaTest -Ddeenroll.codegen.write=true}
 */
class GeneratedSchemaTest {

    private static final Path COMMITTED = Paths.get("src/main/java/deenroll/db/schema");

    @Test
    void committedClassesMatchTheMigratedSchema(@TempDir Path tmp) throws Exception {
        try (TestDatabase db = TestPostgres.get().migrated()) {
            boolean write = Boolean.getBoolean("deenroll.codegen.write");
            Path root = write ? Paths.get("src/main/java") : tmp;
            SchemaCodegen.generate(db.jdbcUrl(), root);
            if (write) {
                return;
            }
            Map<String, String> generated = read(tmp.resolve("deenroll/db/schema"));
            Map<String, String> committed = read(COMMITTED);
            assertThat(committed.keySet())
                    .as("generated files (regenerate with -Ddeenroll.codegen.write=true)")
                    .containsExactlyElementsOf(generated.keySet());
            generated.forEach((file, text) -> assertThat(committed.get(file))
                    .as("%s differs from what the migrations generate", file)
                    .isEqualTo(text));
        }
    }

    private static Map<String, String> read(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.filter(Files::isRegularFile)::iterator) {
                files.put(dir.relativize(p).toString(), Files.readString(p));
            }
        }
        return files;
    }
}
