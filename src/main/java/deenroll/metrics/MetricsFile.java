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

    /** What the file holds now; {@link Published#NOTHING} when there is none or it cannot be read. */
    public Published published() {
        try {
            return Published.fromText(Files.readString(file));
        } catch (IOException e) {
            return Published.NOTHING;
        }
    }
}
