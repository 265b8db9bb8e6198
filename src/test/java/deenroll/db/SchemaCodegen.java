package deenroll.db;

import org.jooq.codegen.GenerationTool;
import org.jooq.meta.jaxb.Configuration;
import org.jooq.meta.jaxb.Database;
import org.jooq.meta.jaxb.Generate;
import org.jooq.meta.jaxb.Generator;
import org.jooq.meta.jaxb.Jdbc;
import org.jooq.meta.jaxb.Target;

import java.nio.file.Path;

/**
 * Generates the jOOQ classes (package deenroll.db.schema) from a migrated
 * database. The SQL migrations are the source of truth; GeneratedSchemaTest
 * regenerates and compares, so committed classes cannot drift from them.
 */
final class SchemaCodegen {

    static final String PACKAGE = "deenroll.db.schema";

    private SchemaCodegen() {
    }

    static void generate(String jdbcUrl, Path sourceRoot) throws Exception {
        Configuration configuration = new Configuration()
                .withJdbc(new Jdbc().withDriver("org.postgresql.Driver").withUrl(jdbcUrl))
                .withGenerator(new Generator()
                        .withDatabase(new Database()
                                .withName("org.jooq.meta.postgres.PostgresDatabase")
                                .withInputSchema("public")
                                .withOutputSchemaToDefault(true)
                                .withExcludes("flyway_schema_history"))
                        .withGenerate(new Generate()
                                .withGeneratedAnnotation(false)
                                .withComments(true)
                                .withJavaTimeTypes(true)
                                .withRecords(true)
                                .withPojos(false)
                                .withDaos(false)
                                .withIndexes(false)
                                .withSequences(true))
                        .withTarget(new Target()
                                .withPackageName(PACKAGE)
                                .withDirectory(sourceRoot.toString())
                                .withClean(true)));
        GenerationTool.generate(configuration);
    }
}
