package deenroll.cli;

import picocli.CommandLine;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one line said about a command line picocli could not parse, without
 * echoing what was typed as a value: a mistyped {@code --databse-url=postgres://u:pw@...}
 * is named as {@code --databse-url=…}. Option names and plain words (a mistyped
 * command, an enum value) are shown; anything else is a value that may hold a
 * password or a token, and is shown as {@code …}.
 */
final class ParseErrors {

    private static final Pattern QUOTED = Pattern.compile("'([^']*)'");
    private static final Pattern OPTION = Pattern.compile("(--?[A-Za-z0-9][\\w-]*)(=.*)?", Pattern.DOTALL);
    private static final Pattern WORD = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,39}");

    private ParseErrors() {
    }

    static String line(CommandLine.ParameterException e) {
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
            List<String> args = unmatched.getUnmatched();
            return (args.size() == 1 ? "Unknown option or argument: " : "Unknown options or arguments: ")
                    + args.stream().map(a -> "'" + shown(a) + "'").collect(Collectors.joining(", "));
        }
        String first = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
        return QUOTED.matcher(first).replaceAll(m -> Matcher.quoteReplacement("'" + shown(m.group(1)) + "'"));
    }

    private static String shown(String arg) {
        Matcher option = OPTION.matcher(arg);
        if (option.matches()) {
            return option.group(2) == null ? arg : option.group(1) + "=…";
        }
        return WORD.matcher(arg).matches() ? arg : "…";
    }
}
