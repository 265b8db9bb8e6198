import deenroll.ops.EmbeddedServer;
import deenroll.ops.SampleData;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Arrays;

/**
 * The database of the n8n test, from the deenroll jar alone (no psql, no
 * Docker): {@code serve FILE NAME...} starts an embedded PostgreSQL with a
 * database per NAME (one per workflow under test), each with the host schema
 * and sample data, writes a line "jdbcUrl finishedLeads" per database to FILE
 * and keeps the server up until the process is stopped; {@code sql URL
 * STATEMENT} runs one statement against one of them.
 */
public final class SampleDatabase {

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("sql")) {
            try (Connection c = DriverManager.getConnection(args[1]); Statement s = c.createStatement()) {
                s.execute(args[2]);
            }
            return;
        }
        if (args.length < 3 || !args[0].equals("serve")) {
            System.err.println("usage: SampleDatabase serve FILE NAME... | sql JDBC_URL STATEMENT");
            System.exit(2);
        }
        EmbeddedServer server = EmbeddedServer.start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        StringBuilder lines = new StringBuilder();
        for (String name : Arrays.copyOfRange(args, 2, args.length)) {
            try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres")); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + name);
            }
            String url = server.jdbcUrl(name);
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                 InputStream schema = SampleDatabase.class.getResourceAsStream("/host-schema.sql")) {
                s.execute(new String(schema.readAllBytes(), StandardCharsets.UTF_8));
                lines.append(url).append(' ').append(new SampleData().load(c, 50).finished()).append('\n');
            }
        }
        Files.writeString(Path.of(args[1]), lines);
        Thread.currentThread().join();
    }
}
