package deenroll.support;

import deenroll.cli.Main;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.Map;

/** Runs the command line in-process, with its own environment, capturing stdout and stderr. */
public final class Cli {

    public record Result(int exitCode, String out, String err) {
    }

    private Cli() {
    }

    /** Runs with only {@code env} as environment (nothing leaks in from the machine running the tests). */
    public static Result run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), new HashMap<>(env), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Runs against {@code db} (DATABASE_URL set to it) plus {@code extraEnv}. */
    public static Result run(TestDatabase db, Map<String, String> extraEnv, String... args) {
        Map<String, String> env = new HashMap<>(extraEnv);
        env.put("DATABASE_URL", db.jdbcUrl());
        return run(env, args);
    }

    public static Result run(TestDatabase db, String... args) {
        return run(db, Map.of(), args);
    }
}
