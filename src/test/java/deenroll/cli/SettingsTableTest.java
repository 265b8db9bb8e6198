package deenroll.cli;

import deenroll.config.Setting;
import deenroll.config.Settings;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/configuration.md's table of settings is generated from the registry
 * ({@link Settings}) and the commands' picocli model, so it cannot describe a
 * setting, variable, default or range that the code does not have; and every
 * option of every command is either a setting of the registry or one of the
 * few arguments that are not settings. Regenerate after changing a setting:
 * {@code ./mvnw -B -o test -Dtest=SettingsTableTest -Ddeenroll.settings.write=true}.
 */
class SettingsTableTest {

    private static final Path DOC = Path.of("docs", "configuration.md");
    private static final String BEGIN = "<!-- settings table: generated from deenroll.config.Settings by SettingsTableTest -->";
    private static final String END = "<!-- end of settings table -->";
    private static final String REGENERATE = "./mvnw -B -o test -Dtest=SettingsTableTest -Ddeenroll.settings.write=true";
    /** Options that are what to act on, not how: no variable, no default to configure. */
    private static final Set<String> ARGUMENTS = Set.of("--client-id", "--output", "--format", "--from", "--to", "--reason",
            "--help", "--version", "--all-clients", "--dry-run", "--ignore-pause", "--health-check", "--replace",
            "--with-history", "--yes", "--force");

    @Test
    void theDocumentedTableIsTheRegistry() throws IOException {
        String doc = Files.readString(DOC);
        String table = table();
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        assertThat(begin).as("%s has the markers", DOC).isNotNegative();
        String current = doc.substring(begin + BEGIN.length(), end);
        if (Boolean.getBoolean("deenroll.settings.write")) {
            Files.writeString(DOC, doc.substring(0, begin + BEGIN.length()) + table + doc.substring(end));
            current = table;
        }
        assertThat(current).as("%s is out of date; regenerate: %s", DOC, REGENERATE).isEqualTo(table);
    }

    @Test
    void everyOptionOfEveryCommandIsASettingOrAnArgument() {
        Set<String> settingOptions = Settings.all().stream().map(s -> optionName(s.option())).collect(Collectors.toSet());
        Settings.THRESHOLDS.forEach(t -> t.aliases().forEach(a -> settingOptions.add(a.option())));
        commands().forEach((command, options) -> options.forEach(o -> assertThat(
                settingOptions.contains(o.longestName()) || ARGUMENTS.contains(o.longestName())
                        || o.names().length > 1 && settingOptions.contains(o.shortestName()))
                .as("%s %s: a setting of deenroll.config.Settings, or an argument", command, o.longestName()).isTrue()));
    }

    @Test
    void everySettingIsAnOptionOfACommandThatNamesItsVariable() {
        for (Setting<?> s : Settings.all()) {
            List<String> where = commandsOf(s);
            assertThat(where).as("commands with %s", s.option()).isNotEmpty();
            if (s.variable().isPresent() && !s.option().contains(" ")) {
                commands().forEach((command, options) -> options.stream().filter(o -> matches(o, s))
                        .forEach(o -> assertThat(String.join(" ", o.description()))
                                .as("%s %s's help names its variable", command, s.option()).contains(s.variable().get())));
            }
        }
        Settings.THRESHOLDS.forEach(t -> t.aliases().forEach(a -> assertThat(commandsOf(a)).as(a.option()).isNotEmpty()));
    }

    /** The table: one row per setting, its older aliases with it, the commands that take it from the model. */
    static String table() {
        StringBuilder out = new StringBuilder("\n| option | variable | default | accepts | commands |\n|---|---|---|---|---|\n");
        Map<String, List<String>> aliases = new LinkedHashMap<>();
        Settings.THRESHOLDS.forEach(t -> aliases.put(t.setting().option(),
                t.aliases().stream().map(Setting::option).toList()));
        for (Setting<?> s : Settings.all()) {
            List<String> names = new ArrayList<>();
            names.add("`" + s.option() + (s.option().startsWith("-w ") || s.option().startsWith("-c ") ? "=RANGE`" : "`"));
            aliases.getOrDefault(s.option(), List.of()).forEach(a -> names.add("`" + a + "`"));
            out.append("| ").append(String.join(", ", names))
                    .append(" | ").append(s.variable().map(v -> "`" + v + "`").orElse("—"))
                    .append(" | ").append(s.defaultText().equals("—") ? "—" : "`" + s.defaultText() + "`")
                    .append(" | ").append(s.accepted().replace("|", "\\|")).append(s.secret() ? " (a secret: never echoed)" : "")
                    .append(" | ").append(String.join(", ", commandsOf(s))).append(" |\n");
        }
        return out.toString();
    }

    /**
     * The commands with the setting's option. Two settings sharing an option
     * (run's and migrate-stuck-leads' --max-runtime) are told apart by the
     * default each command's help names.
     */
    private static List<String> commandsOf(Setting<?> s) {
        Map<String, OptionSpec> with = new LinkedHashMap<>();
        commands().forEach((command, options) -> options.stream().filter(o -> matches(o, s)).findFirst()
                .ifPresent(o -> with.put(command, o)));
        List<String> narrowed = with.entrySet().stream()
                .filter(e -> String.join(" ", e.getValue().description()).contains("default " + s.defaultText()))
                .map(Map.Entry::getKey).toList();
        return narrowed.isEmpty() ? List.copyOf(with.keySet()) : narrowed;
    }

    private static boolean matches(OptionSpec o, Setting<?> s) {
        return List.of(o.names()).contains(optionName(s.option()));
    }

    /** "-w stuck_leads" is the option -w; "-t/--timeout" is -t. */
    private static String optionName(String option) {
        return option.split("[ /]")[0];
    }

    /** Each command's own options (help and version aside), by its qualified name. */
    private static Map<String, List<OptionSpec>> commands() {
        StringWriter ignored = new StringWriter();
        CliContext ctx = new CliContext(new PrintWriter(ignored), new PrintWriter(ignored), Map.of(), Clock.systemUTC(), false);
        Map<String, List<OptionSpec>> commands = new LinkedHashMap<>();
        add(Main.model(ctx), commands);
        return commands;
    }

    private static void add(CommandLine command, Map<String, List<OptionSpec>> commands) {
        String name = command.getCommandSpec().qualifiedName(" ");
        commands.put(name.equals("deenroll") ? "deenroll" : name.substring("deenroll ".length()),
                command.getCommandSpec().options().stream().filter(o -> !o.usageHelp() && !o.versionHelp()).toList());
        command.getSubcommands().values().forEach(sub -> add(sub, commands));
    }
}
