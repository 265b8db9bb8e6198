package deenroll.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.OptionalDouble;

/**
 * A metrics file for node_exporter's textfile collector. It is written to a
 * temporary file in the same directory and renamed over the old one, so a
 * scrape never reads half a file. (node_exporter only reads *.prom, so the
 * temporary file's name does not end in .prom.)
 */
public final class MetricsFile {

    private final Path file;

    public MetricsFile(Path file) {
        this.file = file;
    }

    public Path path() {
        return file;
    }

    public void write(MetricSnapshots metrics) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                PrometheusTextFormatWriter.create().write(out, metrics);
            }
            // temporary files are private; node_exporter usually runs as another user
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The value of an unlabelled sample in the file as it is now, if there. */
    public OptionalDouble value(String metric) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            return OptionalDouble.empty();
        }
        for (String line : lines) {
            if (line.startsWith(metric + " ")) {
                try {
                    return OptionalDouble.of(Double.parseDouble(line.substring(metric.length() + 1).trim()));
                } catch (NumberFormatException e) {
                    return OptionalDouble.empty();
                }
            }
        }
        return OptionalDouble.empty();
    }
}
