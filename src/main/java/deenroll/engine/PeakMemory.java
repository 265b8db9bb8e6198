package deenroll.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's peak resident memory (Linux VmHWM), in MB; the JVM's committed heap elsewhere. */
final class PeakMemory {

    private PeakMemory() {
    }

    static int megabytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return (int) (kb / 1024);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: fall through
        }
        return (int) (Runtime.getRuntime().totalMemory() / (1024 * 1024));
    }
}
