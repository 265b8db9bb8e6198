package deenroll.cli;

import picocli.CommandLine.IVersionProvider;

/** `--version`: the version the jar's manifest carries. */
final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Version.class.getPackage().getImplementationVersion();
        return new String[] {"deenroll " + (version == null ? "(development build)" : version)};
    }
}
